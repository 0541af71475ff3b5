// CUDA batch-norm, pooling and fused SGD on the activation shapes of the `quick` and
// `resnet` (ResNet-9) models at batch 512. Each iteration is timed with CUDA events on the
// compute stream (UseManualTime) and reported as GB/s of the MINIMUM traffic an ideal
// kernel would move (every input read once, every output written once), so the number is
// directly the fraction of the card's bandwidth reached: batch-norm forward = x + y,
// backward = x + y + dy + dx (relu mask), pool forward = x + y, backward = x + dy + dx,
// SGD = param + grad + buf read, param + buf written. Needs a GPU; skips otherwise.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cuda_backend.h"
#include "engine/device.h"
#include "kernels/batchnorm.h"
#include "kernels/pool2d.h"
#include "engine/context.h"
#include "kernels/sgd.h"
#include "tests/common/test_util.h"

namespace convoy::kernels {
namespace {

constexpr int kBatch = 512;

Exec cuda_exec() { return convoy::exec_for(convoy::Device::cuda(0)); }

// A device array filled with random values (never zeros).
class DeviceArray {
 public:
  DeviceArray(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) : n_(n) {
    if (cudaMalloc(&ptr_, n * sizeof(float)) != cudaSuccess) throw std::runtime_error("cudaMalloc failed");
    const auto host = test::random_vector(n, seed, lo, hi);
    cudaMemcpy(ptr_, host.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  float* get() const { return ptr_; }

 private:
  size_t n_;
  float* ptr_ = nullptr;
};

// Times `body` with CUDA events around each iteration and sets bytes/s.
template <typename Body>
void run_timed(benchmark::State& state, double bytes, Body body) {
  cudaStream_t stream = static_cast<cudaStream_t>(cuda_backend::default_stream(0));
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  body();  // warm-up (scratch allocation, first-launch costs)
  cudaStreamSynchronize(stream);
  double seconds = 0.0;
  for (auto _ : state) {
    cudaEventRecord(start, stream);
    body();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3);
    seconds += ms / 1e3;
  }
  if (seconds > 0) state.counters["GB/s"] = bytes * static_cast<double>(state.iterations()) / seconds / 1e9;
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

bool have_gpu(benchmark::State& state) {
  if (cuda_device_count() > 0) return true;
  state.SkipWithError(("no usable CUDA device: " + cuda_unavailable_reason()).c_str());
  return false;
}

// ---- batch-norm ----------------------------------------------------------------------
void BM_BatchNormForward(benchmark::State& state, int C, int HW) {
  if (!have_gpu(state)) return;
  const BatchNormShape s{kBatch, C, HW};
  const size_t n = size_t{kBatch} * C * HW;
  DeviceArray x(n, 1), y(n, 2), gamma(C, 3), beta(C, 4), mean(C, 5), invstd(C, 6), rm(C, 7), rv(C, 8, 0.5f, 1.5f);
  BatchNormTrainArgs a;
  a.x = x.get(); a.gamma = gamma.get(); a.beta = beta.get(); a.y = y.get(); a.save_mean = mean.get();
  a.save_invstd = invstd.get(); a.running_mean = rm.get(); a.running_var = rv.get(); a.relu = true;
  run_timed(state, 2.0 * n * sizeof(float), [&] { cuda::batchnorm_forward_train(cuda_exec(), s, a); });
}

void BM_BatchNormBackward(benchmark::State& state, int C, int HW) {
  if (!have_gpu(state)) return;
  const BatchNormShape s{kBatch, C, HW};
  const size_t n = size_t{kBatch} * C * HW;
  DeviceArray x(n, 1), y(n, 2), dy(n, 3), dx(n, 4), gamma(C, 5), beta(C, 6), mean(C, 7), invstd(C, 8, 0.5f, 1.5f),
      dg(C, 9), db(C, 10);
  BatchNormBackwardArgs a;
  a.x = x.get(); a.y = y.get(); a.dy = dy.get(); a.gamma = gamma.get(); a.beta = beta.get(); a.save_mean = mean.get();
  a.save_invstd = invstd.get(); a.dx = dx.get(); a.dgamma = dg.get(); a.dbeta = db.get(); a.relu = true;
  run_timed(state, 4.0 * n * sizeof(float), [&] { cuda::batchnorm_backward(cuda_exec(), s, a); });
}

// ---- pooling -------------------------------------------------------------------------
Pool2dShape pool(int C, int HW, int R, int stride, int pad) {
  Pool2dShape s;
  s.N = kBatch; s.C = C; s.H = s.W = HW; s.R = s.S = R; s.stride_h = s.stride_w = stride; s.pad_h = s.pad_w = pad;
  return s;
}

void BM_PoolForward(benchmark::State& state, PoolKind kind, Pool2dShape s) {
  if (!have_gpu(state)) return;
  const size_t in = size_t{kBatch} * s.C * s.H * s.W, out = size_t{kBatch} * s.C * s.P() * s.Q();
  DeviceArray x(in, 1), y(out, 2);
  run_timed(state, double(in + out) * sizeof(float),
            [&] { cuda::pool2d_forward(cuda_exec(), kind, s, x.get(), y.get()); });
}

void BM_PoolBackward(benchmark::State& state, PoolKind kind, Pool2dShape s) {
  if (!have_gpu(state)) return;
  const size_t in = size_t{kBatch} * s.C * s.H * s.W, out = size_t{kBatch} * s.C * s.P() * s.Q();
  DeviceArray x(in, 1), dy(out, 2), dx(in, 3);
  run_timed(state, double(2 * in + out) * sizeof(float),
            [&] { cuda::pool2d_backward(cuda_exec(), kind, s, x.get(), dy.get(), dx.get()); });
}

// ---- SGD over ResNet-9's parameters (6.57 M floats in 25 tensors) --------------------
void BM_SgdResnet9(benchmark::State& state) {
  if (!have_gpu(state)) return;
  std::vector<int64_t> sizes = {3 * 64 * 9, 64 * 128 * 9, 128 * 128 * 9, 128 * 128 * 9, 128 * 256 * 9,
                                256 * 512 * 9, 512 * 512 * 9, 512 * 512 * 9, 512 * 10};
  for (int c : {64, 128, 128, 128, 256, 512, 512, 512}) {
    sizes.push_back(c);  // gamma
    sizes.push_back(c);  // beta
  }
  std::vector<std::unique_ptr<DeviceArray>> arrays;
  std::vector<SgdTensor> list;
  int64_t total = 0;
  for (size_t t = 0; t < sizes.size(); ++t) {
    const auto n = static_cast<size_t>(sizes[t]);
    arrays.push_back(std::make_unique<DeviceArray>(n, 3 * t));
    arrays.push_back(std::make_unique<DeviceArray>(n, 3 * t + 1));
    arrays.push_back(std::make_unique<DeviceArray>(n, 3 * t + 2));
    const size_t k = arrays.size();
    list.push_back({arrays[k - 3]->get(), arrays[k - 2]->get(), arrays[k - 1]->get(), sizes[t],
                    t < 9 ? 1.0f : 0.0f});
    total += sizes[t];
  }
  state.counters["floats"] = static_cast<double>(total);
  state.counters["tensors"] = static_cast<double>(list.size());
  const SgdHyper h{0.01f, 0.9f, 5e-4f, true};
  run_timed(state, 5.0 * total * sizeof(float),
            [&] { cuda::sgd_update(cuda_exec(), h, list.data(), static_cast<int>(list.size())); });
}

void register_all() {
  struct Bn {
    const char* name;
    int C, HW;
  };
  const Bn bns[] = {{"quick/32x32x32", 32, 1024}, {"quick/32x16x16", 32, 256}, {"quick/64x8x8", 64, 64},
                    {"resnet/64x32x32", 64, 1024}, {"resnet/128x16x16", 128, 256}, {"resnet/256x8x8", 256, 64},
                    {"resnet/512x4x4", 512, 16}};
  for (const Bn& b : bns) {
    benchmark::RegisterBenchmark((std::string("bn_forward_relu/") + b.name).c_str(), BM_BatchNormForward, b.C, b.HW)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("bn_backward_relu/") + b.name).c_str(), BM_BatchNormBackward, b.C,
                                 b.HW)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  struct Pool {
    const char* name;
    PoolKind kind;
    Pool2dShape s;
  };
  const Pool pools[] = {{"quick/max3s2p1_32x32x32", PoolKind::max, pool(32, 32, 3, 2, 1)},
                        {"quick/avg3s2p1_32x16x16", PoolKind::avg, pool(32, 16, 3, 2, 1)},
                        {"quick/avg3s2p1_64x8x8", PoolKind::avg, pool(64, 8, 3, 2, 1)},
                        {"resnet/max2s2_128x32x32", PoolKind::max, pool(128, 32, 2, 2, 0)},
                        {"resnet/max2s2_256x16x16", PoolKind::max, pool(256, 16, 2, 2, 0)},
                        {"resnet/max2s2_512x8x8", PoolKind::max, pool(512, 8, 2, 2, 0)},
                        {"resnet/globalmax_512x4x4", PoolKind::max, pool(512, 4, 4, 4, 0)}};
  for (const Pool& p : pools) {
    benchmark::RegisterBenchmark((std::string("pool_forward/") + p.name).c_str(), BM_PoolForward, p.kind, p.s)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("pool_backward/") + p.name).c_str(), BM_PoolBackward, p.kind, p.s)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("sgd_nesterov/resnet9_params", BM_SgdResnet9)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace convoy::kernels

int main(int argc, char** argv) {
  convoy::kernels::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
