// The CUDA SGEMM variants, by name, for tests and benchmarks (llm.c's numbered-kernel
// habit): each launcher takes the kernels/gemm.h contract whole (row-major, any transpose
// combination, alpha/beta, beta == 0 never reads C, any M/N/K). Plain C++: no CUDA header.
#pragma once
#include <span>
#include <string_view>

#include "kernels/gemm.h"

namespace convoy::kernels::cuda {

using GemmLauncher = void (*)(const Exec& exec, const GemmArgs& args);

struct GemmVariant {
  const char* name;
  GemmLauncher launch;
};

void sgemm_naive(const Exec& exec, const GemmArgs& args);      // one thread per output
void sgemm_smem_tiled(const Exec& exec, const GemmArgs& args); // 16x16 shared-memory tiles
void sgemm_regtile(const Exec& exec, const GemmArgs& args);    // 128x128x8 block, 8x8 per thread
void sgemm_warptile(const Exec& exec, const GemmArgs& args);  // 128x128x16 block, 64x32 warp tiles
void sgemm_cublas(const Exec& exec, const GemmArgs& args);     // the vendor yardstick (FP32, no TF32)

std::span<const GemmVariant> gemm_variants();  // own variants, slowest first
const char* gemm_default_variant();            // what cuda::sgemm runs for Impl::own
const GemmVariant& gemm_variant(std::string_view name);  // throws naming the known ones
// What cuda::sgemm runs for Impl::own in this process: the default, or the variant the
// environment's CONVOY_CUDA_GEMM names (read once), so that a built binary can train with a
// candidate on a card. gemm_own_from reads such a value (throws naming CONVOY_CUDA_GEMM).
const GemmVariant& gemm_own_variant();
const GemmVariant& gemm_own_from(std::string_view name);

}  // namespace convoy::kernels::cuda
