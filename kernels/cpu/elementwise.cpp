// CPU element-wise helpers. Each is one simple loop over restrict pointers that GCC
// vectorises at -O3; large arrays are split into equal static OpenMP chunks (small ones
// stay on one thread, where the fork would cost more than the work).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/elementwise.h"

namespace convoy::kernels::cpu {

namespace {
constexpr int64_t kParallelMin = int64_t{1} << 15;  // elements below which one thread is faster
}

void fill(int64_t n, float value, float* __restrict y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = value;
}

void copy(int64_t n, const float* __restrict x, float* __restrict y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i];
}

// y may alias a or b (y = y + b is common), so no restrict here; the loop still vectorises
// because GCC checks the overlap at run time.
void add(int64_t n, const float* a, const float* b, float* y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void axpy(int64_t n, float alpha, const float* __restrict x, float* __restrict y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// In-place scaling (x == y) is allowed.
void scale(int64_t n, float alpha, const float* x, float* y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

void add_bias(int rows, int cols, const float* __restrict bias, float* __restrict y) {
  const int64_t total = static_cast<int64_t>(rows) * cols;
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int r = 0; r < rows; ++r) {
    float* __restrict row = y + static_cast<int64_t>(r) * cols;
    for (int c = 0; c < cols; ++c) row[c] += bias[c];
  }
}

// Column sums: threads own disjoint column blocks and walk all rows, so each output is
// summed in row order by one thread (deterministic) and rows stream through the cache.
void sum_rows_accumulate(int rows, int cols, const float* __restrict x, float* __restrict out) {
  constexpr int kBlock = 256;  // columns per task: 2 KiB of partial sums, stays in L1
  const int blocks = (cols + kBlock - 1) / kBlock;
  const int64_t total = static_cast<int64_t>(rows) * cols;
#pragma omp parallel for schedule(static) if (total > kParallelMin && blocks > 1)
  for (int b = 0; b < blocks; ++b) {
    const int c0 = b * kBlock, c1 = c0 + kBlock < cols ? c0 + kBlock : cols;
    double acc[kBlock];  // double: a column may sum many thousands of rows
    for (int c = c0; c < c1; ++c) acc[c - c0] = 0.0;
    for (int r = 0; r < rows; ++r) {
      const float* __restrict row = x + static_cast<int64_t>(r) * cols;
      for (int c = c0; c < c1; ++c) acc[c - c0] += row[c];
    }
    for (int c = c0; c < c1; ++c) out[c] = static_cast<float>(out[c] + acc[c - c0]);
  }
}

// Double accumulation over fixed blocks of 64K elements whose partials are added in block
// order: the result does not depend on the thread count at all. Inside a block, 4
// independent accumulators break the add dependency chain.
double sum(int64_t n, const float* __restrict x) {
  constexpr int64_t kBlock = int64_t{1} << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks <= 1) {
    double acc[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; ++k) acc[k] += x[i + k];
    for (; i < n; ++i) acc[0] += x[i];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
  std::vector<double> partial(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t i0 = b * kBlock, i1 = i0 + kBlock < n ? i0 + kBlock : n;
    partial[static_cast<std::size_t>(b)] = sum(i1 - i0, x + i0);
  }
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace convoy::kernels::cpu
