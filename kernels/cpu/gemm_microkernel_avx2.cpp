// AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators (6 rows x 2 vectors
// of 8). Per k: 2 loads of B, 6 broadcasts of A, 12 FMAs, so the two FMA pipes of Zen 3 /
// Haswell are kept busy while 15 of the 16 ymm registers are live (12 acc + 2 B + 1 A).
// Blocking for Zen 3 (32 KiB L1d, 512 KiB L2 per core): kc = 256 keeps the kc x 16 panel of
// B (16 KiB) in L1; mc = 144 keeps the mc x kc block of A (144 KiB) in L2 with room for C
// and streaming B; nc = 4080 keeps the packed B panel (4 MiB) in L3.
#include <immintrin.h>

#include "kernels/cpu/gemm_internal.h"

namespace convoy::kernels::cpu::gemm {
namespace {

constexpr int kMR = 6, kNR = 16;

inline __attribute__((always_inline)) void store_row(float* c, __m256 lo, __m256 hi, __m256 alpha,
                                                     __m256 beta, bool read_c) {
  if (read_c) {
    lo = _mm256_fmadd_ps(alpha, lo, _mm256_mul_ps(beta, _mm256_loadu_ps(c)));
    hi = _mm256_fmadd_ps(alpha, hi, _mm256_mul_ps(beta, _mm256_loadu_ps(c + 8)));
  } else {
    lo = _mm256_mul_ps(alpha, lo);
    hi = _mm256_mul_ps(alpha, hi);
  }
  _mm256_storeu_ps(c, lo);
  _mm256_storeu_ps(c + 8, hi);
}

void kernel_6x16(long kc, const float* a, long a_step, const float* b, long b_step, float* c, long ldc,
                 float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int r = 0; r < kMR; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (long k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
    a += a_step;
    b += b_step;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const bool read_c = beta != 0.0f;
  store_row(c + 0 * ldc, c00, c01, va, vb, read_c);
  store_row(c + 1 * ldc, c10, c11, va, vb, read_c);
  store_row(c + 2 * ldc, c20, c21, va, vb, read_c);
  store_row(c + 3 * ldc, c30, c31, va, vb, read_c);
  store_row(c + 4 * ldc, c40, c41, va, vb, read_c);
  store_row(c + 5 * ldc, c50, c51, va, vb, read_c);
}

}  // namespace

const MicroKernel& microkernel_avx2() {
  static const MicroKernel k{"avx2", kMR, kNR, /*mc=*/144, /*kc=*/256, /*nc=*/4080, kernel_6x16};
  return k;
}

}  // namespace convoy::kernels::cpu::gemm
