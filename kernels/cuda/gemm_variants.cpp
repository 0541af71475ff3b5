// CUDA SGEMM entry point and the variant table. Impl::vendor goes to cuBLAS; Impl::own runs
// the default variant, chosen by measurement (bench/cuda/gemm_cuda_bench.cpp). Plain C++:
// the emulated device (kernels/emulated/) shares it.
#include <array>
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

const GemmVariant& gemm_variant(std::string_view name) {
  for (const auto& v : kVariants)
    if (name == v.name) return v;
  std::string known;
  for (const auto& v : kVariants) known += std::string(known.empty() ? "" : ", ") + v.name;
  fail("unknown CUDA SGEMM variant '", name, "' (known: ", known, ")");
}

void sgemm(const Exec& exec, const GemmArgs& args) {
  if (args.M <= 0 || args.N <= 0) return;
  if (args.K < 0) fail("cuda sgemm: negative K = ", args.K);
  if (exec.impl == Impl::vendor) return sgemm_cublas(exec, args);
  static const GemmLauncher fast = gemm_variant(gemm_default_variant()).launch;
  fast(exec, args);
}

}  // namespace convoy::kernels::cuda
