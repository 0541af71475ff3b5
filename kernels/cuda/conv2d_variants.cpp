// CUDA convolution entry points and the variant table. Impl::vendor goes to cuDNN; Impl::own
// runs the default variant, chosen by measurement (bench/cuda/conv2d_cuda_bench.cpp). Plain
// C++: the emulated device (kernels/emulated/) shares it.
#include <array>
#include <string>

#include "kernels/cuda/conv2d_variants.h"
#include "engine/error.h"

namespace convoy::kernels::cuda {
namespace {

constexpr std::array<ConvVariant, 5> kVariants = {{
    {"naive", conv2d_forward_naive, conv2d_backward_data_naive, conv2d_backward_weights_naive},
    {"implicit_gemm", conv2d_forward_implicit_gemm, conv2d_backward_data_implicit_gemm,
     conv2d_backward_weights_implicit_gemm},
    {"implicit_gemm_fastdiv", conv2d_forward_implicit_gemm_fastdiv, conv2d_backward_data_implicit_gemm_fastdiv,
     conv2d_backward_weights_implicit_gemm_fastdiv},
    {"implicit_gemm_flipped", conv2d_forward_implicit_gemm, conv2d_backward_data_implicit_gemm_flipped,
     conv2d_backward_weights_implicit_gemm},
    {"implicit_gemm_kgather", conv2d_forward_implicit_gemm, conv2d_backward_data_implicit_gemm,
     conv2d_backward_weights_implicit_gemm_kgather},
}};

constexpr ConvVariant kCudnn = {"cudnn", conv2d_forward_cudnn, conv2d_backward_data_cudnn,
                                conv2d_backward_weights_cudnn};

const ConvVariant& chosen(const Exec& exec) {
  static const ConvVariant& own = conv_variant(conv_default_variant());
  return exec.impl == Impl::vendor ? kCudnn : own;
}

}  // namespace

std::span<const ConvVariant> conv_variants() { return kVariants; }
const char* conv_default_variant() { return "implicit_gemm"; }
const ConvVariant& conv_cudnn() { return kCudnn; }

const ConvVariant& conv_variant(std::string_view name) {
  for (const auto& v : kVariants)
    if (name == v.name) return v;
  std::string known;
  for (const auto& v : kVariants) known += std::string(known.empty() ? "" : ", ") + v.name;
  fail("unknown CUDA convolution variant '", name, "' (known: ", known, ")");
}

void conv2d_forward(const Exec& exec, const Conv2dShape& s, const float* x, const float* w, const float* bias,
                    float* y) {
  chosen(exec).forward(exec, s, x, w, bias, y);
}

void conv2d_backward_data(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  chosen(exec).backward_data(exec, s, dy, w, dx);
}

void conv2d_backward_weights(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                             float* dbias) {
  chosen(exec).backward_weights(exec, s, x, dy, dw, dbias);
}

}  // namespace convoy::kernels::cuda
