// The CUDA convolution variants, by name, for tests and benchmarks. Every variant keeps
// the kernels/conv2d.h contracts (forward assigns y, backward_data assigns dx,
// backward_weights ADDS into dw and dbias, bias/dbias may be null). Plain C++ header.
#pragma once
#include <span>
#include <string_view>

#include "kernels/conv2d.h"

namespace convoy::kernels::cuda {

struct ConvVariant {
  const char* name;
  void (*forward)(const Exec&, const Conv2dShape&, const float* x, const float* w, const float* bias, float* y);
  void (*backward_data)(const Exec&, const Conv2dShape&, const float* dy, const float* w, float* dx);
  void (*backward_weights)(const Exec&, const Conv2dShape&, const float* x, const float* dy, float* dw,
                           float* dbias);
};

// naive: one thread per output element, loops over the reduction (the CUDA reference).
void conv2d_forward_naive(const Exec&, const Conv2dShape&, const float*, const float*, const float*, float*);
void conv2d_backward_data_naive(const Exec&, const Conv2dShape&, const float*, const float*, float*);
void conv2d_backward_weights_naive(const Exec&, const Conv2dShape&, const float*, const float*, float*, float*);

// implicit_gemm: register-tiled GEMM whose operand tiles are gathered from the tensors.
void conv2d_forward_implicit_gemm(const Exec&, const Conv2dShape&, const float*, const float*, const float*, float*);
void conv2d_backward_data_implicit_gemm(const Exec&, const Conv2dShape&, const float*, const float*, float*);
void conv2d_backward_weights_implicit_gemm(const Exec&, const Conv2dShape&, const float*, const float*, float*,
                                           float*);

// implicit_gemm_fastdiv: the same kernels with every index division by a shape value done as
// a multiply-high and shift (kernels/fast_div.h). A candidate default until measured on a GPU.
void conv2d_forward_implicit_gemm_fastdiv(const Exec&, const Conv2dShape&, const float*, const float*, const float*,
                                          float*);
void conv2d_backward_data_implicit_gemm_fastdiv(const Exec&, const Conv2dShape&, const float*, const float*, float*);
void conv2d_backward_weights_implicit_gemm_fastdiv(const Exec&, const Conv2dShape&, const float*, const float*, float*,
                                                   float*);

// implicit_gemm_flipped: implicit_gemm, except backward data at stride 1, which is the forward
// kernel run on dy with the filters flipped (kernels/conv2d_flip.h). A candidate default for
// backward data until measured on a GPU.
void conv2d_backward_data_implicit_gemm_flipped(const Exec&, const Conv2dShape&, const float*, const float*, float*);

// implicit_gemm_kgather: implicit_gemm, except backward weights, whose x gather is read along
// the reduction (8 consecutive output positions per column) instead of across (c, r, s)
// columns. A candidate default for backward weights until measured on a GPU.
void conv2d_backward_weights_implicit_gemm_kgather(const Exec&, const Conv2dShape&, const float*, const float*,
                                                   float*, float*);

// cuDNN, the vendor yardstick (FP32 FMA math, deterministic algorithms for the backward ops).
void conv2d_forward_cudnn(const Exec&, const Conv2dShape&, const float*, const float*, const float*, float*);
void conv2d_backward_data_cudnn(const Exec&, const Conv2dShape&, const float*, const float*, float*);
void conv2d_backward_weights_cudnn(const Exec&, const Conv2dShape&, const float*, const float*, float*, float*);

std::span<const ConvVariant> conv_variants();      // own variants, slowest first
const char* conv_default_variant();                 // what cuda::conv2d_* run for Impl::own
const ConvVariant& conv_variant(std::string_view name);  // throws naming the known ones
const ConvVariant& conv_cudnn();                    // the cuDNN entry points as a variant

// What cuda::conv2d_* run for Impl::own in this process: the default variant, or what the
// environment's CONVOY_CUDA_CONV names (read once), so that a built binary can train with a
// candidate on a card. conv_own_from reads such a value: one variant name for every pass, or
// three joined by '/' for forward, backward data and backward weights (name "per-pass").
const ConvVariant& conv_own_variant();
ConvVariant conv_own_from(std::string_view spec);  // throws naming CONVOY_CUDA_CONV and the known ones

// Deterministic fixed-order bias gradient: dbias[k] += sum over n, p, q of dy[n, k, p, q].
void conv2d_bias_grad_accumulate(const Exec&, const Conv2dShape&, const float* dy, float* dbias);

}  // namespace convoy::kernels::cuda
