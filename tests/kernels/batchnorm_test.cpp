// Batch-norm: the fast CPU path against the double reference on odd shapes (with and without
// the fused ReLU), the reference backward against central differences of a double forward,
// and the running-statistics update against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/common/error_text.h"
#include "tests/common/test_util.h"
#include "engine/error.h"
#include "engine/threads.h"
#include "kernels/batchnorm.h"

namespace convoy {
namespace {

using kernels::BatchNormBackwardArgs;
using kernels::BatchNormShape;
using kernels::BatchNormTrainArgs;
using test::poisoned;
using test::random_vector;
using test::rel_error;

struct Case {
  BatchNormShape s;
  std::vector<float> x, gamma, beta, rmean, rvar;
  size_t n() const { return static_cast<size_t>(s.N) * s.C * s.HW; }
};

Case make_case(BatchNormShape s, uint64_t seed) {
  Case c{s, {}, {}, {}, {}, {}};
  c.x = random_vector(c.n(), seed, 1.0f, 5.0f);  // an offset mean tests the variance pass
  c.gamma = random_vector(s.C, seed + 1, 0.5f, 1.5f);
  c.beta = random_vector(s.C, seed + 2, -0.5f, 0.5f);
  c.rmean = random_vector(s.C, seed + 3, -0.2f, 0.2f);
  c.rvar = random_vector(s.C, seed + 4, 0.5f, 2.0f);
  return c;
}

struct TrainOut {
  std::vector<float> y, mean, invstd, rmean, rvar;
};

TrainOut run_train(const Case& c, bool relu, bool fast) {
  TrainOut o{poisoned(c.n()), poisoned(c.s.C), poisoned(c.s.C), c.rmean, c.rvar};
  BatchNormTrainArgs a;
  a.x = c.x.data();
  a.gamma = c.gamma.data();
  a.beta = c.beta.data();
  a.y = o.y.data();
  a.save_mean = o.mean.data();
  a.save_invstd = o.invstd.data();
  a.running_mean = o.rmean.data();
  a.running_var = o.rvar.data();
  a.relu = relu;
  if (fast) kernels::cpu::batchnorm_forward_train(c.s, a);
  else kernels::cpu::batchnorm_forward_train_reference(c.s, a);
  return o;
}

struct BackwardOut {
  std::vector<float> dx, dgamma, dbeta;
};

BackwardOut run_backward(const Case& c, const TrainOut& f, const std::vector<float>& dy, bool relu, bool fast) {
  BackwardOut o{poisoned(c.n()), random_vector(c.s.C, 91), random_vector(c.s.C, 92)};  // grads accumulate
  BatchNormBackwardArgs a;
  a.x = c.x.data();
  a.y = f.y.data();
  a.dy = dy.data();
  a.gamma = c.gamma.data();
  a.beta = c.beta.data();
  a.save_mean = f.mean.data();
  a.save_invstd = f.invstd.data();
  a.dx = o.dx.data();
  a.dgamma = o.dgamma.data();
  a.dbeta = o.dbeta.data();
  a.relu = relu;
  if (fast) kernels::cpu::batchnorm_backward(c.s, a);
  else kernels::cpu::batchnorm_backward_reference(c.s, a);
  return o;
}

const BatchNormShape kShapes[] = {{2, 3, 5}, {3, 5, 7}, {1, 4, 33}, {5, 3, 1}, {9, 7, 49}, {17, 6, 1031}};

TEST(BatchNorm, FastForwardMatchesReference) {
  for (const auto& s : kShapes)
    for (bool relu : {false, true}) {
      Case c = make_case(s, 100 + s.HW);
      TrainOut ref = run_train(c, relu, false), fast = run_train(c, relu, true);
      const std::string what = "N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) + " HW=" +
                               std::to_string(s.HW) + (relu ? " relu" : "");
      EXPECT_LT(rel_error(fast.y, ref.y), 2e-6) << what;
      EXPECT_LT(rel_error(fast.mean, ref.mean), 1e-6) << what;
      EXPECT_LT(rel_error(fast.invstd, ref.invstd), 1e-5) << what;
      EXPECT_LT(rel_error(fast.rmean, ref.rmean), 1e-6) << what;
      EXPECT_LT(rel_error(fast.rvar, ref.rvar), 1e-5) << what;
      if (relu)
        for (float v : fast.y) ASSERT_GE(v, 0.0f);
    }
}

TEST(BatchNorm, FastInferenceMatchesReference) {
  for (const auto& s : kShapes)
    for (bool relu : {false, true}) {
      Case c = make_case(s, 200 + s.C);
      auto ref = poisoned(c.n()), fast = poisoned(c.n());
      kernels::cpu::batchnorm_forward_infer_reference(s, c.x.data(), c.gamma.data(), c.beta.data(), c.rmean.data(),
                                                      c.rvar.data(), 1e-5f, relu, ref.data());
      kernels::cpu::batchnorm_forward_infer(s, c.x.data(), c.gamma.data(), c.beta.data(), c.rmean.data(),
                                            c.rvar.data(), 1e-5f, relu, fast.data());
      EXPECT_LT(rel_error(fast, ref), 1e-6) << "HW=" << s.HW;
    }
}

TEST(BatchNorm, FastBackwardMatchesReference) {
  for (const auto& s : kShapes)
    for (bool relu : {false, true}) {
      Case c = make_case(s, 300 + s.N);
      TrainOut f = run_train(c, relu, false);
      auto dy = random_vector(c.n(), 7001 + s.HW);  // a seed of its own: dy must not be a copy of x
      BackwardOut ref = run_backward(c, f, dy, relu, false), fast = run_backward(c, f, dy, relu, true);
      EXPECT_LT(rel_error(fast.dx, ref.dx), 1e-4) << "HW=" << s.HW << " relu=" << relu;
      EXPECT_LT(rel_error(fast.dgamma, ref.dgamma), 1e-5) << "HW=" << s.HW;
      EXPECT_LT(rel_error(fast.dbeta, ref.dbeta), 1e-5) << "HW=" << s.HW;
    }
}

TEST(BatchNorm, FastIsIndependentOfThreadCount) {
  Case c = make_case({17, 6, 1031}, 7);
  const int threads = num_threads();
  set_num_threads(1);
  TrainOut one = run_train(c, true, true);
  set_num_threads(2);
  TrainOut two = run_train(c, true, true);
  set_num_threads(threads);
  EXPECT_EQ(one.y, two.y);
  EXPECT_EQ(one.rvar, two.rvar);
}

// The ReLU fusion equals the plain backward fed with dy masked by y > 0.
TEST(BatchNorm, FusedReluBackwardMasksByOutput) {
  Case c = make_case({4, 3, 10}, 400);
  TrainOut f = run_train(c, true, false);
  auto dy = random_vector(c.n(), 7401);
  auto masked = dy;
  for (size_t i = 0; i < masked.size(); ++i) masked[i] = f.y[i] > 0 ? dy[i] : 0.0f;
  BackwardOut fused = run_backward(c, f, dy, true, true), plain = run_backward(c, f, masked, false, false);
  EXPECT_LT(rel_error(fused.dx, plain.dx), 1e-5);
  EXPECT_LT(rel_error(fused.dgamma, plain.dgamma), 1e-6);
}

// Loss L = sum w * y(x, gamma, beta), forward in double.
double bn_loss(const BatchNormShape& s, const std::vector<double>& x, const std::vector<double>& g,
               const std::vector<double>& b, const std::vector<float>& w) {
  const double M = double(s.N) * s.HW;
  double L = 0;
  for (int c = 0; c < s.C; ++c) {
    double mean = 0, var = 0;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) mean += x[(n * s.C + c) * s.HW + i];
    mean /= M;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) var += std::pow(x[(n * s.C + c) * s.HW + i] - mean, 2);
    var /= M;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) {
        const int k = (n * s.C + c) * s.HW + i;
        L += w[k] * (g[c] * (x[k] - mean) / std::sqrt(var + 1e-5) + b[c]);
      }
  }
  return L;
}

