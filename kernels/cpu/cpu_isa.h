// Which x86 instruction set the CPU kernels use. The best one the CPU supports is chosen
// at run time (AVX-512F, else AVX2 with FMA, else the portable C++ code), unless the
// environment variable CONVOY_CPU_ISA pins it: `generic`, `avx2` or `avx512`. Pinning lets
// one machine test every kernel path it can run (an AVX-512 machine runs the AVX2 and
// generic paths too); asking for an ISA the CPU lacks is an error, not a silent fallback.
// Today the choice decides the SGEMM micro-kernel and whether fp16 conversions use F16C
// (AVX2 and above).
#pragma once

namespace convoy::kernels::cpu {

enum class CpuIsa { generic, avx2, avx512 };

const char* to_string(CpuIsa isa);
bool cpu_supports(CpuIsa isa);
// The ISA in use: CONVOY_CPU_ISA if set (checked), else the best supported. Read once.
CpuIsa cpu_isa();
// Parses "generic", "avx2" or "avx512" and checks the CPU supports it; `origin` names where
// the text came from in the error message.
CpuIsa parse_cpu_isa(const char* text, const char* origin);

}  // namespace convoy::kernels::cpu
