// Gradient buckets: the layout (every parameter once, reverse layer order, the size cap),
// the averaging over many buckets with exact inputs, and the overlap of communication with
// backward, proven from the communicator's event log rather than from timing.
#include <gtest/gtest.h>

#include <cmath>

#include <algorithm>
#include <set>

#include "dist/gradient_buckets.h"
#include "engine/error.h"
#include "layers/model.h"
#include "tests/dist/dist_test_util.h"

namespace convoy {
namespace {

using test::world;

// The job's communicator when there is one, else a local one (world size 1).
dist::Communicator& comm_for_test(std::unique_ptr<dist::Communicator>& local) {
  if (world()) return *world();
  local = dist::make_local_communicator();
  return *local;
}

TEST(GradientBuckets, LayoutCoversEveryParameterOnceInReverseLayerOrder) {
  Model model = Model::from_spec("resnet");
  auto comm = dist::make_local_communicator();
  const double mb = 0.5;
  dist::GradientBuckets buckets(model, *comm, {mb});
  const auto& layout = buckets.layout();
  const auto params = model.params();
  EXPECT_GT(layout.size(), 10u);
  std::set<int> seen;
  int64_t total = 0;
  int previous_ready = 1 << 30;
  for (const auto& b : layout) {
    EXPECT_LE(b.ready_after_layer, previous_ready);  // ready in backward order
    previous_ready = b.ready_after_layer;
    int64_t numel = 0;
    for (std::size_t i = 0; i < b.params.size(); ++i) {
      EXPECT_TRUE(seen.insert(b.params[i]).second) << "parameter " << b.params[i] << " in two buckets";
      EXPECT_EQ(b.offsets[i], numel);
      numel += params[b.params[i]]->value.numel();
    }
    EXPECT_EQ(numel, b.numel);
    // Capped, unless one parameter alone is larger than the cap.
    if (b.params.size() > 1) EXPECT_LE(b.numel * 4, mb * 1e6);
    total += numel;
  }
  EXPECT_EQ(seen.size(), params.size());
  EXPECT_EQ(total, model.num_params());
  // The first bucket holds the last layer's parameters (the classifier), the last the first conv.
  EXPECT_EQ(layout.front().params.front(), static_cast<int>(params.size()) - 1);
  EXPECT_EQ(layout.back().params.back(), 0);
}

TEST(GradientBuckets, ManyBucketsAverageExactly) {
  std::unique_ptr<dist::Communicator> local;
  dist::Communicator& comm = comm_for_test(local);
  Model model = Model::from_spec("resnet");
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  model.zero_grad(ctx);
  dist::GradientBuckets buckets(model, comm, {0.01});  // 2500 floats: 16 buckets (the big convolutions alone)
  EXPECT_GE(buckets.layout().size(), 16u);
  // Rank r's gradient element i of parameter p: (r + 1) * (1 + (i + 5p) % 13); the average
  // over W ranks is (W + 1) / 2 * (1 + (i + 5p) % 13), exact in float for W = 2.
  const auto params = model.params();
  for (std::size_t p = 0; p < params.size(); ++p) {
    std::vector<float> g(params[p]->grad.numel());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = float((comm.rank() + 1) * (1 + (i + 5 * p) % 13));
    params[p]->grad.copy_from(Tensor::from_vector(params[p]->grad.shape(), g));
  }
  buckets.begin_backward(ctx);
  buckets.finish(ctx);  // no backward ran: finish() launches every bucket itself
  const double factor = (comm.world_size() + 1) / 2.0;
  int64_t wrong = 0;
  for (std::size_t p = 0; p < params.size(); ++p) {
    const std::vector<float> g = params[p]->grad.to_vector();
    for (std::size_t i = 0; i < g.size(); ++i) wrong += g[i] != float(factor * (1 + (i + 5 * p) % 13));
  }
  EXPECT_EQ(wrong, 0);
}

// Compressed buckets divide by W before rounding: rank r's gradients are 30000 + 10000 r,
// whose two-rank sum (70000) is past fp16's 65504 while their average (35000) is not. Every
// averaged element must come back finite and within fp16's rounding of the mean.
TEST(GradientBuckets, CompressedBucketsAverageWithoutOverflow) {
  std::unique_ptr<dist::Communicator> local;
  dist::Communicator& comm = comm_for_test(local);
  for (dist::BucketCompression c : {dist::BucketCompression::fp16, dist::BucketCompression::bf16}) {
    Model model = Model::from_spec("quick");
    Context ctx = Context::make(Device::cpu());
    ctx.training = true;
    model.zero_grad(ctx);
    dist::GradientBuckets buckets(model, comm, {0.05, c});
    for (Param* p : model.params()) p->grad.fill(30000.0f + 10000.0f * comm.rank());
    buckets.begin_backward(ctx);
    buckets.finish(ctx);
    const double mean = 30000.0 + 10000.0 * (comm.world_size() - 1) / 2.0;
    const double tol = (c == dist::BucketCompression::fp16 ? 2e-3 : 1.6e-2) * mean;
    int64_t wrong = 0, total = 0;
    for (Param* p : model.params())
      for (float g : p->grad.to_vector()) {
        wrong += !(std::abs(g - mean) <= tol);
        ++total;
      }
    EXPECT_EQ(wrong, 0) << dist::to_string(c) << " of " << total;
  }
}

TEST(GradientBuckets, FirstBucketStartsBeforeBackwardEnds) {
  std::unique_ptr<dist::Communicator> local;
  dist::Communicator& comm = comm_for_test(local);
  comm.trace().clear();
  comm.trace().set_enabled(true);
  Model model = Model::from_spec("quick");
  model.init_params(7);
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  ctx.step = 41;
  dist::GradientBuckets buckets(model, comm, {0.1});  // quick's 580 KB in several buckets
  const auto& layout = buckets.layout();
  EXPECT_GE(layout.size(), 3u);

  Tensor x = test::random_tensor({4, 3, 32, 32}, 11 + comm.rank()), logits;
  Saved saved;
  model.zero_grad(ctx);
  model.forward(ctx, x, logits, &saved);
  Tensor dlogits = test::random_tensor(logits.shape(), 12 + comm.rank(), -0.1f, 0.1f);
  buckets.begin_backward(ctx);
  model.backward(ctx, dlogits, saved);
  buckets.finish(ctx);
  comm.trace().set_enabled(false);

  const auto events = comm.trace().snapshot();
  auto position = [&](dist::TraceKind kind, int id) -> std::ptrdiff_t {
    auto it = std::find_if(events.begin(), events.end(),
                           [&](const dist::TraceEntry& e) { return e.kind == kind && e.id == id; });
    return it == events.end() ? -1 : it - events.begin();
  };
  const auto backward_end = position(dist::TraceKind::layer_backward_done, 0);
  const auto first_start = position(dist::TraceKind::bucket_started, 0);
  ASSERT_GE(backward_end, 0);
  ASSERT_GE(first_start, 0);
  EXPECT_LT(first_start, backward_end) << "the first bucket's allreduce began only after backward ended";
  int overlapped = 0;
  for (std::size_t b = 0; b < layout.size(); ++b) {
    const auto start = position(dist::TraceKind::bucket_started, static_cast<int>(b));
    const auto ready = position(dist::TraceKind::layer_backward_done, layout[b].ready_after_layer);
    EXPECT_GT(start, ready) << "bucket " << b << " started before its gradients were complete";
    EXPECT_GT(position(dist::TraceKind::bucket_finished, static_cast<int>(b)), start) << "bucket " << b;
    overlapped += start < backward_end;
  }
  EXPECT_GE(overlapped, 2);
  for (const auto& e : events) EXPECT_EQ(e.step, 41u);
}

TEST(GradientBuckets, CapMustBePositive) {
  Model model = Model::from_spec("quick");
  auto comm = dist::make_local_communicator();
  EXPECT_THROW(dist::GradientBuckets(model, *comm, {0.0}), Error);
}

}  // namespace
}  // namespace convoy
