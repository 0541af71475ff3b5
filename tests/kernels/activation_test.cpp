// ReLU and exact-erf GELU against double formulas; GELU backward against central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/common/test_util.h"
#include "kernels/activation.h"

namespace convoy {
namespace {

using test::poisoned;
using test::random_vector;

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

TEST(Activation, ReluForwardBackward) {
  for (int64_t n : {1, 9, 70001}) {
    auto x = random_vector(n, 11, -2.0f, 2.0f), dy = random_vector(n, 12);
    auto y = poisoned(n), dx = poisoned(n);
    kernels::cpu::relu_forward(n, x.data(), y.data());
    kernels::cpu::relu_backward(n, y.data(), dy.data(), dx.data());
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], x[i] > 0 ? x[i] : 0.0f) << i;
      ASSERT_EQ(dx[i], x[i] > 0 ? dy[i] : 0.0f) << i;
    }
  }
}

TEST(Activation, GeluMatchesErfForm) {
  for (int64_t n : {1, 13, 40001}) {
    auto x = random_vector(n, 13, -4.0f, 4.0f), dy = random_vector(n, 14);
    auto y = poisoned(n), dx = poisoned(n);
    kernels::cpu::gelu_forward(n, x.data(), y.data());
    kernels::cpu::gelu_backward(n, x.data(), dy.data(), dx.data());
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(y[i], gelu(x[i]), 1e-6 + 1e-6 * std::fabs(x[i])) << i;
      const double h = 1e-4;
      const double slope = (gelu(x[i] + h) - gelu(x[i] - h)) / (2 * h);
      ASSERT_NEAR(dx[i], dy[i] * slope, 2e-5) << "x=" << x[i];
    }
  }
}

}  // namespace
}  // namespace convoy
