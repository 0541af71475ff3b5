// The CUDA fused batch-norm + ReLU + max-pool against the CPU reference (the unfused reference
// ops): pooled output, argmax, statistics, running averages, dx, dgamma and dbeta, on shapes
// with clipped, overlapping and stride-2 windows, and on tied inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "kernels/bn_relu_maxpool.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

void check(const k::Pool2dShape& s, std::vector<float> x) {
  const size_t in = static_cast<size_t>(s.N) * s.C * s.H * s.W, out = static_cast<size_t>(s.N) * s.C * s.P() * s.Q();
  const auto gamma = random_vector(s.C, 41, -1.0f, 1.5f), beta = random_vector(s.C, 42, -0.5f, 0.5f);
  const auto dy = random_vector(out, 43), rmean = random_vector(s.C, 44), rvar = random_vector(s.C, 45, 0.5f, 2.0f);
  std::vector<float> y(out), mean(s.C), invstd(s.C), rm = rmean, rv = rvar, dx(in), dg(s.C, 0.0f), db(s.C, 0.0f);
  std::vector<int32_t> arg(out);
  k::BnReluMaxPoolTrainArgs f;
  f.x = x.data(), f.gamma = gamma.data(), f.beta = beta.data(), f.y = y.data(), f.argmax = arg.data();
  f.save_mean = mean.data(), f.save_invstd = invstd.data(), f.running_mean = rm.data(), f.running_var = rv.data();
  k::cpu::bn_relu_maxpool_forward_train_reference(s, f);
  k::BnReluMaxPoolBackwardArgs b;
  b.x = x.data(), b.y = y.data(), b.argmax = arg.data(), b.dy = dy.data(), b.gamma = gamma.data();
  b.beta = beta.data(), b.save_mean = mean.data(), b.save_invstd = invstd.data();
  b.dx = dx.data(), b.dgamma = dg.data(), b.dbeta = db.data();
  k::cpu::bn_relu_maxpool_backward_reference(s, b);

  DeviceVec<float> d_x(x), d_g(gamma), d_b(beta), d_y(poisoned(out)), d_mean(poisoned(s.C)), d_inv(poisoned(s.C)),
      d_rm(rmean), d_rv(rvar), d_dy(dy), d_dx(poisoned(in)), d_dg(std::vector<float>(s.C, 0.0f)),
      d_db(std::vector<float>(s.C, 0.0f));
  DeviceVec<int32_t> d_arg(std::vector<int32_t>(out, -1));
  k::BnReluMaxPoolTrainArgs df = f;
  df.x = d_x.get(), df.gamma = d_g.get(), df.beta = d_b.get(), df.y = d_y.get(), df.argmax = d_arg.get();
  df.save_mean = d_mean.get(), df.save_invstd = d_inv.get(), df.running_mean = d_rm.get(), df.running_var = d_rv.get();
  k::cuda::bn_relu_maxpool_forward_train(cuda_exec(), s, df);
  k::BnReluMaxPoolBackwardArgs db_args;
  db_args.x = d_x.get(), db_args.y = d_y.get(), db_args.argmax = d_arg.get(), db_args.dy = d_dy.get();
  db_args.gamma = d_g.get(), db_args.beta = d_b.get(), db_args.save_mean = d_mean.get();
  db_args.save_invstd = d_inv.get(), db_args.dx = d_dx.get(), db_args.dgamma = d_dg.get(), db_args.dbeta = d_db.get();
  k::cuda::bn_relu_maxpool_backward(cuda_exec(), s, db_args);
  const std::string where = std::to_string(s.H) + "x" + std::to_string(s.W) + " R=" + std::to_string(s.R);
  EXPECT_EQ(d_arg.host(), arg) << where;
  EXPECT_LE(rel_error(d_y.host(), y), 1e-5) << where;
  EXPECT_LE(rel_error(d_mean.host(), mean), 1e-5) << where;
  EXPECT_LE(rel_error(d_rv.host(), rv), 1e-5) << where;
  EXPECT_LE(rel_error(d_dx.host(), dx), 1e-4) << where;
  EXPECT_LE(rel_error(d_dg.host(), dg), 1e-4) << where;
  EXPECT_LE(rel_error(d_db.host(), db), 1e-4) << where;
}

TEST(CudaBnReluMaxPool, MatchesTheUnfusedReference) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (const auto& s :
       {pool_shape(4, 5, 16, 16, 3, 2, 1), pool_shape(3, 3, 9, 11, 2, 2, 0), pool_shape(2, 4, 7, 13, 3, 1, 1)})
    check(s, random_vector(size_t(s.N) * s.C * s.H * s.W, 40, -2.0f, 3.0f));
}

TEST(CudaBnReluMaxPool, TiesGoToTheFirstMaximum) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const auto s = pool_shape(3, 4, 16, 16, 3, 2, 1);
  auto x = random_vector(size_t(s.N) * s.C * s.H * s.W, 46, 0.0f, 4.0f);
  for (float& v : x) v = std::floor(v);
  check(s, x);
}

}  // namespace
}  // namespace convoy::test
