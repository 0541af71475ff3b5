// SGEMM, row-major: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
// op(A) = A (A is M x K, leading dimension lda) or A^T (A is K x M). Same for B.
// beta == 0 means C is not read (it may hold NaN).
#pragma once
#include "kernels/exec.h"

namespace convoy::kernels {

enum class Trans { no, yes };

struct GemmArgs {
  Trans trans_a = Trans::no, trans_b = Trans::no;
  int M = 0, N = 0, K = 0;
  float alpha = 1.0f;
  const float* A = nullptr; int lda = 0;
  const float* B = nullptr; int ldb = 0;
  float beta = 0.0f;
  float* C = nullptr; int ldc = 0;
};

void sgemm(const Exec& exec, const GemmArgs& args);

namespace cpu {
void sgemm_reference(const GemmArgs& args);  // plain triple loop, double accumulation
void sgemm(const GemmArgs& args);            // packed panels + run-time chosen micro-kernel, OpenMP
const char* sgemm_microkernel_name();        // "avx512", "avx2" or "generic", as chosen at run time
}  // namespace cpu

namespace cuda {
void sgemm(const Exec& exec, const GemmArgs& args);  // own kernel, or cuBLAS when exec.impl == vendor
}

}  // namespace convoy::kernels
