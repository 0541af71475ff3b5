// CPU SGEMM: convoy's cpu::sgemm beside OpenBLAS's cblas_sgemm, same thread count
// (OMP_NUM_THREADS, default all cores), GFLOP/s as a counter. Square sizes and the shapes
// convolution produces (forward: M = K_out, N = P*Q, K = C*R*S; weight gradient with
// transposes). Run: OMP_NUM_THREADS=2 ./gemm_bench
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench/cpu_context.h"
#include "engine/rng.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/gemm.h"

#if defined(CONVOY_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace {

using convoy::kernels::GemmArgs;
using convoy::kernels::Trans;

struct Operands {
  std::vector<float> a, b, c;
  GemmArgs args;
};

Operands make(int M, int N, int K, bool ta, bool tb) {
  Operands o;
  GemmArgs& g = o.args;
  g.M = M, g.N = N, g.K = K;
  g.trans_a = ta ? Trans::yes : Trans::no;
  g.trans_b = tb ? Trans::yes : Trans::no;
  g.lda = ta ? M : K;
  g.ldb = tb ? K : N;
  g.ldc = N;
  convoy::Rng rng(42);
  o.a.resize(static_cast<size_t>(M) * K);
  o.b.resize(static_cast<size_t>(K) * N);
  o.c.resize(static_cast<size_t>(M) * N);
  for (size_t i = 0; i < o.a.size(); ++i) o.a[i] = rng.uniform_at(i) - 0.5f;
  for (size_t i = 0; i < o.b.size(); ++i) o.b[i] = rng.uniform_at(i + o.a.size()) - 0.5f;
  g.A = o.a.data();
  g.B = o.b.data();
  g.C = o.c.data();
  return o;
}

// GFLOP/s: the mean over the iterations. best_GFLOP/s: from the fastest single call, which
// is the steadier figure on a shared machine where other processes take the cores at times.
void report(benchmark::State& state, const GemmArgs& g, double best_seconds) {
  const double flops = 2.0 * g.M * g.N * g.K;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops * 1e-9 / best_seconds;
  state.counters["threads"] = omp_get_max_threads();
}

// Runs `call` once per iteration and returns the fastest single call in seconds.
template <typename Call>
double timed_loop(benchmark::State& state, Call&& call) {
  double best = 1e30;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    benchmark::ClobberMemory();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void BM_convoy(benchmark::State& state) {
  Operands o = make(state.range(0), state.range(1), state.range(2), state.range(3), state.range(4));
  const double best = timed_loop(state, [&] {
    convoy::kernels::cpu::sgemm(o.args);
    benchmark::DoNotOptimize(o.c.data());
  });
  report(state, o.args, best);
  state.SetLabel(convoy::kernels::cpu::sgemm_microkernel_name());
}

// One named AVX2 micro-kernel through the same packed driver (skipped without AVX2): the
// tiles side by side, as convolution picks between them by its row count.
void BM_convoy_tile(benchmark::State& state, const convoy::kernels::cpu::gemm::MicroKernel& (*tile)()) {
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    state.SkipWithError("no AVX2 with FMA on this CPU");
    return;
  }
  Operands o = make(state.range(0), state.range(1), state.range(2), state.range(3), state.range(4));
  const auto& uk = tile();
  const int threads = omp_get_max_threads();
  const double best = timed_loop(state, [&] {
    convoy::kernels::cpu::gemm::sgemm_packed(uk, o.args, threads);
    benchmark::DoNotOptimize(o.c.data());
  });
  report(state, o.args, best);
  state.SetLabel(uk.name);
}

#if defined(CONVOY_HAVE_OPENBLAS)
void BM_openblas(benchmark::State& state) {
  openblas_set_num_threads(omp_get_max_threads());
  Operands o = make(state.range(0), state.range(1), state.range(2), state.range(3), state.range(4));
  const GemmArgs& g = o.args;
  const double best = timed_loop(state, [&] {
    cblas_sgemm(CblasRowMajor, g.trans_a == Trans::yes ? CblasTrans : CblasNoTrans,
                g.trans_b == Trans::yes ? CblasTrans : CblasNoTrans, g.M, g.N, g.K, g.alpha, g.A, g.lda, g.B,
                g.ldb, g.beta, g.C, g.ldc);
    benchmark::DoNotOptimize(o.c.data());
  });
  report(state, g, best);
  state.SetLabel(openblas_get_corename());
}
#endif

// {M, N, K, trans_a, trans_b}
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "ta", "tb"});
  for (int n : {256, 512, 1024, 2048}) b->Args({n, n, n, 0, 0});
  // Convolution forward on CIFAR-sized planes: (K_out) x (P*Q) x (C*R*S).
  b->Args({32, 1024, 27, 0, 0});
  b->Args({64, 1024, 576, 0, 0});
  b->Args({128, 256, 1152, 0, 0});
  b->Args({256, 64, 2304, 0, 0});
  b->Args({512, 64, 4608, 0, 0});
  // Weight gradient: dW (K_out x C*R*S) = dY (K_out x P*Q) * cols^T.
  b->Args({64, 576, 1024, 0, 1});
  b->Args({256, 2304, 64, 0, 1});
  // Input gradient: dcols (C*R*S x P*Q) = W^T * dY.
  b->Args({576, 1024, 64, 1, 0});
  b->UseRealTime();
}

BENCHMARK(BM_convoy)->Apply(shapes);
BENCHMARK_CAPTURE(BM_convoy_tile, avx2_6x16, &convoy::kernels::cpu::gemm::microkernel_avx2)->Apply(shapes);
BENCHMARK_CAPTURE(BM_convoy_tile, avx2_4x24, &convoy::kernels::cpu::gemm::microkernel_avx2_4x24)->Apply(shapes);
#if defined(CONVOY_HAVE_OPENBLAS)
BENCHMARK(BM_openblas)->Apply(shapes);
#endif

}  // namespace

int main(int argc, char** argv) { return convoy::bench::run_benchmarks(argc, argv); }
