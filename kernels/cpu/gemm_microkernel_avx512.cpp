// AVX-512F micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators (12 rows x 2 vectors of
// 16). Per k: 2 loads of B, 12 broadcasts of A, 24 FMAs; 27 of the 32 zmm registers are
// live, and 24 independent FMA chains cover the FMA latency (4 cycles x 2 pipes) threefold.
// Blocking for a server core with 1-2 MiB L2: kc = 384 keeps the kc x 32 panel of B
// (48 KiB) in L1/L2, mc = 192 keeps A (288 KiB) in L2, nc = 4096 keeps B (6 MiB) in L3.
// Compiled with -mavx512f and only called when __builtin_cpu_supports("avx512f").
#include <immintrin.h>

#include "kernels/cpu/gemm_internal.h"

namespace convoy::kernels::cpu::gemm {
namespace {

constexpr int kMR = 12, kNR = 32;

void kernel_12x32(long kc, const float* a, long a_step, const float* b, long b_step, float* c, long ldc,
                  float alpha, float beta) {
  __m512 acc[kMR][2];
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) {
    acc[r][0] = _mm512_setzero_ps();
    acc[r][1] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 2
  for (long k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < kMR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += a_step;
    b += b_step;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) {
    float* cr = c + r * ldc;
    __m512 lo = acc[r][0], hi = acc[r][1];
    if (beta != 0.0f) {
      lo = _mm512_fmadd_ps(va, lo, _mm512_mul_ps(vb, _mm512_loadu_ps(cr)));
      hi = _mm512_fmadd_ps(va, hi, _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16)));
    } else {
      lo = _mm512_mul_ps(va, lo);
      hi = _mm512_mul_ps(va, hi);
    }
    _mm512_storeu_ps(cr, lo);
    _mm512_storeu_ps(cr + 16, hi);
  }
}

}  // namespace

const MicroKernel& microkernel_avx512() {
  static const MicroKernel k{"avx512", kMR, kNR, /*mc=*/192, /*kc=*/384, /*nc=*/4096, kernel_12x32};
  return k;
}

}  // namespace convoy::kernels::cpu::gemm
