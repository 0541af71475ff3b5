// The SGEMM yardstick: plain loops in double precision, no blocking, no threads.
#include "kernels/gemm.h"

#include "engine/error.h"

namespace convoy::kernels::cpu {

void sgemm_reference(const GemmArgs& g) {
  if (g.M < 0 || g.N < 0 || g.K < 0) fail("sgemm_reference: negative size M=", g.M, " N=", g.N, " K=", g.K);
  if (g.M == 0 || g.N == 0) return;
  const bool ta = g.trans_a == Trans::yes, tb = g.trans_b == Trans::yes;
  for (int i = 0; i < g.M; ++i) {
    for (int j = 0; j < g.N; ++j) {
      double sum = 0.0;
      for (int k = 0; k < g.K; ++k) {
        const double a = ta ? g.A[static_cast<long>(k) * g.lda + i] : g.A[static_cast<long>(i) * g.lda + k];
        const double b = tb ? g.B[static_cast<long>(j) * g.ldb + k] : g.B[static_cast<long>(k) * g.ldb + j];
        sum += a * b;
      }
      float& c = g.C[static_cast<long>(i) * g.ldc + j];
      const double scaled = static_cast<double>(g.alpha) * sum;
      c = static_cast<float>(g.beta == 0.0f ? scaled : scaled + static_cast<double>(g.beta) * c);
    }
  }
}

}  // namespace convoy::kernels::cpu
