// The fused batch-norm + ReLU + max-pool against the unfused reference ops (batch-norm with
// ReLU, then max pooling) on odd shapes, windows and strides, 1 and 2 threads: pooled output,
// argmax, statistics, running averages, dx, dgamma and dbeta.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/threads.h"
#include "kernels/bn_relu_maxpool.h"
#include "tests/common/error_text.h"
#include "tests/common/test_util.h"

namespace convoy {
namespace {

using kernels::BnReluMaxPoolBackwardArgs;
using kernels::BnReluMaxPoolTrainArgs;
using kernels::Pool2dShape;
using test::poisoned;
using test::random_vector;
using test::rel_error;

Pool2dShape shape(int N, int C, int H, int W, int window, int stride, int pad) {
  Pool2dShape s;
  s.N = N, s.C = C, s.H = H, s.W = W;
  s.R = s.S = window;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  return s;
}

struct Outputs {
  std::vector<float> y, mean, invstd, rmean, rvar, dx, dgamma, dbeta;
  std::vector<int32_t> argmax;
};

Outputs run(const Pool2dShape& s, uint64_t seed, bool fast) {
  const size_t in = static_cast<size_t>(s.N) * s.C * s.H * s.W, out = static_cast<size_t>(s.N) * s.C * s.P() * s.Q();
  const std::vector<float> x = random_vector(in, seed, -2.0f, 3.0f);  // offset: some channels mostly positive
  const std::vector<float> gamma = random_vector(s.C, seed + 1, -1.0f, 1.5f);  // negative gamma flips the order
  const std::vector<float> beta = random_vector(s.C, seed + 2, -0.5f, 0.5f);
  const std::vector<float> dy = random_vector(out, seed + 3);
  Outputs r{poisoned(out), poisoned(s.C), poisoned(s.C), random_vector(s.C, seed + 4, -0.2f, 0.2f),
        random_vector(s.C, seed + 5, 0.5f, 2.0f), poisoned(in), random_vector(s.C, seed + 6),
        random_vector(s.C, seed + 7), std::vector<int32_t>(out, -7)};
  BnReluMaxPoolTrainArgs f;
  f.x = x.data(), f.gamma = gamma.data(), f.beta = beta.data(), f.y = r.y.data(), f.argmax = r.argmax.data();
  f.save_mean = r.mean.data(), f.save_invstd = r.invstd.data();
  f.running_mean = r.rmean.data(), f.running_var = r.rvar.data();
  if (fast) kernels::cpu::bn_relu_maxpool_forward_train(s, f);
  else kernels::cpu::bn_relu_maxpool_forward_train_reference(s, f);
  BnReluMaxPoolBackwardArgs b;
  b.x = x.data(), b.y = r.y.data(), b.argmax = r.argmax.data(), b.dy = dy.data();
  b.gamma = gamma.data(), b.beta = beta.data(), b.save_mean = r.mean.data(), b.save_invstd = r.invstd.data();
  b.dx = r.dx.data(), b.dgamma = r.dgamma.data(), b.dbeta = r.dbeta.data();
  if (fast) kernels::cpu::bn_relu_maxpool_backward(s, b);
  else kernels::cpu::bn_relu_maxpool_backward_reference(s, b);
  return r;
}

TEST(BnReluMaxPool, FusedMatchesTheUnfusedReferenceOps) {
  const Pool2dShape shapes[] = {
      shape(2, 3, 7, 9, 3, 2, 1),    // odd sizes, clipped windows on every edge
      shape(5, 4, 8, 8, 2, 2, 0),    // non-overlapping windows
      shape(3, 2, 6, 5, 3, 1, 1),    // stride 1: each element in up to nine windows
      shape(4, 5, 16, 16, 3, 2, 1),  // the quick model's window on a smaller plane
      shape(2, 2, 3, 4, 1, 1, 0),    // 1 x 1 windows: the pooling passes every value
  };
  uint64_t seed = 40;
  for (const Pool2dShape& s : shapes)
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const Outputs ref = run(s, seed, false), fast = run(s, seed, true);
      const std::string where = "N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) + " H=" +
                                std::to_string(s.H) + " W=" + std::to_string(s.W) + " window " +
                                std::to_string(s.R) + " stride " + std::to_string(s.stride_h) + " threads " +
                                std::to_string(threads);
      EXPECT_EQ(fast.argmax, ref.argmax) << where;
      EXPECT_LT(rel_error(fast.y, ref.y), 1e-5) << where;
      EXPECT_LT(rel_error(fast.mean, ref.mean), 1e-5) << where;
      EXPECT_LT(rel_error(fast.invstd, ref.invstd), 1e-5) << where;
      EXPECT_LT(rel_error(fast.rmean, ref.rmean), 1e-5) << where;
      EXPECT_LT(rel_error(fast.rvar, ref.rvar), 1e-5) << where;
      EXPECT_LT(rel_error(fast.dx, ref.dx), 1e-4) << where;
      EXPECT_LT(rel_error(fast.dgamma, ref.dgamma), 1e-4) << where;
      EXPECT_LT(rel_error(fast.dbeta, ref.dbeta), 1e-4) << where;
      seed += 10;
    }
  set_num_threads(0);
}

// Inputs from {0, 1, 2, 3}: the normalised planes are full of exact ties, and the argmax is
// still the reference's first maximal element in row-major order.
TEST(BnReluMaxPool, TiesGoToTheFirstElementAsInTheUnfusedOps) {
  const Pool2dShape s = shape(3, 4, 16, 16, 3, 2, 1);
  const size_t in = static_cast<size_t>(s.N) * s.C * s.H * s.W, out = static_cast<size_t>(s.N) * s.C * s.P() * s.Q();
  std::vector<float> x = random_vector(in, 5, 0.0f, 4.0f);
  for (float& v : x) v = std::floor(v);
  const std::vector<float> gamma = {1.0f, -1.0f, 0.5f, 2.0f}, beta = {0.1f, 0.2f, -0.3f, 0.0f};
  std::vector<int32_t> arg_ref(out), arg(out);
  std::vector<float> y(out), m(s.C), v(s.C);
  BnReluMaxPoolTrainArgs f;
  f.x = x.data(), f.gamma = gamma.data(), f.beta = beta.data(), f.y = y.data(), f.save_mean = m.data(),
  f.save_invstd = v.data();
  f.argmax = arg_ref.data();
  kernels::cpu::bn_relu_maxpool_forward_train_reference(s, f);
  f.argmax = arg.data();
  kernels::cpu::bn_relu_maxpool_forward_train(s, f);
  EXPECT_EQ(arg, arg_ref);
}

TEST(BnReluMaxPool, OneValuePerChannelIsRefused) {
  const Pool2dShape s = shape(1, 2, 1, 1, 1, 1, 0);
  std::vector<float> x(2, 1.0f), g(2, 1.0f), y(2), m(2), v(2);
  std::vector<int32_t> arg(2);
  BnReluMaxPoolTrainArgs f;
  f.x = x.data(), f.gamma = g.data(), f.beta = g.data(), f.y = y.data(), f.argmax = arg.data();
  f.save_mean = m.data(), f.save_invstd = v.data();
  const std::string e = test::error_of([&] { kernels::cpu::bn_relu_maxpool_forward_train(s, f); });
  EXPECT_NE(e.find("more than one value per channel"), std::string::npos) << e;
}

}  // namespace
}  // namespace convoy
