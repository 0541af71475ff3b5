// The GPU input path (raw uint8 batches augmented by DeviceInput) gives exactly the tensor the
// host path gives; run here with the CPU kernels, and on a GPU by the GPU suites' trainer runs.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "data/batch_loader.h"
#include "data/sources.h"
#include "train/device_input.h"

namespace convoy {
namespace {

// Every batch of one epoch of `images` synthetic training images, loaded raw (uint8).
std::vector<data::Batch> raw_epoch(data::LoaderOptions raw, int images, uint64_t epoch) {
  data::LoadOptions lo;
  lo.synthetic_train = images;
  lo.synthetic_test = 10;
  auto d = data::load_cifar("synthetic", lo);
  raw.normalize_on_host = false;
  data::BatchLoader loader(d.train, raw);
  loader.start_epoch(epoch);
  std::vector<data::Batch> out;
  for (data::Batch b; loader.next(b);) out.push_back(b);
  return out;
}

std::vector<int32_t> labels_of(const Tensor& t) {
  return std::vector<int32_t>(t.data_as<int32_t>(), t.data_as<int32_t>() + t.numel());
}

TEST(DeviceInput, RawPathMatchesHostNormalisation) {
  data::LoadOptions lo;
  lo.synthetic_train = 300;
  lo.synthetic_test = 10;
  auto d = data::load_cifar("synthetic", lo);
  data::LoaderOptions host;
  host.batch_size = 64;
  host.augment = true;
  host.cutout = 8;
  host.seed = 5;
  data::LoaderOptions raw = host;
  raw.normalize_on_host = false;
  data::BatchLoader a(d.train, host), b(d.train, raw);
  a.start_epoch(3);
  b.start_epoch(3);
  data::Batch ba, bb;
  Context ctx = Context::make(Device::cpu());
  DeviceInput input;
  int batches = 0;
  while (a.next(ba)) {
    ASSERT_TRUE(b.next(bb));
    ASSERT_TRUE(bb.images.empty());
    ASSERT_EQ(bb.raw.size(), static_cast<size_t>(bb.size) * data::kImageBytes);
    Tensor xa, la, xb, lb;
    input.upload(ctx, ba, augment_args_for(host), xa, la);
    input.upload(ctx, bb, augment_args_for(raw), xb, lb);
    EXPECT_EQ(xa.to_vector(), xb.to_vector());
    EXPECT_EQ(labels_of(la), labels_of(lb));
    ++batches;
  }
  EXPECT_EQ(batches, 4);
}

// The trainer's order: batch k+1 is staged while batch k is still to be uploaded, so the
// two slots alternate; every upload finds its batch staged and the tensors match a fresh
// DeviceInput that stages nothing ahead. A smaller last batch (drop_last off) reuses a slot.
TEST(DeviceInput, StagedAheadMatchesUploadOnDemand) {
  data::LoaderOptions raw;
  raw.batch_size = 64;
  raw.drop_last = false;  // 4 batches of 64 and one of 44
  raw.cutout = 8;
  raw.seed = 9;
  const auto batches = raw_epoch(raw, 300, 2);
  ASSERT_EQ(batches.size(), 5u);
  ASSERT_EQ(batches.back().size, 300 - 4 * 64);

  Context ctx = Context::make(Device::cpu());
  const kernels::AugmentArgs args = augment_args_for(raw);
  DeviceInput ahead, on_demand;
  ahead.stage(ctx, batches[0]);
  for (size_t k = 0; k < batches.size(); ++k) {
    Tensor xa, la, xb, lb;
    ahead.upload(ctx, batches[k], args, xa, la);
    if (k + 1 < batches.size()) ahead.stage(ctx, batches[k + 1]);  // overwrites batch k-1's slot
    on_demand.upload(ctx, batches[k], args, xb, lb);
    ASSERT_EQ(xa.shape(), (Shape{batches[k].size, 3, 32, 32}));
    EXPECT_EQ(xa.to_vector(), xb.to_vector()) << "batch " << k;
    EXPECT_EQ(labels_of(la), batches[k].labels) << "batch " << k;
  }
  EXPECT_EQ(ahead.staged_hits(), 5);
  EXPECT_EQ(on_demand.staged_hits(), 0);
}

// A staged batch that is never uploaded (a run stopped after the prefetch) is not mistaken
// for another: the next upload stages its own batch.
TEST(DeviceInput, AnUnusedStagedBatchIsNotReused) {
  data::LoaderOptions raw;
  raw.batch_size = 64;
  const auto b = raw_epoch(raw, 256, 0);
  ASSERT_EQ(b.size(), 4u);
  const data::Batch &b0 = b[0], &b1 = b[1], &b2 = b[2];
  Context ctx = Context::make(Device::cpu());
  const kernels::AugmentArgs args = augment_args_for(raw);
  DeviceInput input, fresh;
  input.stage(ctx, b1);
  input.stage(ctx, b2);
  Tensor x, l, xf, lf;
  input.upload(ctx, b0, args, x, l);  // neither slot holds batch 0
  fresh.upload(ctx, b0, args, xf, lf);
  EXPECT_EQ(x.to_vector(), xf.to_vector());
  EXPECT_EQ(input.staged_hits(), 0);
  input.upload(ctx, b2, args, x, l);  // batch 2's slot survived batch 0's staging
  fresh.upload(ctx, b2, args, xf, lf);
  EXPECT_EQ(x.to_vector(), xf.to_vector());
  EXPECT_EQ(input.staged_hits(), 1);
}

}  // namespace
}  // namespace convoy
