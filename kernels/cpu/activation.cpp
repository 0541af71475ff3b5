// CPU activations: one pass over restrict pointers, vectorisable at -O3 (the ReLU loops
// become compare/blend; GELU calls erf/exp, which stay scalar but are split statically
// across threads for large arrays).
#include <cmath>
#include <cstdint>

#include "kernels/activation.h"

namespace convoy::kernels::cpu {

namespace {
constexpr int64_t kParallelMin = int64_t{1} << 15;
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)
}  // namespace

void relu_forward(int64_t n, const float* __restrict x, float* __restrict y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// dx may alias dy (in-place backward).
void relu_backward(int64_t n, const float* __restrict y, const float* dy, float* dx) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float d = dy[i];  // unconditional load: the select then vectorises instead of branching
    dx[i] = y[i] > 0.0f ? d : 0.0f;
  }
}

// gelu(x) = x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2.
void gelu_forward(int64_t n, const float* __restrict x, float* __restrict y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin / 8)
  for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
}

// d gelu / dx = Phi(x) + x * phi(x), phi the standard normal density.
void gelu_backward(int64_t n, const float* __restrict x, const float* dy, float* dx) {
#pragma omp parallel for schedule(static) if (n > kParallelMin / 8)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

}  // namespace convoy::kernels::cpu
