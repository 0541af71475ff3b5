// CUDA SGEMM: every own variant beside cuBLAS (FP32, pedantic math) in one binary and one
// run, so the ratios are like for like. Square row-major C = A * B on random inputs,
// timed with CUDA events after a warm-up (manual time); counter TFLOP/s = 2*M*N*K / s.
// The naive and shared-tile variants run at 1024 and 4096 only (they are slow).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "engine/context.h"
#include "kernels/cuda/cuda_check.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/cuda/gemm_variants.h"

namespace {

using namespace convoy;

Tensor random_gpu(int64_t n, uint64_t seed) {
  Rng rng(seed, 7);
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = rng.uniform_at(i) * 2.0f - 1.0f;
  return Tensor::from_vector(Shape{n}, v).to(Device::cuda(0));
}

void run(benchmark::State& state, kernels::cuda::GemmLauncher launch, kernels::Impl impl) {
  if (cuda_device_count() == 0) {
    state.SkipWithError(("no CUDA device: " + cuda_unavailable_reason()).c_str());
    return;
  }
  const int n = static_cast<int>(state.range(0));
  Tensor a = random_gpu(int64_t{n} * n, 1), b = random_gpu(int64_t{n} * n, 2), c(Shape{int64_t{n} * n}, Device::cuda(0));
  kernels::Exec exec = exec_for(Device::cuda(0), impl);
  auto stream = static_cast<cudaStream_t>(exec.stream);
  kernels::GemmArgs args{kernels::Trans::no, kernels::Trans::no, n, n, n, 1.0f, a.data(), n, b.data(), n,
                         0.0f, c.data(), n};
  launch(exec, args);  // warm-up (and cuBLAS handle creation)
  CONVOY_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaEvent_t start, stop;
  CONVOY_CUDA_CHECK(cudaEventCreate(&start));
  CONVOY_CUDA_CHECK(cudaEventCreate(&stop));
  for (auto _ : state) {
    CONVOY_CUDA_CHECK(cudaEventRecord(start, stream));
    launch(exec, args);
    CONVOY_CUDA_CHECK(cudaEventRecord(stop, stream));
    CONVOY_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CONVOY_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
  }
  CONVOY_CUDA_CHECK(cudaEventDestroy(start));
  CONVOY_CUDA_CHECK(cudaEventDestroy(stop));
  state.counters["TFLOP/s"] = benchmark::Counter(2.0 * n * n * n / 1e12, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
  for (const auto& v : kernels::cuda::gemm_variants()) {
    auto* b = benchmark::RegisterBenchmark((std::string("sgemm/") + v.name).c_str(),
                                           [launch = v.launch](benchmark::State& s) { run(s, launch, kernels::Impl::own); });
    const std::string name = v.name;
    const bool slow = name == "naive" || name == "smem_tiled";
    if (slow) b->Arg(1024)->Arg(4096);
    else b->Arg(1024)->Arg(2048)->Arg(4096)->Arg(8192);
    b->UseManualTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("sgemm/cublas", [](benchmark::State& s) {
    run(s, kernels::cuda::sgemm_cublas, kernels::Impl::vendor);
  })->Arg(1024)->Arg(2048)->Arg(4096)->Arg(8192)->UseManualTime()->Unit(benchmark::kMillisecond);
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
