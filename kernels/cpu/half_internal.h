// The fp16 loops of kernels/cpu/half.cpp with the x86 F16C instructions (vcvtps2ph with
// round-to-nearest-even, vcvtph2ps: the same bits as the scalar conversions of
// kernels/half.h except for the payload of a NaN), eight values at a time; chosen at run
// time when the CPU has F16C (kernels/cpu/half_f16c.cpp, built with -mf16c).
#pragma once
#include <cstdint>

namespace convoy::kernels::cpu {

bool have_f16c();
void pack_fp16_f16c(int64_t n, float scale, const float* x, uint16_t* y);
void unpack_fp16_f16c(int64_t n, float scale, const uint16_t* x, float* y);
void accumulate_fp16_f16c(int64_t n, const uint16_t* in, uint16_t* inout);

}  // namespace convoy::kernels::cpu
