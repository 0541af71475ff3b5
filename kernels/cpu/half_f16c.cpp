// fp16 conversions with F16C: 8 floats per vcvtps2ph / vcvtph2ps, the tail (n % 8) through
// the scalar conversions, which round the same way. Memory-bound (6 bytes per element), so
// one 8-wide stream per thread is enough.
#include <cpuid.h>
#include <immintrin.h>

#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/half_internal.h"
#include "kernels/half.h"

namespace convoy::kernels::cpu {

// CPUID leaf 1: ECX bit 29 F16C, bit 28 AVX, bit 27 OSXSAVE; XCR0 bits 1-2: the OS saves the
// YMM state. (Read directly: clang 14's __builtin_cpu_supports does not know "f16c".)
bool have_f16c() {
  static const bool yes = [] {
    if (cpu_isa() == CpuIsa::generic) return false;  // CONVOY_CPU_ISA=generic: the portable loops
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool cpu = (c & (1u << 29)) && (c & (1u << 28)) && (c & (1u << 27));
    return cpu && (_xgetbv(0) & 0x6) == 0x6;
  }();
  return yes;
}

void pack_fp16_f16c(int64_t n, float scale, const float* x, uint16_t* y) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(s, _mm256_loadu_ps(x + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  for (; i < n; ++i) y[i] = float_to_fp16(scale * x[i]);
}

void unpack_fp16_f16c(int64_t n, float scale, const uint16_t* x, float* y) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 f = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(s, f));
  }
  for (; i < n; ++i) y[i] = scale * fp16_to_float(x[i]);
}

void accumulate_fp16_f16c(int64_t n, const uint16_t* in, uint16_t* inout) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    const __m256 b = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(inout + i)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(inout + i),
                     _mm256_cvtps_ph(_mm256_add_ps(a, b), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  for (; i < n; ++i) inout[i] = float_to_fp16(fp16_to_float(in[i]) + fp16_to_float(inout[i]));
}

}  // namespace convoy::kernels::cpu
