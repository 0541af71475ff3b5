// CUDA SGEMM entry point and the variant table. Impl::vendor goes to cuBLAS; Impl::own runs
// the default variant, chosen by measurement (bench/cuda/gemm_cuda_bench.cpp), or the one
// CONVOY_CUDA_GEMM names. Plain C++: the emulated device (kernels/emulated/) shares it.
#include <array>
#include <cstdlib>
#include <string>

#include "engine/error.h"
#include "kernels/cuda/gemm_variants.h"

namespace convoy::kernels::cuda {
namespace {

constexpr std::array<GemmVariant, 4> kVariants = {{
    {"naive", sgemm_naive},
    {"smem_tiled", sgemm_smem_tiled},
    {"regtile_128x128", sgemm_regtile},
    {"warptile_128x128x16", sgemm_warptile},  // not yet measured on a GPU: not the default
}};

}  // namespace

std::span<const GemmVariant> gemm_variants() { return kVariants; }

const char* gemm_default_variant() { return "regtile_128x128"; }

namespace {
std::string known_names() {
  std::string known;
  for (const auto& v : kVariants) known += std::string(known.empty() ? "" : ", ") + v.name;
  return known;
}

const GemmVariant* find_variant(std::string_view name) {
  for (const auto& v : kVariants)
    if (name == v.name) return &v;
  return nullptr;
}
}  // namespace

const GemmVariant& gemm_variant(std::string_view name) {
  if (const GemmVariant* v = find_variant(name)) return *v;
  fail("unknown CUDA SGEMM variant '", name, "' (known: ", known_names(), ")");
}

const GemmVariant& gemm_own_from(std::string_view name) {
  if (const GemmVariant* v = find_variant(name)) return *v;
  fail("CONVOY_CUDA_GEMM='", name, "': unknown SGEMM variant (known: ", known_names(), ")");
}

const GemmVariant& gemm_own_variant() {
  static const GemmVariant& own = []() -> const GemmVariant& {
    const char* env = std::getenv("CONVOY_CUDA_GEMM");
    return gemm_own_from(env && *env ? env : gemm_default_variant());
  }();
  return own;
}

void sgemm(const Exec& exec, const GemmArgs& args) {
  if (args.M <= 0 || args.N <= 0) return;
  if (args.K < 0) fail("cuda sgemm: negative K = ", args.K);
  if (exec.impl == Impl::vendor) return sgemm_cublas(exec, args);
  gemm_own_variant().launch(exec, args);
}

}  // namespace convoy::kernels::cuda
