// Activations. backward assigns dx.
// ReLU backward reads y (y > 0 passes the gradient). GELU is the exact erf form
// (PyTorch's default): gelu(x) = x * Phi(x); its backward reads x.
#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace convoy::kernels {

void relu_forward(const Exec& exec, int64_t n, const float* x, float* y);
void relu_backward(const Exec& exec, int64_t n, const float* y, const float* dy, float* dx);
void gelu_forward(const Exec& exec, int64_t n, const float* x, float* y);
void gelu_backward(const Exec& exec, int64_t n, const float* x, const float* dy, float* dx);

namespace cpu {
void relu_forward(int64_t n, const float* x, float* y);
void relu_backward(int64_t n, const float* y, const float* dy, float* dx);
void gelu_forward(int64_t n, const float* x, float* y);
void gelu_backward(int64_t n, const float* x, const float* dy, float* dx);
}  // namespace cpu

namespace cuda {
void relu_forward(const Exec& exec, int64_t n, const float* x, float* y);
void relu_backward(const Exec& exec, int64_t n, const float* y, const float* dy, float* dx);
void gelu_forward(const Exec& exec, int64_t n, const float* x, float* y);
void gelu_backward(const Exec& exec, int64_t n, const float* x, const float* dy, float* dx);
}  // namespace cuda

}  // namespace convoy::kernels
