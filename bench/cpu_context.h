// What every CPU benchmark prints in its context block beside Google Benchmark's own (CPU
// model, caches, load): the kernel ISA it ran (kernels/cpu/cpu_isa.h; CONVOY_CPU_ISA pins it)
// and the OpenMP thread count, so a figure in RESULTS.md says which code produced it.
#pragma once
#include <benchmark/benchmark.h>
#include <omp.h>

#include <string>

#include "kernels/cpu/cpu_isa.h"

namespace convoy::bench {

inline void add_cpu_context() {
  benchmark::AddCustomContext("convoy_cpu_isa", kernels::cpu::to_string(kernels::cpu::cpu_isa()));
  benchmark::AddCustomContext("omp_threads", std::to_string(omp_get_max_threads()));
}

// BENCHMARK_MAIN with the context added.
inline int run_benchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  add_cpu_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace convoy::bench
