// CPU element-wise helpers against plain double loops, on odd sizes on both sides of the
// parallel threshold; the dispatcher path; sum independent of the thread count.
#include <gtest/gtest.h>

#include <vector>

#include "tests/common/test_util.h"
#include "engine/threads.h"
#include "kernels/elementwise.h"

namespace convoy {
namespace {

using test::poisoned;
using test::random_vector;
using test::rel_error;

const int64_t kSizes[] = {1, 7, 1001, 70001};

TEST(Elementwise, FillCopyScale) {
  for (int64_t n : kSizes) {
    auto x = random_vector(n, 1);
    auto y = poisoned(n);
    kernels::cpu::fill(n, 2.5f, y.data());
    for (float v : y) ASSERT_EQ(v, 2.5f);
    y = poisoned(n);
    kernels::cpu::copy(n, x.data(), y.data());
    EXPECT_EQ(y, x) << "n=" << n;
    y = poisoned(n);
    kernels::cpu::scale(n, -1.75f, x.data(), y.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], -1.75f * x[i]) << "n=" << n << " i=" << i;
  }
}

TEST(Elementwise, AddAndAxpy) {
  for (int64_t n : kSizes) {
    auto a = random_vector(n, 2), b = random_vector(n, 3);
    auto y = poisoned(n);
    kernels::cpu::add(n, a.data(), b.data(), y.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], a[i] + b[i]);
    auto acc = b;
    kernels::cpu::axpy(n, 0.3f, a.data(), acc.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(acc[i], b[i] + 0.3f * a[i]);
    // In place: y = y + b.
    auto same = a;
    kernels::cpu::add(n, same.data(), b.data(), same.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(same[i], a[i] + b[i]);
  }
}

TEST(Elementwise, AddBiasAndColumnSums) {
  for (auto [rows, cols] : {std::pair{1, 1}, {3, 5}, {257, 13}, {37, 1031}, {129, 300}}) {
    const int64_t n = int64_t{rows} * cols;
    auto x = random_vector(n, 4), bias = random_vector(cols, 5);
    auto y = x;
    kernels::cpu::add_bias(rows, cols, bias.data(), y.data());
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) ASSERT_EQ(y[r * cols + c], x[r * cols + c] + bias[c]);

    auto out = random_vector(cols, 6);  // accumulates onto what is there
    std::vector<float> expect(cols);
    for (int c = 0; c < cols; ++c) {
      double s = out[c];
      for (int r = 0; r < rows; ++r) s += x[r * cols + c];
      expect[c] = static_cast<float>(s);
    }
    kernels::cpu::sum_rows_accumulate(rows, cols, x.data(), out.data());
    EXPECT_LT(rel_error(out, expect), 1e-5) << rows << "x" << cols;
  }
}

TEST(Elementwise, SumIsAccurateAndIndependentOfThreads) {
  for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{70001}, int64_t{300007}}) {
    auto x = random_vector(n, 7, 0.5f, 1.5f);
    double expect = 0;
    for (float v : x) expect += v;
    const int threads = num_threads();
    set_num_threads(1);
    const double one = kernels::cpu::sum(n, x.data());
    set_num_threads(2);
    const double two = kernels::cpu::sum(n, x.data());
    set_num_threads(threads);
    EXPECT_NEAR(one, expect, 1e-9 * n) << "n=" << n;
    EXPECT_EQ(one, two) << "n=" << n;
  }
}

TEST(Elementwise, DispatcherRunsTheCpuPath) {
  const int64_t n = 33;
  auto x = random_vector(n, 8);
  auto y = poisoned(n);
  kernels::Exec cpu;
  kernels::scale(cpu, n, 2.0f, x.data(), y.data());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 2.0f * x[i]);
  EXPECT_NEAR(kernels::sum(cpu, n, y.data()), 2.0 * kernels::cpu::sum(n, x.data()), 1e-5);
}

}  // namespace
}  // namespace convoy
