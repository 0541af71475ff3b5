// The CPU kernel ISA: the CONVOY_CPU_ISA override pins the SGEMM micro-kernel (ctest runs
// the kernel and layer suites once per ISA the machine has, tests/run_with_cpu_isa.sh), and
// a wrong or unsupported value is refused with a message that names it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engine/error.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/gemm.h"

namespace convoy::kernels::cpu {
namespace {

TEST(CpuIsa, TheSgemmMicroKernelIsTheChosenIsa) {
  EXPECT_STREQ(sgemm_microkernel_name(), to_string(cpu_isa()));
  if (const char* pinned = std::getenv("CONVOY_CPU_ISA")) EXPECT_STREQ(sgemm_microkernel_name(), pinned);
}

TEST(CpuIsa, WithoutOverrideTheBestSupportedIsChosen) {
  if (std::getenv("CONVOY_CPU_ISA")) GTEST_SKIP() << "CONVOY_CPU_ISA is set";
  const CpuIsa best = cpu_supports(CpuIsa::avx512) ? CpuIsa::avx512
                      : cpu_supports(CpuIsa::avx2) ? CpuIsa::avx2
                                                   : CpuIsa::generic;
  EXPECT_EQ(cpu_isa(), best);
}

// The override as a process sees it from its start: the test re-runs in a child process
// (the "threadsafe" death-test style re-executes the binary) with CONVOY_CPU_ISA=generic,
// which every CPU supports, and the child exits 0 only if that is the ISA it chose.
TEST(CpuIsa, TheEnvironmentOverrideIsWhatAProcessUses) {
  const char* before = std::getenv("CONVOY_CPU_ISA");  // the child sees "generic" here too
  if (before && std::string(before) != "generic") GTEST_SKIP() << "CONVOY_CPU_ISA is set to " << before;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ::setenv("CONVOY_CPU_ISA", "generic", 1);
  EXPECT_EXIT(std::exit(cpu_isa() == CpuIsa::generic && std::string(sgemm_microkernel_name()) == "generic" ? 0 : 3),
              ::testing::ExitedWithCode(0), "");
  if (!before) ::unsetenv("CONVOY_CPU_ISA");
}

TEST(CpuIsa, ParsesEveryNameTheCpuSupports) {
  for (CpuIsa isa : {CpuIsa::generic, CpuIsa::avx2, CpuIsa::avx512})
    if (cpu_supports(isa)) EXPECT_EQ(parse_cpu_isa(to_string(isa), "CONVOY_CPU_ISA"), isa);
}

TEST(CpuIsa, AnUnknownNameIsRefusedWithTheChoices) {
  try {
    parse_cpu_isa("sse9", "CONVOY_CPU_ISA");
    ADD_FAILURE() << "sse9 was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("CONVOY_CPU_ISA='sse9'"), std::string::npos) << m;
    EXPECT_NE(m.find("generic, avx2 or avx512"), std::string::npos) << m;
  }
}

TEST(CpuIsa, AnIsaTheCpuLacksIsRefused) {
  for (CpuIsa isa : {CpuIsa::avx2, CpuIsa::avx512}) {
    if (cpu_supports(isa)) continue;
    try {
      parse_cpu_isa(to_string(isa), "CONVOY_CPU_ISA");
      ADD_FAILURE() << to_string(isa) << " was accepted on a CPU without it";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("which this CPU does not have"), std::string::npos) << e.what();
    }
    return;
  }
  GTEST_SKIP() << "this CPU has every ISA convoy knows";
}

}  // namespace
}  // namespace convoy::kernels::cpu
