// CUDA activations: one thread per element in a grid-stride loop, consecutive threads on
// consecutive elements (coalesced). ReLU is pure bandwidth (8 or 12 bytes per element);
// GELU spends ~20-40 instructions on erff/expf per element, still below the bandwidth
// roof on Hopper. dx may alias dy, so nothing is __restrict__. The formulas are the CPU's
// (kernels/cpu/activation.cpp), in float, with the same constants.
#include <cuda_runtime.h>

#include "kernels/activation.h"
#include "kernels/cuda/ops_launch.cuh"

namespace convoy::kernels::cuda {

namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)

struct ReluForwardOp {
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const {
    const float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
  }
};
struct ReluBackwardOp {
  const float* y;
  const float* dy;
  float* dx;
  __device__ void operator()(int64_t i) const { dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; }
};
struct GeluForwardOp {
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + erff(v * kInvSqrt2));
  }
};
struct GeluBackwardOp {
  const float* x;
  const float* dy;
  float* dx;
  __device__ void operator()(int64_t i) const {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + erff(v * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * expf(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
};

void check(int64_t n, const char* op, const void* a, const void* b, const void* c = reinterpret_cast<const void*>(1)) {
  ops::check_count(n, op);
  if (n > 0 && (a == nullptr || b == nullptr || c == nullptr)) fail(op, ": null pointer for ", n, " elements");
}

}  // namespace

void relu_forward(const Exec& exec, int64_t n, const float* x, float* y) {
  check(n, "cuda::relu_forward", x, y);
  ops::for_each(exec, n, ReluForwardOp{x, y}, "relu_forward");
}

void relu_backward(const Exec& exec, int64_t n, const float* y, const float* dy, float* dx) {
  check(n, "cuda::relu_backward", y, dy, dx);
  ops::for_each(exec, n, ReluBackwardOp{y, dy, dx}, "relu_backward");
}

void gelu_forward(const Exec& exec, int64_t n, const float* x, float* y) {
  check(n, "cuda::gelu_forward", x, y);
  ops::for_each(exec, n, GeluForwardOp{x, y}, "gelu_forward");
}

void gelu_backward(const Exec& exec, int64_t n, const float* x, const float* dy, float* dx) {
  check(n, "cuda::gelu_backward", x, dy, dx);
  ops::for_each(exec, n, GeluBackwardOp{x, dy, dx}, "gelu_backward");
}

}  // namespace convoy::kernels::cuda
