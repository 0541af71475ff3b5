// AVX2 + FMA micro-kernel, 4 x 24: a 4-row tile of C in 12 ymm accumulators (4 rows x 3
// vectors of 8). Per k: 3 loads of B, 4 broadcasts of A, 12 FMAs; all 16 ymm registers are
// live (12 acc + 3 B + 1 A).
//
// Why a second AVX2 tile: the 6 x 16 tile pads a GEMM's rows to a multiple of 6, and the
// convolutions of the quick and resnet models have 32 or 64 output channels (the rows of
// their GEMMs): 32 -> 36 computes 12.5% of padding. A 4-row tile divides both, with the same
// 12 FMAs per k and one load fewer (7 against 8). microkernel_for_rows picks it where it
// pads less. Blocking as the 6 x 16 tile (Zen 3: 32 KiB L1d, 512 KiB L2): kc = 256 keeps
// the kc x 24 panel of B (24 KiB) in L1, mc = 144 keeps A in L2.
#include <immintrin.h>

#include "kernels/cpu/gemm_internal.h"

namespace convoy::kernels::cpu::gemm {
namespace {

constexpr int kMR = 4, kNR = 24;

inline __attribute__((always_inline)) void store_row(float* c, __m256 v0, __m256 v1, __m256 v2, __m256 alpha,
                                                     __m256 beta, bool read_c) {
  if (read_c) {
    v0 = _mm256_fmadd_ps(alpha, v0, _mm256_mul_ps(beta, _mm256_loadu_ps(c)));
    v1 = _mm256_fmadd_ps(alpha, v1, _mm256_mul_ps(beta, _mm256_loadu_ps(c + 8)));
    v2 = _mm256_fmadd_ps(alpha, v2, _mm256_mul_ps(beta, _mm256_loadu_ps(c + 16)));
  } else {
    v0 = _mm256_mul_ps(alpha, v0);
    v1 = _mm256_mul_ps(alpha, v1);
    v2 = _mm256_mul_ps(alpha, v2);
  }
  _mm256_storeu_ps(c, v0);
  _mm256_storeu_ps(c + 8, v1);
  _mm256_storeu_ps(c + 16, v2);
}

void kernel_4x24(long kc, const float* a, long a_step, const float* b, long b_step, float* c, long ldc,
                 float alpha, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c02 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps(), c12 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c22 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c32 = _mm256_setzero_ps();
  for (int r = 0; r < kMR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (long k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), b2 = _mm256_loadu_ps(b + 16);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    c02 = _mm256_fmadd_ps(ar, b2, c02);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    c12 = _mm256_fmadd_ps(ar, b2, c12);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    c22 = _mm256_fmadd_ps(ar, b2, c22);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    c32 = _mm256_fmadd_ps(ar, b2, c32);
    a += a_step;
    b += b_step;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const bool read_c = beta != 0.0f;
  store_row(c + 0 * ldc, c00, c01, c02, va, vb, read_c);
  store_row(c + 1 * ldc, c10, c11, c12, va, vb, read_c);
  store_row(c + 2 * ldc, c20, c21, c22, va, vb, read_c);
  store_row(c + 3 * ldc, c30, c31, c32, va, vb, read_c);
}

}  // namespace

const MicroKernel& microkernel_avx2_4x24() {
  static const MicroKernel k{"avx2_4x24", kMR, kNR, /*mc=*/144, /*kc=*/192, /*nc=*/4080, kernel_4x24};
  return k;
}

}  // namespace convoy::kernels::cpu::gemm
