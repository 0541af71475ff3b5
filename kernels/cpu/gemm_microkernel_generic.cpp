// Portable micro-kernel: a 4 x 8 tile in 32 scalar accumulators, which the compiler keeps
// in registers (and vectorises with whatever the baseline ISA offers, SSE2 on x86-64).
// It is the fallback for CPUs without AVX2 and the simplest statement of the contract.
#include <cmath>

#include "kernels/cpu/gemm_internal.h"

namespace convoy::kernels::cpu::gemm {
namespace {

constexpr int kMR = 4, kNR = 8;

void kernel_4x8(long kc, const float* a, long a_step, const float* b, long b_step, float* c, long ldc,
                float alpha, float beta) {
  float acc[kMR][kNR] = {};
  for (long k = 0; k < kc; ++k) {
    for (int r = 0; r < kMR; ++r) {
      const float ar = a[r];
      for (int j = 0; j < kNR; ++j) acc[r][j] += ar * b[j];
    }
    a += a_step;
    b += b_step;
  }
  for (int r = 0; r < kMR; ++r) {
    float* cr = c + r * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < kNR; ++j) cr[j] = alpha * acc[r][j];
    } else {
      for (int j = 0; j < kNR; ++j) cr[j] = std::fma(alpha, acc[r][j], beta * cr[j]);
    }
  }
}

}  // namespace

const MicroKernel& microkernel_generic() {
  static const MicroKernel k{"generic", kMR, kNR, /*mc=*/128, /*kc=*/256, /*nc=*/2048, kernel_4x8};
  return k;
}

}  // namespace convoy::kernels::cpu::gemm
