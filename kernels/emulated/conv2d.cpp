// The convolution variants on the emulated device (kernels/cuda/conv2d_variants.cpp holds the
// table): naive runs the CPU reference, the implicit-GEMM variants and cuDNN the fast CPU
// convolution, and the filter flip the CPU's. implicit_gemm_flipped's backward data is host
// code shared with the GPU build (kernels/cuda/conv2d_flipped_host.cpp), so it runs here as
// it does on a card: the flip, then the forward. Backward-weights goes through a device
// workspace, as the split-K kernels do: the gradient is formed there and added into dw, so
// the workspace rule of kernels/exec.h is exercised by every weight gradient.
#include <algorithm>

#include "kernels/conv2d_flip.h"
#include "kernels/cpu/conv2d_check.h"
#include "kernels/cuda/conv2d_variants.h"
#include "kernels/elementwise.h"
#include "kernels/emulated/launch.h"

namespace convoy::kernels::cuda {
namespace {

struct Sizes {
  std::size_t x, w, y, bias;
};
Sizes sizes(const Conv2dShape& s) {
  const int64_t P = s.P(), Q = s.Q();
  return {emulated::bytes_of(int64_t{s.N} * s.C * s.H * s.W), emulated::bytes_of(int64_t{s.K} * s.C * s.R * s.S),
          emulated::bytes_of(int64_t{s.N} * s.K * P * Q), emulated::bytes_of(s.K)};
}

using Forward = void (*)(const Conv2dShape&, const float*, const float*, const float*, float*);
using BackwardData = void (*)(const Conv2dShape&, const float*, const float*, float*);
using BackwardWeights = void (*)(const Conv2dShape&, const float*, const float*, float*, float*);

void forward(const char* name, Forward cpu_op, const Exec& exec, const Conv2dShape& s, const float* x, const float* w,
             const float* bias, float* y) {
  cpu::check_conv2d_shape(s, name);
  const Sizes n = sizes(s);
  emulated::run(exec, name, {{"x", x, n.x}, {"w", w, n.w}, {"bias", bias, bias ? n.bias : 0}, {"y", y, n.y, true}},
                [=] { cpu_op(s, x, w, bias, y); });
}

void backward_data(const char* name, BackwardData cpu_op, const Exec& exec, const Conv2dShape& s, const float* dy,
                   const float* w, float* dx) {
  cpu::check_conv2d_shape(s, name);
  const Sizes n = sizes(s);
  emulated::run(exec, name, {{"dy", dy, n.y}, {"w", w, n.w}, {"dx", dx, n.x, true}}, [=] { cpu_op(s, dy, w, dx); });
}

void backward_weights(const char* name, BackwardWeights cpu_op, const Exec& exec, const Conv2dShape& s,
                      const float* x, const float* dy, float* dw, float* dbias) {
  cpu::check_conv2d_shape(s, name);
  const Sizes n = sizes(s);
  ScratchBuffer partial(exec, n.w);
  float* ws = partial.as<float>();
  const int64_t count = static_cast<int64_t>(n.w / sizeof(float));
  emulated::run(exec, name,
                {{"x", x, n.x}, {"dy", dy, n.y}, {"dw", dw, n.w, true}, {"dbias", dbias, dbias ? n.bias : 0, true},
                 {"workspace", ws, n.w, true}},
                [=] {
                  std::fill(ws, ws + count, 0.0f);
                  cpu_op(s, x, dy, ws, dbias);
                  cpu::add(count, dw, ws, dw);
                });
}

}  // namespace

void conv2d_forward_naive(const Exec& e, const Conv2dShape& s, const float* x, const float* w, const float* b,
                          float* y) {
  forward("conv2d_forward_naive", cpu::conv2d_forward_reference, e, s, x, w, b, y);
}
void conv2d_backward_data_naive(const Exec& e, const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  backward_data("conv2d_backward_data_naive", cpu::conv2d_backward_data_reference, e, s, dy, w, dx);
}
void conv2d_backward_weights_naive(const Exec& e, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                   float* db) {
  backward_weights("conv2d_backward_weights_naive", cpu::conv2d_backward_weights_reference, e, s, x, dy, dw, db);
}

void conv2d_forward_implicit_gemm(const Exec& e, const Conv2dShape& s, const float* x, const float* w,
                                  const float* b, float* y) {
  forward("conv2d_forward_implicit_gemm", cpu::conv2d_forward, e, s, x, w, b, y);
}
void conv2d_backward_data_implicit_gemm(const Exec& e, const Conv2dShape& s, const float* dy, const float* w,
                                        float* dx) {
  backward_data("conv2d_backward_data_implicit_gemm", cpu::conv2d_backward_data, e, s, dy, w, dx);
}
void conv2d_backward_weights_implicit_gemm(const Exec& e, const Conv2dShape& s, const float* x, const float* dy,
                                           float* dw, float* db) {
  backward_weights("conv2d_backward_weights_implicit_gemm", cpu::conv2d_backward_weights, e, s, x, dy, dw, db);
}

void conv2d_forward_implicit_gemm_fastdiv(const Exec& e, const Conv2dShape& s, const float* x, const float* w,
                                          const float* b, float* y) {
  forward("conv2d_forward_implicit_gemm_fastdiv", cpu::conv2d_forward, e, s, x, w, b, y);
}
void conv2d_backward_data_implicit_gemm_fastdiv(const Exec& e, const Conv2dShape& s, const float* dy,
                                                const float* w, float* dx) {
  backward_data("conv2d_backward_data_implicit_gemm_fastdiv", cpu::conv2d_backward_data, e, s, dy, w, dx);
}
void conv2d_backward_weights_implicit_gemm_fastdiv(const Exec& e, const Conv2dShape& s, const float* x,
                                                   const float* dy, float* dw, float* db) {
  backward_weights("conv2d_backward_weights_implicit_gemm_fastdiv", cpu::conv2d_backward_weights, e, s, x, dy, dw,
                   db);
}

void conv2d_backward_weights_implicit_gemm_kgather(const Exec& e, const Conv2dShape& s, const float* x,
                                                   const float* dy, float* dw, float* db) {
  backward_weights("conv2d_backward_weights_implicit_gemm_kgather", cpu::conv2d_backward_weights, e, s, x, dy, dw,
                   db);
}

void conv2d_forward_cudnn(const Exec& e, const Conv2dShape& s, const float* x, const float* w, const float* b,
                          float* y) {
  forward("conv2d_forward_cudnn", cpu::conv2d_forward, e, s, x, w, b, y);
}
void conv2d_backward_data_cudnn(const Exec& e, const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  backward_data("conv2d_backward_data_cudnn", cpu::conv2d_backward_data, e, s, dy, w, dx);
}
void conv2d_backward_weights_cudnn(const Exec& e, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                   float* db) {
  backward_weights("conv2d_backward_weights_cudnn", cpu::conv2d_backward_weights, e, s, x, dy, dw, db);
}

void conv2d_flip_filters(const Exec& exec, const Conv2dShape& s, const float* w, float* flipped) {
  check_flip_shape(s, "cuda conv2d_flip_filters");
  const std::size_t bytes = sizes(s).w;
  emulated::run(exec, "conv2d_flip_filters", {{"w", w, bytes}, {"flipped", flipped, bytes, true}},
                [=] { cpu::conv2d_flip_filters(s, w, flipped); });
}

void conv2d_bias_grad_accumulate(const Exec& exec, const Conv2dShape& s, const float* dy, float* dbias) {
  cpu::check_conv2d_shape(s, "conv2d_bias_grad_accumulate");
  const Sizes n = sizes(s);
  const int rows = s.N, plane = s.P() * s.Q(), K = s.K;
  emulated::run(exec, "conv2d_bias_grad_accumulate", {{"dy", dy, n.y}, {"dbias", dbias, n.bias, true}}, [=] {
    for (int i = 0; i < rows; ++i)
      for (int k = 0; k < K; ++k) {
        const float* p = dy + (static_cast<int64_t>(i) * K + k) * plane;
        double acc = 0;
        for (int j = 0; j < plane; ++j) acc += p[j];
        dbias[k] += static_cast<float>(acc);
      }
  });
}

}  // namespace convoy::kernels::cuda
