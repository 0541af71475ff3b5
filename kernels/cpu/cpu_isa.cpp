#include "kernels/cpu/cpu_isa.h"

#include <cstdlib>
#include <cstring>

#include "engine/error.h"

namespace convoy::kernels::cpu {

const char* to_string(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512: return "avx512";
    case CpuIsa::avx2: return "avx2";
    case CpuIsa::generic: break;
  }
  return "generic";
}

bool cpu_supports(CpuIsa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case CpuIsa::avx512: return __builtin_cpu_supports("avx512f");
    case CpuIsa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::generic: return true;
  }
  return false;
#else
  return isa == CpuIsa::generic;
#endif
}

CpuIsa parse_cpu_isa(const char* text, const char* origin) {
  CpuIsa isa;
  if (std::strcmp(text, "generic") == 0) isa = CpuIsa::generic;
  else if (std::strcmp(text, "avx2") == 0) isa = CpuIsa::avx2;
  else if (std::strcmp(text, "avx512") == 0) isa = CpuIsa::avx512;
  else fail(origin, "='", text, "' is not a CPU kernel ISA: use generic, avx2 or avx512");
  if (!cpu_supports(isa))
    fail(origin, "=", text, " asks for ", isa == CpuIsa::avx512 ? "AVX-512F" : "AVX2 with FMA",
         ", which this CPU does not have; use generic", isa == CpuIsa::avx512 ? " or avx2" : "",
         " (or unset it to use the best the CPU has)");
  return isa;
}

CpuIsa cpu_isa() {
  static const CpuIsa isa = [] {
    if (const char* env = std::getenv("CONVOY_CPU_ISA"); env && *env) return parse_cpu_isa(env, "CONVOY_CPU_ISA");
    for (CpuIsa best : {CpuIsa::avx512, CpuIsa::avx2})
      if (cpu_supports(best)) return best;
    return CpuIsa::generic;
  }();
  return isa;
}

}  // namespace convoy::kernels::cpu
