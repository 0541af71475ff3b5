// 16-bit floating point for gradient compression: IEEE binary16 (fp16) and bfloat16 (bf16),
// held as uint16_t bits. Narrowing rounds to nearest, ties to even (as __float2half_rn and
// PyTorch's casts do); fp16 overflows to infinity and keeps subnormals; NaN stays a (quiet)
// NaN. The scalar conversions are shared by the CPU and CUDA code (CONVOY_HD), so both
// produce the same bits.
//
// pack_16: y = narrow(scale * x). unpack_16: y = scale * widen(x). (Compressed gradients are
// divided by the world size in the packing pass, as DDP's fp16 hook does, so the sum over
// the ranks stays in fp16's range whenever the gradients do.)
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/exec.h"

namespace convoy::kernels {

enum class HalfFormat { fp16, bf16 };
const char* to_string(HalfFormat f);

CONVOY_HD uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

CONVOY_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// Rounds `value >> shift` to nearest, ties to even (shift >= 1).
CONVOY_HD uint32_t shift_round_even(uint32_t value, uint32_t shift) {
  const uint32_t kept = value >> shift, rest = value & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  return kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
}

CONVOY_HD uint16_t float_to_fp16(float x) {
  const uint32_t f = float_bits(x);
  const uint32_t sign = (f >> 16) & 0x8000u, a = f & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 (and inf): inf
  if (a >= 0x38800000u)                                                // normal: rebias 127 -> 15
    return static_cast<uint16_t>(sign | shift_round_even(a - 0x38000000u, 13));
  if (a <= 0x33000000u) return static_cast<uint16_t>(sign);            // <= 2^-25: zero (tie to even)
  const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;         // subnormal: units of 2^-24
  return static_cast<uint16_t>(sign | shift_round_even(m, 126u - e));
}

CONVOY_HD float fp16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {  // zero or subnormal: m * 2^-24, exact in float
    const float v = static_cast<float>(m) * 5.9604644775390625e-8f;
    return bits_float(float_bits(v) | sign);
  }
  if (e == 31) return bits_float(sign | 0x7f800000u | (m << 13));
  return bits_float(sign | ((e + 112u) << 23) | (m << 13));
}

CONVOY_HD uint16_t float_to_bf16(float x) {
  const uint32_t f = float_bits(x);
  if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((f >> 16) | 0x0040u);  // quiet NaN
  return static_cast<uint16_t>((f + 0x7fffu + ((f >> 16) & 1u)) >> 16);
}

CONVOY_HD float bf16_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

CONVOY_HD uint16_t narrow_16(HalfFormat f, float x) { return f == HalfFormat::fp16 ? float_to_fp16(x) : float_to_bf16(x); }
CONVOY_HD float widen_16(HalfFormat f, uint16_t h) { return f == HalfFormat::fp16 ? fp16_to_float(h) : bf16_to_float(h); }

void pack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y);
void unpack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y);

namespace cpu {
void pack_16(HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y);
void unpack_16(HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y);
// inout = narrow(widen(in) + widen(inout)): the element-wise sum of a 16-bit reduce (the MPI op).
void accumulate_16(HalfFormat format, int64_t n, const uint16_t* in, uint16_t* inout);
}  // namespace cpu

namespace cuda {
void pack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y);
void unpack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y);
}  // namespace cuda

}  // namespace convoy::kernels
