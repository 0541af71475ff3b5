// Softmax cross-entropy: values worked out by hand (with and without label smoothing), the
// gradient against central differences, the fast path against the double reference.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/common/test_util.h"
#include "engine/error.h"
#include "kernels/loss.h"

namespace convoy {
namespace {

using kernels::SoftmaxXentArgs;
using test::poisoned;
using test::random_vector;
using test::rel_error;

void run(SoftmaxXentArgs a, bool fast) {
  if (fast) kernels::cpu::softmax_cross_entropy(a);
  else kernels::cpu::softmax_cross_entropy_reference(a);
}

// logits (1, 2, 3), label 2: lse = 3.40760596, softmax = (0.09003057, 0.24472847, 0.66524096).
TEST(SoftmaxXent, HandComputedValues) {
  const std::vector<float> z = {1, 2, 3};
  const std::vector<int32_t> label = {2};
  const double p[3] = {0.0900305732, 0.2447284711, 0.6652409558};
  for (bool fast : {false, true})
    for (float smoothing : {0.0f, 0.1f}) {
      auto loss = poisoned(1), d = poisoned(3);
      run({1, 3, z.data(), label.data(), smoothing, 0.5f, loss.data(), d.data()}, fast);
      // lse - (1 - s) z[label] - s/K sum z: 0.40760596 plain; 3.40760596 - 2.7 - 0.2 smoothed.
      EXPECT_NEAR(loss[0], smoothing == 0 ? 0.40760596 : 0.50760596, 1e-6) << "fast=" << fast;
      for (int k = 0; k < 3; ++k) {
        const double t = smoothing / 3 + (k == 2 ? 1 - smoothing : 0);
        EXPECT_NEAR(d[k], 0.5 * (p[k] - t), 1e-6) << "k=" << k << " fast=" << fast;
      }
    }
}

TEST(SoftmaxXent, LargeLogitsStayFinite) {
  const std::vector<float> z = {1000, 1001, -1000};
  const std::vector<int32_t> label = {0};
  for (bool fast : {false, true}) {
    auto loss = poisoned(1), d = poisoned(3);
    run({1, 3, z.data(), label.data(), 0.0f, 1.0f, loss.data(), d.data()}, fast);
    EXPECT_NEAR(loss[0], std::log(1 + std::exp(1.0)), 1e-4);
    EXPECT_TRUE(std::isfinite(d[2]));
  }
}

TEST(SoftmaxXent, GradientMatchesFiniteDifferences) {
  const int N = 3, K = 5;
  auto z = random_vector(N * K, 21, -2.0f, 2.0f);
  const std::vector<int32_t> labels = {4, 0, 2};
  const float scale = 1.0f / N;
  auto loss = poisoned(N), d = poisoned(N * K);
  run({N, K, z.data(), labels.data(), 0.2f, scale, loss.data(), d.data()}, false);
  auto total = [&]() {
    std::vector<float> l(N);
    run({N, K, z.data(), labels.data(), 0.2f, 1.0f, l.data(), nullptr}, false);
    double s = 0;
    for (float v : l) s += v;
    return s * scale;
  };
  const float h = 1e-2f;
  for (int i = 0; i < N * K; ++i) {
    const float keep = z[i];
    z[i] = keep + h;
    const double up = total();
    z[i] = keep - h;
    const double down = total();
    z[i] = keep;
    EXPECT_NEAR(d[i], (up - down) / (2 * h), 2e-4) << i;
  }
}

TEST(SoftmaxXent, FastMatchesReference) {
  for (auto [N, K] : {std::pair{1, 1}, {37, 10}, {2049, 13}, {5, 1001}})
    for (float smoothing : {0.0f, 0.1f}) {
      auto z = random_vector(size_t(N) * K, 31 + K, -6.0f, 6.0f);
      std::vector<int32_t> labels(N);
      for (int i = 0; i < N; ++i) labels[i] = (i * 7 + 3) % K;
      auto lr = poisoned(N), lf = poisoned(N), dr = poisoned(size_t(N) * K), df = poisoned(size_t(N) * K);
      run({N, K, z.data(), labels.data(), smoothing, 1.0f / N, lr.data(), dr.data()}, false);
      run({N, K, z.data(), labels.data(), smoothing, 1.0f / N, lf.data(), df.data()}, true);
      EXPECT_LT(rel_error(lf, lr), 1e-5) << N << "x" << K;
      EXPECT_LT(rel_error(df, dr), 1e-5) << N << "x" << K;
      auto lnull = poisoned(N);  // dlogits may be null
      run({N, K, z.data(), labels.data(), smoothing, 1.0f, lnull.data(), nullptr}, true);
      EXPECT_EQ(lnull, lf);
    }
}

TEST(SoftmaxXent, LabelOutOfRangeIsAnError) {
  const std::vector<float> z = {1, 2};
  const std::vector<int32_t> label = {2};
  auto loss = poisoned(1);
  EXPECT_THROW(run({1, 2, z.data(), label.data(), 0.0f, 1.0f, loss.data(), nullptr}, true), Error);
  EXPECT_THROW(run({1, 2, z.data(), label.data(), 0.0f, 1.0f, loss.data(), nullptr}, false), Error);
}

}  // namespace
}  // namespace convoy
