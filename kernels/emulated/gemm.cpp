// The SGEMM variants on the emulated device: every name of the CUDA table
// (kernels/cuda/gemm_variants.cpp) runs a CPU kernel, naive the reference loop, the tiled
// ones and cuBLAS the packed one.
#include "kernels/cuda/gemm_variants.h"
#include "kernels/emulated/launch.h"

namespace convoy::kernels::cuda {
namespace {

// Bytes spanned by a row-major operand of `rows` x `cols` used elements, leading dimension ld.
std::size_t operand_bytes(int rows, int cols, int ld) {
  if (rows <= 0 || cols <= 0) return 0;
  return (static_cast<std::size_t>(rows - 1) * static_cast<std::size_t>(ld) + static_cast<std::size_t>(cols)) *
         sizeof(float);
}

template <void (*Cpu)(const GemmArgs&)>
void emulated_sgemm(const Exec& exec, const GemmArgs& g, const char* name) {
  if (g.M < 0 || g.N < 0 || g.K < 0) fail(name, ": negative size M=", g.M, " N=", g.N, " K=", g.K);
  if (g.M == 0 || g.N == 0) return;
  const bool ta = g.trans_a == Trans::yes, tb = g.trans_b == Trans::yes;
  emulated::run(exec, name,
                {{"A", g.A, operand_bytes(ta ? g.K : g.M, ta ? g.M : g.K, g.lda)},
                 {"B", g.B, operand_bytes(tb ? g.N : g.K, tb ? g.K : g.N, g.ldb)},
                 {"C", g.C, operand_bytes(g.M, g.N, g.ldc), true}},
                [g] { Cpu(g); });
}

}  // namespace

void sgemm_naive(const Exec& exec, const GemmArgs& g) {
  emulated_sgemm<cpu::sgemm_reference>(exec, g, "sgemm_naive");
}
void sgemm_smem_tiled(const Exec& exec, const GemmArgs& g) { emulated_sgemm<cpu::sgemm>(exec, g, "sgemm_smem_tiled"); }
void sgemm_regtile(const Exec& exec, const GemmArgs& g) { emulated_sgemm<cpu::sgemm>(exec, g, "sgemm_regtile"); }
void sgemm_warptile(const Exec& exec, const GemmArgs& g) { emulated_sgemm<cpu::sgemm>(exec, g, "sgemm_warptile"); }
void sgemm_cublas(const Exec& exec, const GemmArgs& g) { emulated_sgemm<cpu::sgemm>(exec, g, "sgemm_cublas"); }

}  // namespace convoy::kernels::cuda
