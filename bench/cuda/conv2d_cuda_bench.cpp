// CUDA convolutions: the own implicit-GEMM variants beside cuDNN (FP32 FMA math) on the
// quick and resnet model layers at batch 128, forward / backward-data / backward-weights,
// one binary and one run. CUDA-event timing after a warm-up (manual time); counter
// TFLOP/s = 2*N*K*P*Q*C*R*S / s (the direct-convolution count).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "engine/context.h"
#include "kernels/cuda/cuda_check.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/cuda/conv2d_variants.h"

namespace {

using namespace convoy;
using kernels::Conv2dShape;

constexpr int kBatch = 128;

struct Layer {
  const char* name;
  Conv2dShape s;
};

std::vector<Layer> layers() {
  auto conv = [](int c, int k, int hw, int r, int pad) {
    return Conv2dShape{kBatch, c, hw, hw, k, r, r, 1, 1, pad, pad};
  };
  return {{"quick_3x32_5x5_32", conv(3, 32, 32, 5, 2)},       {"quick_32x32_5x5_16", conv(32, 32, 16, 5, 2)},
          {"quick_32x64_5x5_8", conv(32, 64, 8, 5, 2)},       {"resnet_3x64_3x3_32", conv(3, 64, 32, 3, 1)},
          {"resnet_64x128_3x3_32", conv(64, 128, 32, 3, 1)},  {"resnet_128x128_3x3_16", conv(128, 128, 16, 3, 1)},
          {"resnet_128x256_3x3_16", conv(128, 256, 16, 3, 1)}, {"resnet_256x512_3x3_8", conv(256, 512, 8, 3, 1)},
          {"resnet_512x512_3x3_4", conv(512, 512, 4, 3, 1)}};
}

Tensor random_gpu(int64_t n, uint64_t seed) {
  Rng rng(seed, 11);
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = rng.uniform_at(i) * 2.0f - 1.0f;
  return Tensor::from_vector(Shape{n}, v).to(Device::cuda(0));
}

enum class Op { forward, backward_data, backward_weights };

void run(benchmark::State& state, const kernels::cuda::ConvVariant& v, kernels::Impl impl, Op op, Conv2dShape s) {
  if (cuda_device_count() == 0) {
    state.SkipWithError(("no CUDA device: " + cuda_unavailable_reason()).c_str());
    return;
  }
  const int64_t nx = int64_t{s.N} * s.C * s.H * s.W, nw = int64_t{s.K} * s.C * s.R * s.S,
                ny = int64_t{s.N} * s.K * s.P() * s.Q();
  Tensor x = random_gpu(nx, 1), w = random_gpu(nw, 2), y = random_gpu(ny, 3), b = random_gpu(s.K, 4);
  kernels::Exec exec = exec_for(Device::cuda(0), impl);
  auto stream = static_cast<cudaStream_t>(exec.stream);
  auto once = [&] {
    switch (op) {
      case Op::forward: v.forward(exec, s, x.data(), w.data(), b.data(), y.data()); break;
      case Op::backward_data: v.backward_data(exec, s, y.data(), w.data(), x.data()); break;
      case Op::backward_weights: v.backward_weights(exec, s, x.data(), y.data(), w.data(), b.data()); break;
    }
  };
  once();
  CONVOY_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaEvent_t start, stop;
  CONVOY_CUDA_CHECK(cudaEventCreate(&start));
  CONVOY_CUDA_CHECK(cudaEventCreate(&stop));
  for (auto _ : state) {
    CONVOY_CUDA_CHECK(cudaEventRecord(start, stream));
    once();
    CONVOY_CUDA_CHECK(cudaEventRecord(stop, stream));
    CONVOY_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CONVOY_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(ms / 1e3);
  }
  CONVOY_CUDA_CHECK(cudaEventDestroy(start));
  CONVOY_CUDA_CHECK(cudaEventDestroy(stop));
  const double flops = 2.0 * s.N * s.K * s.P() * s.Q() * s.C * s.R * s.S;
  state.counters["TFLOP/s"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
  const std::pair<Op, const char*> ops[] = {
      {Op::forward, "fwd"}, {Op::backward_data, "bwd_data"}, {Op::backward_weights, "bwd_weights"}};
  // Every own variant but the naive reference, then cuDNN.
  std::vector<std::pair<const kernels::cuda::ConvVariant*, kernels::Impl>> runs;
  for (const auto& v : kernels::cuda::conv_variants())
    if (std::string(v.name) != "naive") runs.emplace_back(&v, kernels::Impl::own);
  runs.emplace_back(&kernels::cuda::conv_cudnn(), kernels::Impl::vendor);
  // A variant that shares a pass with an earlier one (implicit_gemm_flipped's forward and
  // backward weights are implicit_gemm's) is timed once, under the first name.
  auto same_pass = [](const kernels::cuda::ConvVariant& a, const kernels::cuda::ConvVariant& b, Op op) {
    switch (op) {
      case Op::forward: return a.forward == b.forward;
      case Op::backward_data: return a.backward_data == b.backward_data;
      case Op::backward_weights: return a.backward_weights == b.backward_weights;
    }
    return false;
  };
  for (const auto& layer : layers())
    for (auto [op, op_name] : ops)
      for (size_t i = 0; i < runs.size(); ++i) {
        const auto [v, impl] = runs[i];
        bool repeated = false;
        for (size_t j = 0; j < i; ++j) repeated = repeated || same_pass(*runs[j].first, *v, op);
        if (repeated) continue;
        std::string name = std::string("conv2d/") + op_name + "/" + layer.name + "/" + v->name;
        benchmark::RegisterBenchmark(name.c_str(), [v, impl, op, s = layer.s](benchmark::State& st) {
          run(st, *v, impl, op, s);
        })->UseManualTime()->Unit(benchmark::kMillisecond);
      }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
