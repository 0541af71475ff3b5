#include "dist/gradient_buckets.h"

#include <algorithm>
#include <unordered_map>

#include "engine/error.h"
#include "kernels/elementwise.h"
#include "kernels/half.h"

namespace convoy::dist {

BucketCompression parse_compression(const std::string& text) {
  if (text == "none") return BucketCompression::none;
  if (text == "fp16") return BucketCompression::fp16;
  if (text == "bf16") return BucketCompression::bf16;
  fail_option("grad_compression", "'", text, "': use none, fp16 or bf16");
}

const char* to_string(BucketCompression c) {
  switch (c) {
    case BucketCompression::fp16: return "fp16";
    case BucketCompression::bf16: return "bf16";
    case BucketCompression::none: break;
  }
  return "none";
}

namespace {

kernels::HalfFormat half_format(BucketCompression c) {
  return c == BucketCompression::fp16 ? kernels::HalfFormat::fp16 : kernels::HalfFormat::bf16;
}

}  // namespace

GradientBuckets::GradientBuckets(Model& model, Communicator& comm, const BucketOptions& options)
    : model_(model), comm_(comm), options_(options) {
  if (!(options.bucket_mb > 0)) fail_option("bucket_mb", options.bucket_mb, " must be positive");
  params_ = model.params();
  std::unordered_map<const Param*, int> index;
  for (std::size_t i = 0; i < params_.size(); ++i) index[params_[i]] = static_cast<int>(i);

  const int64_t cap = std::max<int64_t>(1, static_cast<int64_t>(options.bucket_mb * 1e6 / sizeof(float)));
  const auto& layers = model.network().layers();
  BucketLayout current;
  for (std::size_t l = layers.size(); l-- > 0;) {
    std::vector<Param*> lp = layers[l]->params();
    for (auto it = lp.rbegin(); it != lp.rend(); ++it) {
      const int64_t n = (*it)->value.numel();
      if (!current.params.empty() && current.numel + n > cap) {
        layout_.push_back(std::move(current));
        current = BucketLayout{};
      }
      current.params.push_back(index.at(*it));
      current.offsets.push_back(current.numel);
      current.numel += n;
      current.ready_after_layer = static_cast<int>(l);
    }
  }
  if (!current.params.empty()) layout_.push_back(std::move(current));

  const Device device = model.device();
  const bool compressed = options.compression != BucketCompression::none;
  const DType wire = !compressed ? DType::f32
                     : half_format(options.compression) == kernels::HalfFormat::fp16 ? DType::f16
                                                                                     : DType::bf16;
  for (const BucketLayout& b : layout_) flat_.emplace_back(Shape{b.numel}, device, wire);
  pending_.resize(layout_.size());
  finished_.assign(layout_.size(), false);
  model_.set_backward_hook([this](std::size_t layer) { on_layer_done(layer); });
}

GradientBuckets::~GradientBuckets() { model_.set_backward_hook(nullptr); }

int64_t GradientBuckets::total_numel() const {
  int64_t n = 0;
  for (const BucketLayout& b : layout_) n += b.numel;
  return n;
}

void GradientBuckets::begin_backward(Context& ctx) {
  if (ctx.device != model_.device())
    fail("gradient buckets: the model moved to ", model_.device().to_string(), " after they were made on ",
         flat_.empty() ? "?" : flat_[0].device().to_string(), "; make them after Model::to()");
  ctx_ = &ctx;
  next_to_launch_ = 0;
  std::fill(finished_.begin(), finished_.end(), false);
  for (auto& p : pending_) p.reset();
}

void GradientBuckets::launch(std::size_t b) {
  const BucketLayout& layout = layout_[b];
  if (options_.compression == BucketCompression::none) {
    float* flat = flat_[b].data();
    for (std::size_t i = 0; i < layout.params.size(); ++i) {
      const Param& p = *params_[layout.params[i]];
      kernels::copy(ctx_->exec, p.grad.numel(), p.grad.data(), flat + layout.offsets[i]);
    }
    comm_.trace().record(TraceKind::bucket_started, static_cast<int>(b), ctx_->step);
    pending_[b] = comm_.allreduce_sum_async(ctx_->exec, flat_[b]);
    return;
  }
  // Divided by W before rounding (DDP's fp16 hook does the same): the 16-bit sum over the
  // ranks then stays in range whenever each rank's gradients do.
  const kernels::HalfFormat format = half_format(options_.compression);
  const float inv_world = 1.0f / static_cast<float>(comm_.world_size());
  auto* flat = flat_[b].data_as<uint16_t>();
  for (std::size_t i = 0; i < layout.params.size(); ++i) {
    const Param& p = *params_[layout.params[i]];
    kernels::pack_16(ctx_->exec, format, p.grad.numel(), inv_world, p.grad.data(), flat + layout.offsets[i]);
  }
  comm_.trace().record(TraceKind::bucket_started, static_cast<int>(b), ctx_->step);
  pending_[b] = comm_.allreduce_sum_async(ctx_->exec, flat_[b]);
}

void GradientBuckets::poll() {
  for (std::size_t b = 0; b < next_to_launch_; ++b) {
    if (finished_[b] || !pending_[b]->test()) continue;
    finished_[b] = true;
    comm_.trace().record(TraceKind::bucket_finished, static_cast<int>(b), ctx_->step);
  }
}

void GradientBuckets::on_layer_done(std::size_t layer) {
  if (!ctx_) return;  // a backward outside a data-parallel step (tests, gradient checks)
  comm_.trace().record(TraceKind::layer_backward_done, static_cast<int>(layer), ctx_->step);
  // Buckets are ordered by readiness: launch every bucket whose last layer has now run.
  while (next_to_launch_ < layout_.size() &&
         layout_[next_to_launch_].ready_after_layer >= static_cast<int>(layer)) {
    launch(next_to_launch_++);
  }
  poll();  // MPI moves non-blocking collectives forward only inside MPI calls
}

void GradientBuckets::finish(Context& ctx) {
  if (ctx_ != &ctx) fail("gradient buckets: finish() without begin_backward() on the same context");
  while (next_to_launch_ < layout_.size()) launch(next_to_launch_++);
  const float inv_world = 1.0f / static_cast<float>(comm_.world_size());
  for (std::size_t b = 0; b < layout_.size(); ++b) {
    pending_[b]->wait();
    if (!finished_[b]) {
      finished_[b] = true;
      comm_.trace().record(TraceKind::bucket_finished, static_cast<int>(b), ctx.step);
    }
    const BucketLayout& layout = layout_[b];
    for (std::size_t i = 0; i < layout.params.size(); ++i) {
      Param& p = *params_[layout.params[i]];
      if (options_.compression == BucketCompression::none)
        kernels::scale(ctx.exec, p.grad.numel(), inv_world, flat_[b].data() + layout.offsets[i], p.grad.data());
      else
        kernels::unpack_16(ctx.exec, half_format(options_.compression), p.grad.numel(), 1.0f,
                           flat_[b].data_as<uint16_t>() + layout.offsets[i], p.grad.data());
    }
  }
  ctx_ = nullptr;
}

}  // namespace convoy::dist
