// CPU convolution benchmarks: forward, backward-data and backward-weights for every conv
// layer of the `quick` and `resnet` models, reported as GFLOP/s (2*N*K*C*R*S*P*Q per pass)
// and images/s; `quick_all_layers` times the three quick layers' full forward + backward
// (the conv share of one training step). Every variant of kernels/cpu/conv2d_variants.h is
// timed beside the default. With OpenBLAS, an im2col + cblas_sgemm forward gives the
// vendor yardstick. Run with OMP_NUM_THREADS set to the thread count to report.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/cpu_context.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_variants.h"
#include "kernels/cpu/im2col.h"
#include "tests/common/test_util.h"

#if CONVOY_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace convoy::kernels {
namespace {

struct Layer {
  const char* name;
  Conv2dShape shape;
};

Conv2dShape conv(int N, int C, int HW, int K, int RS, int pad) {
  Conv2dShape s;
  s.N = N, s.C = C, s.H = HW, s.W = HW, s.K = K, s.R = RS, s.S = RS, s.pad_h = pad, s.pad_w = pad;
  return s;
}

constexpr int kQuickBatch = 128;
constexpr int kResnetBatch = 32;

const std::vector<Layer>& layers() {
  static const std::vector<Layer> all = {
      {"quick/conv1_3x32x32_k32_5x5", conv(kQuickBatch, 3, 32, 32, 5, 2)},
      {"quick/conv2_32x16x16_k32_5x5", conv(kQuickBatch, 32, 16, 32, 5, 2)},
      {"quick/conv3_32x8x8_k64_5x5", conv(kQuickBatch, 32, 8, 64, 5, 2)},
      {"resnet/3x32x32_k64", conv(kResnetBatch, 3, 32, 64, 3, 1)},
      {"resnet/64x32x32_k128", conv(kResnetBatch, 64, 32, 128, 3, 1)},
      {"resnet/128x16x16_k128", conv(kResnetBatch, 128, 16, 128, 3, 1)},
      {"resnet/128x16x16_k256", conv(kResnetBatch, 128, 16, 256, 3, 1)},
      {"resnet/256x8x8_k512", conv(kResnetBatch, 256, 8, 512, 3, 1)},
      {"resnet/512x4x4_k512", conv(kResnetBatch, 512, 4, 512, 3, 1)},
  };
  return all;
}

double flops(const Conv2dShape& s) {
  return 2.0 * s.N * s.K * s.C * s.R * s.S * s.P() * s.Q();
}

struct Buffers {
  std::vector<float> x, w, b, y, dx, dw, db;
  explicit Buffers(const Conv2dShape& s)
      : x(test::random_vector(static_cast<size_t>(s.N) * s.C * s.H * s.W, 1)),
        w(test::random_vector(static_cast<size_t>(s.K) * s.C * s.R * s.S, 2)),
        b(test::random_vector(s.K, 3)),
        y(test::random_vector(static_cast<size_t>(s.N) * s.K * s.P() * s.Q(), 4)),
        dx(x.size()),
        dw(w.size()),
        db(s.K) {}
};

void report(benchmark::State& state, const Conv2dShape& s, double passes) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(passes * flops(s) * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(s.N) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
}

using Forward = void (*)(const Conv2dShape&, const float*, const float*, const float*, float*);
using BackwardData = void (*)(const Conv2dShape&, const float*, const float*, float*);
using BackwardWeights = void (*)(const Conv2dShape&, const float*, const float*, float*, float*);

void forward(benchmark::State& state, Conv2dShape s, Forward fn) {
  Buffers b(s);
  for (auto _ : state) fn(s, b.x.data(), b.w.data(), b.b.data(), b.y.data());
  report(state, s, 1);
}

void backward_data(benchmark::State& state, Conv2dShape s, BackwardData fn) {
  Buffers b(s);
  for (auto _ : state) fn(s, b.y.data(), b.w.data(), b.dx.data());
  report(state, s, 1);
}

void backward_weights(benchmark::State& state, Conv2dShape s, BackwardWeights fn) {
  Buffers b(s);
  for (auto _ : state) fn(s, b.x.data(), b.y.data(), b.dw.data(), b.db.data());
  report(state, s, 1);
}

// The conv work of one quick-model training step: forward, backward-weights of all three
// layers, backward-data of the two that have an upstream layer (the first layer's input
// is the image, whose gradient nobody needs).
void quick_all_layers(benchmark::State& state) {
  std::vector<Conv2dShape> shapes;
  std::vector<Buffers> bufs;
  for (const Layer& l : layers())
    if (std::string(l.name).rfind("quick/", 0) == 0) shapes.push_back(l.shape), bufs.emplace_back(l.shape);
  double total = 0;
  for (size_t i = 0; i < shapes.size(); ++i) total += flops(shapes[i]) * (i == 0 ? 2 : 3);
  for (auto _ : state)
    for (size_t i = 0; i < shapes.size(); ++i) {
      const Conv2dShape& s = shapes[i];
      Buffers& b = bufs[i];
      cpu::conv2d_forward(s, b.x.data(), b.w.data(), b.b.data(), b.y.data());
      if (i > 0) cpu::conv2d_backward_data(s, b.y.data(), b.w.data(), b.dx.data());
      cpu::conv2d_backward_weights(s, b.x.data(), b.y.data(), b.dw.data(), b.db.data());
    }
  state.counters["GFLOP/s"] = benchmark::Counter(total * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(kQuickBatch) * state.iterations(), benchmark::Counter::kIsRate);
}

#if CONVOY_HAVE_OPENBLAS
// Yardstick: per image im2col (convoy's) + OpenBLAS sgemm, OpenBLAS using its own threads.
void openblas_forward(benchmark::State& state, Conv2dShape s) {
  Buffers b(s);
  const int PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S;
  std::vector<float> col(static_cast<size_t>(CRS) * PQ);
  for (auto _ : state)
    for (int n = 0; n < s.N; ++n) {
      cpu::im2col(s, b.x.data() + static_cast<size_t>(n) * s.C * s.H * s.W, col.data(), PQ);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.K, PQ, CRS, 1.0f, b.w.data(), CRS, col.data(), PQ,
                  0.0f, b.y.data() + static_cast<size_t>(n) * s.K * PQ, PQ);
    }
  report(state, s, 1);
}
#endif

