// CUDA batch-norm vs the double-precision CPU reference: training forward (output, saved
// statistics, running statistics with the unbiased variance), inference, backward with
// accumulated dgamma/dbeta, the fused ReLU both ways, and bit-identical reruns.
//
// Tolerances: outputs and statistics are checked to 1e-5 relative. The big-channel case
// (65,600 values per channel, offset mean 3) needs no more, because the statistics are
// accumulated in double around a pivot; dx is checked to 1e-4 because it is a difference
// of three float terms (g - mean(g) - xhat * mean(g xhat)) whose rounding, relative to the
// small result, is ~1e-6..1e-5.
#include <gtest/gtest.h>

#include "kernels/batchnorm.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

struct Case {
  int N, C, HW;
  float lo, hi;  // input range
};

void check_case(const Case& cs, bool relu) {
  const k::BatchNormShape s{cs.N, cs.C, cs.HW};
  const int64_t n = int64_t{cs.N} * cs.C * cs.HW;
  const auto x = random_vector(n, 61, cs.lo, cs.hi), dy = random_vector(n, 62);
  const auto gamma = random_vector(cs.C, 63, 0.5f, 1.5f), beta = random_vector(cs.C, 64);
  const auto rm0 = random_vector(cs.C, 65), rv0 = random_vector(cs.C, 66, 0.5f, 2.0f);
  const auto dg0 = random_vector(cs.C, 67), db0 = random_vector(cs.C, 68);
  const std::string where = std::to_string(cs.N) + "x" + std::to_string(cs.C) + "x" + std::to_string(cs.HW) +
                            (relu ? " relu" : "");

  // CPU reference.
  std::vector<float> y(n), mean(cs.C), invstd(cs.C), rm = rm0, rv = rv0, dx(n), dg = dg0, db = db0;
  k::BatchNormTrainArgs t;
  t.x = x.data(); t.gamma = gamma.data(); t.beta = beta.data(); t.y = y.data();
  t.save_mean = mean.data(); t.save_invstd = invstd.data(); t.running_mean = rm.data(); t.running_var = rv.data();
  t.momentum = 0.1f; t.eps = 1e-5f; t.relu = relu;
  k::cpu::batchnorm_forward_train_reference(s, t);
  k::BatchNormBackwardArgs b;
  b.x = x.data(); b.y = y.data(); b.dy = dy.data(); b.gamma = gamma.data(); b.beta = beta.data();
  b.save_mean = mean.data(); b.save_invstd = invstd.data(); b.dx = dx.data(); b.dgamma = dg.data(); b.dbeta = db.data();
  b.relu = relu;
  k::cpu::batchnorm_backward_reference(s, b);

  // Device.
  DeviceVec<float> d_x(x), d_dy(dy), d_gamma(gamma), d_beta(beta), d_y(poisoned(n)), d_mean(poisoned(cs.C)),
      d_invstd(poisoned(cs.C)), d_rm(rm0), d_rv(rv0), d_dx(poisoned(n)), d_dg(dg0), d_db(db0);
  k::BatchNormTrainArgs gt = t;
  gt.x = d_x.get(); gt.gamma = d_gamma.get(); gt.beta = d_beta.get(); gt.y = d_y.get();
  gt.save_mean = d_mean.get(); gt.save_invstd = d_invstd.get(); gt.running_mean = d_rm.get();
  gt.running_var = d_rv.get();
  k::cuda::batchnorm_forward_train(cuda_exec(), s, gt);
  const auto got_y = d_y.host(), got_mean = d_mean.host(), got_invstd = d_invstd.host();
  EXPECT_LE(rel_error(got_y, y), 1e-5) << where;
  EXPECT_LE(rel_error(got_mean, mean), 1e-5) << where;
  EXPECT_LE(rel_error(got_invstd, invstd), 1e-5) << where;
  EXPECT_LE(rel_error(d_rm.host(), rm), 1e-5) << where;
  EXPECT_LE(rel_error(d_rv.host(), rv), 1e-5) << where;

  // Backward from the CPU's saved statistics and y, so only backward is under test.
  d_mean.upload(mean);
  d_invstd.upload(invstd);
  d_y.upload(y);
  k::BatchNormBackwardArgs gb = b;
  gb.x = d_x.get(); gb.y = d_y.get(); gb.dy = d_dy.get(); gb.gamma = d_gamma.get(); gb.beta = d_beta.get();
  gb.save_mean = d_mean.get(); gb.save_invstd = d_invstd.get(); gb.dx = d_dx.get(); gb.dgamma = d_dg.get();
  gb.dbeta = d_db.get();
  k::cuda::batchnorm_backward(cuda_exec(), s, gb);
  const auto got_dx = d_dx.host(), got_dg = d_dg.host(), got_db = d_db.host();
  EXPECT_LE(rel_error(got_dx, dx), 1e-4) << where;
  EXPECT_LE(rel_error(got_dg, dg), 1e-5) << where;
  EXPECT_LE(rel_error(got_db, db), 1e-5) << where;

  // Determinism: rerun both and compare bits.
  d_y.upload(poisoned(n));
  k::cuda::batchnorm_forward_train(cuda_exec(), s, gt);
  EXPECT_TRUE(bit_identical(d_y.host(), got_y)) << where;
  d_mean.upload(mean);  // the same inputs as the first backward
  d_invstd.upload(invstd);
  d_y.upload(y);
  d_dx.upload(poisoned(n));
  d_dg.upload(dg0);
  d_db.upload(db0);
  k::cuda::batchnorm_backward(cuda_exec(), s, gb);
  EXPECT_TRUE(bit_identical(d_dx.host(), got_dx)) << where;
  EXPECT_TRUE(bit_identical(d_dg.host(), got_dg)) << where;
  EXPECT_TRUE(bit_identical(d_db.host(), got_db)) << where;
}