TEST(BatchNorm, ReferenceBackwardMatchesFiniteDifferences) {
  const BatchNormShape s{3, 2, 3};
  Case c = make_case(s, 500);
  TrainOut f = run_train(c, false, false);
  auto w = random_vector(c.n(), 7501);
  BackwardOut g = run_backward(c, f, w, false, false);
  const auto dgamma0 = random_vector(s.C, 91), dbeta0 = random_vector(s.C, 92);
  std::vector<double> x(c.x.begin(), c.x.end()), ga(c.gamma.begin(), c.gamma.end()), be(c.beta.begin(), c.beta.end());
  const double h = 1e-5;
  auto central = [&](std::vector<double>& v, size_t i) {
    const double keep = v[i];
    v[i] = keep + h;
    const double up = bn_loss(s, x, ga, be, w);
    v[i] = keep - h;
    const double down = bn_loss(s, x, ga, be, w);
    v[i] = keep;
    return (up - down) / (2 * h);
  };
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(g.dx[i], central(x, i), 2e-4) << "dx " << i;
  for (int ch = 0; ch < s.C; ++ch) {
    EXPECT_NEAR(g.dgamma[ch] - dgamma0[ch], central(ga, ch), 2e-4) << "dgamma " << ch;
    EXPECT_NEAR(g.dbeta[ch] - dbeta0[ch], central(be, ch), 2e-4) << "dbeta " << ch;
  }
}

