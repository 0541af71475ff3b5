// End-to-end training step of the shipped models on the CPU (forward, loss, backward, SGD),
// images/s as a counter; plus a per-layer breakdown of one quick step (forward and backward
// time of each top-level layer), printed once, to show where a step's time goes.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/cpu_context.h"
#include "engine/rng.h"
#include "engine/threads.h"
#include "kernels/loss.h"
#include "layers/fusion.h"
#include "layers/model.h"
#include "train/optimizer.h"

namespace {

using namespace convoy;

struct StepFixture {
  Model model;
  Context ctx = Context::make(Device::cpu());
  Tensor x, logits, dlogits, loss, labels;
  std::unique_ptr<SgdOptimizer> opt;

  StepFixture(const std::string& name, int batch) : model(Model::from_spec(name)) {
    model.init_params(1);
    x = Tensor(model.input_shape(batch));
    Rng rng(3);
    for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = rng.normal_at(i);
    labels = Tensor({batch}, Device::cpu(), DType::i32);
    auto* l = labels.data_as<int32_t>();
    for (int i = 0; i < batch; ++i) l[i] = i % 10;
    opt = std::make_unique<SgdOptimizer>(model, SgdOptions{});
    ctx.training = true;
  }

  void step() {
    Saved saved;
    model.zero_grad(ctx);
    model.forward(ctx, x, logits, &saved);
    ensure_shape(dlogits, logits.shape(), ctx.device);
    ensure_shape(loss, {x.dim(0)}, ctx.device);
    kernels::SoftmaxXentArgs a;
    a.N = static_cast<int>(x.dim(0));
    a.K = model.num_classes();
    a.logits = logits.data();
    a.labels = labels.data_as<int32_t>();
    a.smoothing = 0.1f;
    a.grad_scale = 1.0f / a.N;
    a.loss = loss.data();
    a.dlogits = dlogits.data();
    kernels::softmax_cross_entropy(ctx.exec, a);
    model.backward(ctx, dlogits, saved);
    opt->step(ctx, 0.01f);
  }
};

void BM_train_step(benchmark::State& state, const std::string& name, int batch) {
  set_num_threads(static_cast<int>(state.range(0)));
  StepFixture f(name, batch);
  f.step();  // warm-up: buffers allocated
  for (auto _ : state) f.step();
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(batch) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
  state.counters["threads"] = static_cast<double>(state.range(0));
}

BENCHMARK_CAPTURE(BM_train_step, quick_b128, std::string("quick"), 128)->Arg(2)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_train_step, resnet_b32, std::string("resnet"), 32)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Per-layer breakdown of a quick step at batch 128 on 2 threads (sum over 5 steps after a
// warm-up), printed to stderr after the benchmarks. Layers that a training step runs fused
// (layers/fusion.h) are timed as one row, "a+b", on the row of the first; CONVOY_NO_FUSION=1
// times them one by one.
void print_breakdown() {
  set_num_threads(2);
  const int batch = 128, reps = 5;
  Model m = Model::from_spec("quick");
  m.init_params(1);
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  if (const char* off = std::getenv("CONVOY_NO_FUSION"); off && std::string(off) == "1") ctx.fuse_layers = false;
  m.zero_grad(ctx);
  const auto& layers = m.network().layers();
  const size_t L = layers.size();
  std::vector<Tensor> acts(L + 1);
  acts[0] = Tensor(m.input_shape(batch));
  Rng rng(5);
  for (int64_t i = 0; i < acts[0].numel(); ++i) acts[0].data()[i] = rng.normal_at(i);
  std::vector<Saved> saved(L);
  std::vector<double> fwd(L, 0), bwd(L, 0);
  std::vector<bool> fused(L, false);  // layer i runs fused with i + 1 (found by the first forward)
  using Clock = std::chrono::steady_clock;
  for (int rep = 0; rep <= reps; ++rep) {
    for (size_t i = 0; i < L; ++i) {
      auto t0 = Clock::now();
      if (i + 1 < L && fuses_with_next(ctx, *layers[i], *layers[i + 1], acts[i].shape())) {
        fused[i] = true;
        fused_forward(ctx, *layers[i], *layers[i + 1], acts[i], acts[i + 2], saved[i], saved[i + 1]);
      } else {
        layers[i]->forward(ctx, acts[i], acts[i + 1], &saved[i]);
      }
      if (rep) fwd[i] += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (fused[i]) ++i;
    }
    Tensor g = Tensor::filled(acts[L].shape(), 0.01f);
    for (size_t i = L; i-- > 0;) {
      Tensor dx;
      const size_t first = (i > 0 && fused[i - 1]) ? i - 1 : i;
      auto t0 = Clock::now();
      if (first != i)
        fused_backward(ctx, *layers[first], *layers[i], g, saved[first], saved[i], first ? &dx : nullptr);
      else
        layers[i]->backward(ctx, g, saved[i], i ? &dx : nullptr);
      if (rep) bwd[first] += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      g = dx;
      i = first;
    }
  }
  double tf = 0, tb = 0;
  std::fprintf(stderr, "\nquick, batch %d, 2 threads: ms per step by layer\n%-4s %-17s %9s %9s\n", batch, "#",
               "layer", "forward", "backward");
  for (size_t i = 0; i < L; ++i) {
    if (i > 0 && fused[i - 1]) continue;
    const std::string name =
        std::string(layers[i]->type()) + (fused[i] ? "+" + std::string(layers[i + 1]->type()) : std::string());
    std::fprintf(stderr, "%-4zu %-17s %9.2f %9.2f\n", i, name.c_str(), fwd[i] / reps, bwd[i] / reps);
    tf += fwd[i] / reps;
    tb += bwd[i] / reps;
  }
  std::fprintf(stderr, "%-22s %9.2f %9.2f  (total %.2f ms = %.0f images/s)\n", "sum", tf, tb, tf + tb,
               batch * 1000.0 / (tf + tb));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  convoy::bench::add_cpu_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_breakdown();
  return 0;
}