TEST(CudaBatchNorm, TrainForwardAndBackwardMatchReference) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (const Case& cs : {Case{5, 7, 33, -1.0f, 1.0f}, Case{2, 3, 1, -1.0f, 1.0f}, Case{17, 129, 9, -2.0f, 1.0f}})
    for (bool relu : {false, true}) check_case(cs, relu);
}

TEST(CudaBatchNorm, BigChannelsWithOffsetMean) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (bool relu : {false, true}) check_case(Case{64, 3, 1025, 2.0f, 4.0f}, relu);
}

TEST(CudaBatchNorm, InferenceMatchesReference) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const k::BatchNormShape s{3, 11, 49};
  const int64_t n = int64_t{s.N} * s.C * s.HW;
  const auto x = random_vector(n, 71), gamma = random_vector(s.C, 72), beta = random_vector(s.C, 73);
  const auto rm = random_vector(s.C, 74), rv = random_vector(s.C, 75, 0.2f, 3.0f);
  for (bool relu : {false, true}) {
    std::vector<float> y(n);
    k::cpu::batchnorm_forward_infer_reference(s, x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), 1e-5f,
                                              relu, y.data());
    DeviceVec<float> d_x(x), d_g(gamma), d_b(beta), d_rm(rm), d_rv(rv), d_y(poisoned(n));
    k::cuda::batchnorm_forward_infer(cuda_exec(), s, d_x.get(), d_g.get(), d_b.get(), d_rm.get(), d_rv.get(), 1e-5f,
                                     relu, d_y.get());
    EXPECT_LE(rel_error(d_y.host(), y), 1e-5) << (relu ? "relu" : "");
  }
}

TEST(CudaBatchNorm, SingleValuePerChannelIsAnError) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  k::BatchNormTrainArgs t;
  EXPECT_THROW(k::cuda::batchnorm_forward_train(cuda_exec(), k::BatchNormShape{1, 4, 1}, t), Error);
}

}  // namespace
}  // namespace convoy::test