template <typename Fn, typename Bench>
void add(const std::string& name, Bench bench, const Conv2dShape& s, Fn fn) {
  benchmark::RegisterBenchmark(name.c_str(), bench, s, fn)->UseRealTime()->Unit(benchmark::kMillisecond);
}

// Names: <model>/<layer>/<pass>[_<variant>]; the pass without a suffix is the default
// (whatever cpu::conv2d_* picks), the suffixed ones are the variants it chooses from.
int register_all() {
  for (const Layer& l : layers()) {
    const std::string n = std::string(l.name) + "/";
    add(n + "forward", forward, l.shape, static_cast<Forward>(cpu::conv2d_forward));
    add(n + "forward_im2col", forward, l.shape, static_cast<Forward>(cpu::conv2d_forward_im2col));
    add(n + "forward_packed", forward, l.shape, static_cast<Forward>(cpu::conv2d_forward_packed));
    if (cpu::conv2d_winograd_applies(l.shape))
      add(n + "forward_winograd", forward, l.shape, static_cast<Forward>(cpu::conv2d_forward_winograd));
#if CONVOY_HAVE_OPENBLAS
    benchmark::RegisterBenchmark((n + "forward_openblas").c_str(), openblas_forward, l.shape)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#endif
    add(n + "backward_data", backward_data, l.shape, static_cast<BackwardData>(cpu::conv2d_backward_data));
    add(n + "backward_data_im2col", backward_data, l.shape,
        static_cast<BackwardData>(cpu::conv2d_backward_data_im2col));
    add(n + "backward_data_packed", backward_data, l.shape,
        static_cast<BackwardData>(cpu::conv2d_backward_data_packed));
    if (cpu::conv2d_winograd_applies(l.shape))
      add(n + "backward_data_winograd", backward_data, l.shape,
          static_cast<BackwardData>(cpu::conv2d_backward_data_winograd));
    add(n + "backward_weights", backward_weights, l.shape,
        static_cast<BackwardWeights>(cpu::conv2d_backward_weights));
    add(n + "backward_weights_im2col", backward_weights, l.shape,
        static_cast<BackwardWeights>(cpu::conv2d_backward_weights_im2col));
    add(n + "backward_weights_packed", backward_weights, l.shape,
        static_cast<BackwardWeights>(cpu::conv2d_backward_weights_packed));
    if (cpu::conv2d_winograd_applies(l.shape))
      add(n + "backward_weights_winograd", backward_weights, l.shape,
          static_cast<BackwardWeights>(cpu::conv2d_backward_weights_winograd));
  }
  benchmark::RegisterBenchmark("quick/all_layers_fwd_bwd", quick_all_layers)->UseRealTime()->Unit(benchmark::kMillisecond);
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace convoy::kernels

int main(int argc, char** argv) { return convoy::bench::run_benchmarks(argc, argv); }