// Channel 0 holds 1, 2, 3, 6 (mean 3, biased var 3.5, unbiased 14/3); momentum 0.1.
TEST(BatchNorm, RunningStatisticsFollowPyTorch) {
  const BatchNormShape s{2, 1, 2};
  const std::vector<float> x = {1, 2, 3, 6}, gamma = {1.5f}, beta = {0.25f};
  for (bool fast : {false, true}) {
    std::vector<float> y = poisoned(4), mean = poisoned(1), invstd = poisoned(1), rm = {0.5f}, rv = {2.0f};
    BatchNormTrainArgs a{x.data(), gamma.data(), beta.data(), y.data(), mean.data(), invstd.data(), rm.data(), rv.data()};
    if (fast) kernels::cpu::batchnorm_forward_train(s, a);
    else kernels::cpu::batchnorm_forward_train_reference(s, a);
    EXPECT_FLOAT_EQ(mean[0], 3.0f);
    EXPECT_NEAR(invstd[0], 1.0 / std::sqrt(3.5 + 1e-5), 1e-6);
    EXPECT_NEAR(rm[0], 0.9 * 0.5 + 0.1 * 3.0, 1e-6) << "fast=" << fast;
    EXPECT_NEAR(rv[0], 0.9 * 2.0 + 0.1 * 14.0 / 3.0, 1e-6) << "fast=" << fast;
    EXPECT_NEAR(y[3], 1.5 * 3.0 / std::sqrt(3.5 + 1e-5) + 0.25, 1e-5);
  }
}

// Both the fast kernel and the reference name the size that is not positive.
TEST(BatchNorm, ShapeErrorsNameTheSizeThatIsNotPositive) {
  const BatchNormTrainArgs a{};
  for (const BatchNormShape& s : {BatchNormShape{0, 2, 4}, BatchNormShape{2, 0, 4}, BatchNormShape{2, 2, 0}}) {
    const std::string shape = "shape N=" + std::to_string(s.N) + " C=" + std::to_string(s.C) +
                              " HW=" + std::to_string(s.HW) + " must be positive";
    EXPECT_ERROR_SAYS(kernels::cpu::batchnorm_forward_train(s, a), shape.c_str());
    EXPECT_ERROR_SAYS(kernels::cpu::batchnorm_forward_train_reference(s, a), shape.c_str());
  }
}

TEST(BatchNorm, OneValuePerChannelIsAnError) {
  const BatchNormShape s{1, 2, 1};
  Case c = make_case(s, 600);
  EXPECT_THROW(run_train(c, false, true), Error);
  EXPECT_THROW(run_train(c, false, false), Error);
}

}  // namespace
}  // namespace convoy
