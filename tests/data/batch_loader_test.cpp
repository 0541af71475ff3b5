// The batch loader: coverage, determinism, epochs, rank shards, ragged evaluation batches,
// restarts, resume, shutdown mid-epoch and worker errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "data/batch_loader.h"
#include "data_test_helpers.h"

namespace convoy::data {
namespace {

// n random images with labels i % 10.
Dataset random_dataset(int64_t n, uint64_t seed = 3) {
  Dataset d;
  d.origin = "test set";
  d.class_names = std::vector<std::string>(10, "c");
  d.images.resize(static_cast<size_t>(n) * kImageBytes);
  Rng rng(seed, 1);
  for (size_t i = 0; i < d.images.size(); ++i) d.images[i] = static_cast<uint8_t>(rng.bits_at(i));
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(i % 10));
  return d;
}

// All batches of one epoch.
std::vector<Batch> run_epoch(BatchLoader& loader, uint64_t epoch, int64_t skip = 0) {
  loader.start_epoch(epoch, skip);
  std::vector<Batch> out;
  Batch b;
  b.images = test::poisoned(7);
  while (loader.next(b)) out.push_back(b);
  return out;
}

std::vector<uint64_t> ids_of(const std::vector<Batch>& batches) {
  std::vector<uint64_t> ids;
  for (const Batch& b : batches) ids.insert(ids.end(), b.ids.begin(), b.ids.end());
  return ids;
}

TEST(BatchLoader, EverySampleOncePerEpochWithMatchingLabelsAndPixels) {
  Dataset d = random_dataset(1003);
  LoaderOptions o;
  o.batch_size = 64;
  o.drop_last = false;
  o.seed = 11;
  BatchLoader loader(d, o);
  EXPECT_EQ(loader.batches_per_epoch(), 16);
  std::vector<Batch> batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 16u);
  std::vector<uint64_t> ids = ids_of(batches);
  EXPECT_EQ(ids, loader.epoch_order(0));
  std::vector<uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  for (uint64_t i = 0; i < 1003; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_NE(ids, sorted);  // shuffled
  const ChannelStats s = o.stats;
  for (size_t k = 0; k < batches.size(); ++k) {
    const Batch& b = batches[k];
    EXPECT_EQ(b.index, static_cast<int64_t>(k));
    ASSERT_EQ(b.size, k + 1 < batches.size() ? 64 : 1003 - 15 * 64);
    ASSERT_EQ(b.images.size(), static_cast<size_t>(b.size) * kImageBytes);
    for (int i = 0; i < b.size; ++i) {
      ASSERT_EQ(b.labels[i], d.labels[b.ids[i]]);
      for (int p = 0; p < kImageBytes; p += 331) {
        int c = p / 1024;
        float want = (d.image(b.ids[i])[p] - s.mean[c]) / s.std[c];
        ASSERT_NEAR(b.images[static_cast<size_t>(i) * kImageBytes + p], want, 1e-5f);
      }
    }
  }
}

TEST(BatchLoader, DropLastDropsTheRaggedBatch) {
  Dataset d = random_dataset(1003);
  LoaderOptions o;
  o.batch_size = 100;
  BatchLoader loader(d, o);
  std::vector<Batch> batches = run_epoch(loader, 2);
  ASSERT_EQ(batches.size(), 10u);
  std::vector<uint64_t> ids = ids_of(batches);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 1000u);
}

TEST(BatchLoader, DeterministicForASeedDifferentAcrossEpochsAndSeeds) {
  Dataset d = random_dataset(517);
  LoaderOptions o;
  o.batch_size = 33;
  o.augment = true;
  o.cutout = 8;
  o.seed = 5;
  BatchLoader a(d, o), b(d, o);
  std::vector<Batch> a0 = run_epoch(a, 0), b0 = run_epoch(b, 0), a1 = run_epoch(a, 1);
  ASSERT_EQ(a0.size(), b0.size());
  for (size_t k = 0; k < a0.size(); ++k) {
    EXPECT_EQ(a0[k].ids, b0[k].ids);
    EXPECT_EQ(a0[k].images, b0[k].images);
    for (float v : a0[k].images) ASSERT_TRUE(std::isfinite(v));
  }
  EXPECT_NE(ids_of(a0), ids_of(a1));
  o.seed = 6;
  BatchLoader c(d, o);
  EXPECT_NE(ids_of(run_epoch(c, 0)), ids_of(a0));
}

