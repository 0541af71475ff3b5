// --sync-bn: two ranks holding the halves of a batch, with synchronised statistics, give
// the outputs, input gradients, summed parameter gradients and running statistics of one
// batch-norm over the whole batch.
#include <gtest/gtest.h>

#include "layers/batchnorm_layer.h"
#include "tests/dist/dist_test_util.h"

namespace convoy {
namespace {

using test::world;

constexpr int kN = 6, kC = 5, kH = 3, kW = 4;
constexpr int64_t kSample = int64_t(kC) * kH * kW;

std::vector<float> rows(const std::vector<float>& v, int from, int count) {
  return std::vector<float>(v.begin() + from * kSample, v.begin() + (from + count) * kSample);
}

BatchNormLayer make_bn() {
  BatchNormLayer bn({kC, 1e-5f, 0.1f, true});
  bn.name_params("bn.");
  // Non-trivial affine parameters, identical on every rank.
  bn.params()[0]->value.copy_from(test::random_tensor({kC}, 5, 0.5f, 1.5f));
  bn.params()[1]->value.copy_from(test::random_tensor({kC}, 6, -0.5f, 0.5f));
  for (Param* p : bn.params()) p->grad = Tensor::zeros(p->value.shape());
  return bn;
}

// Two ranks each hold half of a batch drawn from [lo, hi); their synchronised layer must give
// what one layer gives over the whole batch, within `tol` (relative; dx gets 10x).
void expect_halves_match_whole_batch(float lo, float hi, uint64_t seed, double tol) {
  dist::Communicator& comm = *world();
  const int per_rank = kN / 2;
  const std::vector<float> X = test::random_vector(kN * kSample, seed, lo, hi);
  const std::vector<float> dY = test::random_vector(kN * kSample, seed + 1, -1.0f, 1.0f);

  // Reference: one layer over the whole batch, in this process.
  BatchNormLayer ref = make_bn();
  Context rctx = Context::make(Device::cpu());
  rctx.training = true;
  Tensor rx = Tensor::from_vector({kN, kC, kH, kW}, X), ry, rdx;
  Saved rsaved;
  ref.forward(rctx, rx, ry, &rsaved);
  ref.backward(rctx, Tensor::from_vector({kN, kC, kH, kW}, dY), rsaved, &rdx);

  // This rank's half, synchronised.
  BatchNormLayer bn = make_bn();
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  ctx.collective = &comm;
  ctx.sync_batchnorm = true;
  const int first = comm.rank() * per_rank;
  Tensor x = Tensor::from_vector({per_rank, kC, kH, kW}, rows(X, first, per_rank)), y, dx;
  Saved saved;
  bn.forward(ctx, x, y, &saved);
  bn.backward(ctx, Tensor::from_vector({per_rank, kC, kH, kW}, rows(dY, first, per_rank)), saved, &dx);

  EXPECT_LT(test::rel_error(y.to_vector(), rows(ry.to_vector(), first, per_rank)), tol);
  EXPECT_LT(test::rel_error(dx.to_vector(), rows(rdx.to_vector(), first, per_rank)), 10 * tol);
  for (int p = 0; p < 2; ++p) {  // local parameter gradients sum to the whole batch's
    Tensor g = bn.params()[p]->grad.clone();
    comm.allreduce_sum(g);
    EXPECT_LT(test::rel_error(g.to_vector(), ref.params()[p]->grad.to_vector()), tol) << "param " << p;
  }
  const auto buffers = bn.buffers(), ref_buffers = ref.buffers();
  for (std::size_t b = 0; b < buffers.size(); ++b)
    EXPECT_LT(test::rel_error(buffers[b].value->to_vector(), ref_buffers[b].value->to_vector()), tol)
        << buffers[b].name;
}

TEST(SyncBatchNorm, TwoHalvesMatchOneWholeBatch) {
  CONVOY_NEEDS_RANKS();
  if (world()->world_size() != 2) GTEST_SKIP() << "written for 2 ranks";
  // Shifted and scaled input, so the statistics are far from (0, 1).
  expect_halves_match_whole_batch(1.0f, 4.0f, 21, 1e-5);
}

// A mean 3,000 times the standard deviation (mean^2/var ~ 1e7): the global variance is a
// difference of two sums that nearly cancel. Combined in float32 they lost every digit (y was
// off by 40 times its own size); in double only the float32 rounding of each rank's mean is
// left.
TEST(SyncBatchNorm, StatisticsFarFromZeroCombineWithoutCancellation) {
  CONVOY_NEEDS_RANKS();
  if (world()->world_size() != 2) GTEST_SKIP() << "written for 2 ranks";
  expect_halves_match_whole_batch(1000.0f, 1001.0f, 41, 1e-3);
}

TEST(SyncBatchNorm, OneRankKeepsTheLocalPathBitForBit) {
  auto local = dist::make_local_communicator();
  const std::vector<float> X = test::random_vector(kN * kSample, 31, -2.0f, 3.0f);
  const std::vector<float> dY = test::random_vector(kN * kSample, 32);
  std::vector<std::vector<float>> results[2];
  for (int sync = 0; sync < 2; ++sync) {
    BatchNormLayer bn = make_bn();
    Context ctx = Context::make(Device::cpu());
    ctx.training = true;
    ctx.collective = local.get();
    ctx.sync_batchnorm = sync == 1;  // a world of one never synchronises
    Tensor x = Tensor::from_vector({kN, kC, kH, kW}, X), y, dx;
    Saved saved;
    bn.forward(ctx, x, y, &saved);
    bn.backward(ctx, Tensor::from_vector({kN, kC, kH, kW}, dY), saved, &dx);
    results[sync] = {y.to_vector(), dx.to_vector(), bn.params()[0]->grad.to_vector()};
  }
  EXPECT_EQ(results[0], results[1]);
}

}  // namespace
}  // namespace convoy
