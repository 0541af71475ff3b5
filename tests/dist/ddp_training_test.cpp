// Data-parallel training end to end (run under mpirun -np 2 by ctest's dist_mpi_np2): two
// ranks with the global batch split between them end with the weights one process gets
// from the same global batch and seed, and the ranks' shards are disjoint.
//
// Tolerance, after 8 steps: 1e-5 relative over all weights together, 5e-4 per tensor. Only
// the order of summation differs (two half-batch gradients averaged instead of one
// whole-batch sum; batch-norm statistics combined from two halves with --sync-bn), which
// moves float32 results by ~1e-7 per operation; the batch-norm shifts (sums of gradients
// that nearly cancel, small norms) show it most, measured 7e-5. A wrong shard, a missing
// average or rank-local batch-norm statistics move the weights by 1e-2 or more.
#include <gtest/gtest.h>

#include "data/batch_loader.h"
#include "data/sources.h"
#include "engine/error.h"
#include "tests/dist/dist_test_util.h"
#include "train/trainer.h"

namespace convoy {
namespace {

using test::world;

constexpr int kTrainImages = 256, kTestImages = 200, kGlobalBatch = 32;

// The first images of the real CIFAR-10 archive (loaded once per process).
const data::CifarData& small_cifar() {
  static const data::CifarData subset = [] {
    data::LoadOptions load;
    load.train_batches = 1;
    data::CifarData all = data::load_cifar(CONVOY_TEST_ARCHIVE, load);
    data::CifarData s;
    s.source = all.source + " (first images)";
    auto take = [](const data::Dataset& d, int n) {
      data::Dataset out;
      out.class_names = d.class_names;
      out.origin = d.origin;
      out.images.assign(d.images.begin(), d.images.begin() + int64_t(n) * data::kImageBytes);
      out.labels.assign(d.labels.begin(), d.labels.begin() + n);
      return out;
    };
    s.train = take(all.train, kTrainImages);
    s.test = take(all.test, kTestImages);
    return s;
  }();
  return subset;
}

TrainOptions options(dist::Communicator* comm) {
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = kGlobalBatch;  // global
  o.schedule.kind = LrSchedule::Kind::constant;
  o.schedule.lr = 0.05;
  o.sgd.momentum = 0.9f;
  o.sgd.weight_decay = 5e-4f;
  o.label_smoothing = 0.1f;
  o.seed = 5;
  o.progress = false;
  o.eval_batch_size = 64;
  o.parallel.comm = comm;
  o.parallel.bucket_mb = 0.1;  // several buckets
  o.parallel.sync_batchnorm = true;
  return o;
}

Model trained(dist::Communicator* comm, std::vector<EpochMetrics>* history,
              dist::BucketCompression compression = dist::BucketCompression::none) {
  Model model = Model::from_spec("quick");
  model.class_names = small_cifar().train.class_names;
  model.init_params(3);
  Context ctx = Context::make(Device::cpu());
  ctx.seed = 5;
  TrainOptions o = options(comm);
  o.parallel.compression = compression;
  *history = train_model(model, ctx, small_cifar(), o);
  return model;
}

std::vector<float> all_weights(Model& m) {
  std::vector<float> all;
  for (Param* p : m.params()) {
    const std::vector<float> v = p->value.to_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

TEST(DataParallel, TwoRanksMatchOneProcessWithTheSameGlobalBatch) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  std::vector<EpochMetrics> dist_history, ref_history;
  Model model = trained(&comm, &dist_history);
  const auto params = model.params();

  // Every rank holds the same weights, bit for bit (same averaged gradients, same update).
  int64_t differing = 0;
  for (Param* p : params) {
    Tensor from_rank0 = p->value.clone();
    comm.broadcast(from_rank0, 0);
    differing += from_rank0.to_vector() != p->value.to_vector();
  }
  EXPECT_EQ(differing, 0);

  // One process, the same global batch and seed (every rank computes it; only its own time).
  Model reference = trained(nullptr, &ref_history);
  const auto ref_params = reference.params();
  ASSERT_EQ(params.size(), ref_params.size());
  double worst = 0;
  std::vector<float> all, ref_all;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::vector<float> a = params[i]->value.to_vector(), b = ref_params[i]->value.to_vector();
    const double e = test::rel_error(a, b);
    EXPECT_LT(e, 5e-4) << params[i]->name;
    worst = std::max(worst, e);
    all.insert(all.end(), a.begin(), a.end());
    ref_all.insert(ref_all.end(), b.begin(), b.end());
  }
  const double whole = test::rel_error(all, ref_all);
  EXPECT_LT(whole, 1e-5);
  const auto buffers = model.buffers(), ref_buffers = reference.buffers();
  for (std::size_t i = 0; i < buffers.size(); ++i)
    EXPECT_LT(test::rel_error(buffers[i].value->to_vector(), ref_buffers[i].value->to_vector()), 5e-4)
        << buffers[i].name;
  // And training moved the weights far more than the tolerance.
  Model initial = Model::from_spec("quick");
  initial.init_params(3);
  EXPECT_GT(test::rel_error(params[0]->value.to_vector(), initial.params()[0]->value.to_vector()), 1e-2);
  std::printf("rank %d: relative weight difference vs one process: %.3g overall, %.3g worst tensor\n", comm.rank(),
              whole, worst);

  // Metrics are over the whole global batch and the whole test set.
  ASSERT_EQ(dist_history.size(), 1u);
  EXPECT_NEAR(dist_history[0].train_loss, ref_history[0].train_loss, 1e-4);
  EXPECT_NEAR(dist_history[0].train_acc, ref_history[0].train_acc, 1e-9);
  EXPECT_NEAR(dist_history[0].test_acc, ref_history[0].test_acc, 1.0 / kTestImages + 1e-9);
}

TEST(DataParallel, RanksSeeDisjointShardsOfEveryGlobalBatch) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  const int W = comm.world_size();
  data::LoaderOptions lo;
  lo.batch_size = kGlobalBatch / W;  // what the trainer gives the loader
  lo.rank = comm.rank();
  lo.world_size = W;
  lo.seed = 5;
  data::BatchLoader loader(small_cifar().train, lo);
  std::vector<double> seen(kTrainImages, 0.0);
  loader.start_epoch(0);
  data::Batch batch;
  int64_t batches = 0;
  while (loader.next(batch)) {
    EXPECT_EQ(batch.size, kGlobalBatch / W);
    for (uint64_t id : batch.ids) seen[id] += 1;
    ++batches;
  }
  comm.allreduce_sum_host(seen);
  int64_t twice = 0, once = 0;
  for (double s : seen) {
    twice += s > 1;
    once += s == 1;
  }
  EXPECT_EQ(twice, 0) << "a sample went to two ranks";
  EXPECT_EQ(once, batches * kGlobalBatch) << "the ranks together cover whole global batches";
}

TEST(DataParallel, GlobalBatchMustSplitEvenly) {
  CONVOY_NEEDS_RANKS();
  TrainOptions o = options(world());
  o.batch_size = 33;
  Model model = Model::from_spec("quick");
  Context ctx = Context::make(Device::cpu());
  try {
    Trainer trainer(model, ctx, small_cifar(), o);
    ADD_FAILURE() << "a global batch of 33 over 2 ranks was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("33"), std::string::npos) << m;
    EXPECT_NE(m.find("2 ranks"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace convoy

namespace convoy {
namespace {

// --grad-compression: gradients rounded to 16 bits before the reduce. The weights after 8
// steps stay within 5e-4 (fp16) and 2e-3 (bf16) relative of the full-precision two-rank run
// (measured 8.2e-5 and 4.0e-4), yet differ from it (the compression really ran), and every
// rank still holds the same weights.
TEST(DataParallel, CompressedGradientsTrackTheFullPrecisionRun) {
  CONVOY_NEEDS_RANKS();
  dist::Communicator& comm = *world();
  std::vector<EpochMetrics> h;
  Model full = trained(&comm, &h);
  const std::vector<float> reference = all_weights(full);
  for (auto [c, tol] : {std::pair{dist::BucketCompression::fp16, 5e-4}, std::pair{dist::BucketCompression::bf16, 2e-3}}) {
    Model m = trained(&comm, &h, c);
    const std::vector<float> w = all_weights(m);
    const double e = test::rel_error(w, reference);
    EXPECT_LT(e, tol) << dist::to_string(c);
    EXPECT_GT(e, 0.0) << dist::to_string(c) << ": bit-identical to the uncompressed run";
    int64_t differing = 0;
    for (Param* p : m.params()) {
      Tensor from_rank0 = p->value.clone();
      comm.broadcast(from_rank0, 0);
      differing += from_rank0.to_vector() != p->value.to_vector();
    }
    EXPECT_EQ(differing, 0) << dist::to_string(c);
    std::printf("rank %d: %s gradients: relative weight difference vs float32 after 8 steps %.3g\n", comm.rank(),
                dist::to_string(c), e);
  }
}

TEST(DataParallel, CompressionNamesAreChecked) {
  EXPECT_EQ(dist::parse_compression("fp16"), dist::BucketCompression::fp16);
  EXPECT_EQ(dist::parse_compression("bf16"), dist::BucketCompression::bf16);
  EXPECT_EQ(dist::parse_compression("none"), dist::BucketCompression::none);
  EXPECT_THROW(dist::parse_compression("fp8"), Error);
}

}  // namespace
}  // namespace convoy
