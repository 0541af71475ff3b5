// CUDA convolution entry points and the variant table. Impl::vendor goes to cuDNN; Impl::own
// runs the default variant, chosen by measurement (bench/cuda/conv2d_cuda_bench.cpp), or the
// passes CONVOY_CUDA_CONV names. Plain C++: the emulated device (kernels/emulated/) shares it.
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

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

std::string known_names() {
  std::string known;
  for (const auto& v : kVariants) known += std::string(known.empty() ? "" : ", ") + v.name;
  return known;
}

const ConvVariant* find_variant(std::string_view name) {
  for (const auto& v : kVariants)
    if (name == v.name) return &v;
  return nullptr;
}

const ConvVariant& chosen(const Exec& exec) {
  return exec.impl == Impl::vendor ? kCudnn : conv_own_variant();
}

}  // namespace

std::span<const ConvVariant> conv_variants() { return kVariants; }
const char* conv_default_variant() { return "implicit_gemm"; }
const ConvVariant& conv_cudnn() { return kCudnn; }

const ConvVariant& conv_variant(std::string_view name) {
  if (const ConvVariant* v = find_variant(name)) return *v;
  fail("unknown CUDA convolution variant '", name, "' (known: ", known_names(), ")");
}

ConvVariant conv_own_from(std::string_view spec) {
  std::vector<std::string_view> names;
  for (std::size_t begin = 0;;) {
    const std::size_t end = spec.find('/', begin);
    names.push_back(spec.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  if (names.size() != 1 && names.size() != 3)
    fail("CONVOY_CUDA_CONV='", spec, "': give one variant, or three joined by '/' (forward/backward_data/",
         "backward_weights); known: ", known_names());
  auto find = [&](std::string_view name) -> const ConvVariant& {
    if (const ConvVariant* v = find_variant(name)) return *v;
    fail("CONVOY_CUDA_CONV='", spec, "': unknown variant '", name, "' (known: ", known_names(), ")");
  };
  if (names.size() == 1) return find(names[0]);
  const ConvVariant &f = find(names[0]), &d = find(names[1]), &w = find(names[2]);
  return {"per-pass", f.forward, d.backward_data, w.backward_weights};
}

const ConvVariant& conv_own_variant() {
  static const ConvVariant own = [] {
    const char* env = std::getenv("CONVOY_CUDA_CONV");
    return conv_own_from(env && *env ? env : conv_default_variant());
  }();
  return own;
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