TEST(BatchLoader, TwoRankShardsAreDisjointAndCoverEachGlobalBatch) {
  Dataset d = random_dataset(700);
  LoaderOptions o;
  o.batch_size = 50;
  o.world_size = 2;
  o.seed = 9;
  o.rank = 0;
  BatchLoader r0(d, o);
  o.rank = 1;
  BatchLoader r1(d, o);
  LoaderOptions single = o;
  single.world_size = 1, single.rank = 0, single.batch_size = 100;
  BatchLoader whole(d, single);
  ASSERT_EQ(r0.batches_per_epoch(), 7);
  ASSERT_EQ(r1.batches_per_epoch(), 7);
  std::vector<Batch> b0 = run_epoch(r0, 4), b1 = run_epoch(r1, 4), bw = run_epoch(whole, 4);
  ASSERT_EQ(b0.size(), 7u);
  for (size_t k = 0; k < 7; ++k) {
    std::vector<uint64_t> joined = b0[k].ids;
    joined.insert(joined.end(), b1[k].ids.begin(), b1[k].ids.end());
    EXPECT_EQ(joined, bw[k].ids) << "global batch " << k;  // rank r takes rows [r*B, (r+1)*B)
  }
  std::vector<uint64_t> i0 = ids_of(b0), i1 = ids_of(b1);
  std::set<uint64_t> all(i0.begin(), i0.end());
  all.insert(i1.begin(), i1.end());
  EXPECT_EQ(all.size(), 700u);
  EXPECT_EQ(r1.epoch_order(4), i1);
}

TEST(BatchLoader, EvaluationModeYieldsRaggedLastBatchInOrder) {
  Dataset d = random_dataset(251);
  LoaderOptions o;
  o.batch_size = 50;
  o.shuffle = false;
  o.drop_last = false;
  BatchLoader loader(d, o);
  std::vector<Batch> batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 6u);
  EXPECT_EQ(batches.back().size, 1);
  std::vector<uint64_t> ids = ids_of(batches);
  for (uint64_t i = 0; i < 251; ++i) ASSERT_EQ(ids[i], i);
  // Two ranks: the ragged tail is split between them and nothing is lost.
  o.world_size = 2;
  o.batch_size = 20;  // global 40: 6 full + 11 left
  o.rank = 0;
  BatchLoader e0(d, o);
  o.rank = 1;
  BatchLoader e1(d, o);
  std::vector<Batch> x0 = run_epoch(e0, 0), x1 = run_epoch(e1, 0);
  ASSERT_EQ(x0.size(), 7u);
  ASSERT_EQ(x1.size(), 7u);
  EXPECT_EQ(x0.back().size + x1.back().size, 11);
  std::vector<uint64_t> a = ids_of(x0), b = ids_of(x1);
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  for (uint64_t i = 0; i < 251; ++i) ASSERT_EQ(a[i], i);
}

TEST(BatchLoader, RestartMidEpochAndSkipBatchesForResume) {
  Dataset d = random_dataset(400);
  LoaderOptions o;
  o.batch_size = 32;
  o.augment = true;
  o.seed = 21;
  o.prefetch = 3;
  BatchLoader loader(d, o);
  std::vector<Batch> full = run_epoch(loader, 7);
  loader.start_epoch(3);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  ASSERT_TRUE(loader.next(b));
  std::vector<Batch> again = run_epoch(loader, 7);  // restarted while epoch 3 was prefetching
  ASSERT_EQ(again.size(), full.size());
  for (size_t k = 0; k < full.size(); ++k) {
    EXPECT_EQ(again[k].ids, full[k].ids);
    EXPECT_EQ(again[k].images, full[k].images);
  }
  std::vector<Batch> resumed = run_epoch(loader, 7, 5);
  ASSERT_EQ(resumed.size(), full.size() - 5);
  EXPECT_EQ(resumed[0].index, 5);
  EXPECT_EQ(resumed[0].ids, full[5].ids);
  EXPECT_EQ(resumed.back().images, full.back().images);
  EXPECT_THROW(loader.start_epoch(0, -1), Error);
  EXPECT_THROW(loader.start_epoch(0, loader.batches_per_epoch() + 1), Error);
}

TEST(BatchLoader, DestructorMidEpochDoesNotHang) {
  Dataset d = random_dataset(2000);
  auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < 5; ++round) {
    LoaderOptions o;
    o.batch_size = 16;
    o.prefetch = 4;
    BatchLoader loader(d, o);
    loader.start_epoch(round);
    Batch b;
    for (int k = 0; k < round; ++k) ASSERT_TRUE(loader.next(b));
  }
  { BatchLoader never_started(d, LoaderOptions{}); }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
}

TEST(BatchLoader, WorkerExceptionSurfacesFromNext) {
  Dataset d = random_dataset(100);
  LoaderOptions o;
  o.batch_size = 10;
  o.augment = true;
  o.crop_pad = -1;  // rejected by the augmentation kernel in the worker thread
  BatchLoader loader(d, o);
  loader.start_epoch(0);
  Batch b;
  std::string e = test::error_of([&] { loader.next(b); });
  EXPECT_NE(e.find("crop_pad"), std::string::npos) << e;
  EXPECT_FALSE(loader.next(b));  // the failed epoch is over
}

TEST(BatchLoader, RejectsBadOptionsAndEarlyNext) {
  Dataset d = random_dataset(10);
  LoaderOptions o;
  o.batch_size = 0;
  EXPECT_THROW(BatchLoader(d, o), Error);
  o.batch_size = 4;
  o.rank = 2;
  o.world_size = 2;
  EXPECT_THROW(BatchLoader(d, o), Error);
  o.rank = 0;
  BatchLoader loader(d, o);
  Batch b;
  EXPECT_THROW(loader.next(b), Error);
}

}  // namespace
}  // namespace convoy::data
