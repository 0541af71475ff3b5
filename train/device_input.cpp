#include "train/device_input.h"

#include <cstring>

#include "engine/allocator.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"

namespace convoy {
namespace {

// Byte offsets of one batch in a pinned staging buffer: raw images, then the uint64 sample
// ids (8-aligned, as 3072 * N is), then the int32 labels. One buffer, three copies.
struct SlotLayout {
  std::size_t ids, labels, bytes;
};

SlotLayout layout(int n) {
  const std::size_t N = static_cast<std::size_t>(n);
  SlotLayout l;
  l.ids = N * data::kImageBytes;
  l.labels = l.ids + N * sizeof(uint64_t);
  l.bytes = l.labels + N * sizeof(int32_t);
  return l;
}

void* compute_stream(const Context& ctx) {
  return ctx.exec.stream ? ctx.exec.stream : cuda_backend::default_stream(ctx.device.index);
}

}  // namespace

kernels::AugmentArgs augment_args_for(const data::LoaderOptions& o) {
  kernels::AugmentArgs a;
  for (int c = 0; c < 3; ++c) {
    a.mean[c] = o.stats.mean[c];
    a.inv_std[c] = 1.0f / o.stats.std[c];
  }
  a.augment = o.augment;
  a.crop_pad = o.crop_pad;
  a.flip = o.flip;
  a.cutout = o.cutout;
  a.seed = o.seed;
  return a;
}

DeviceInput::~DeviceInput() {
  for (Slot& s : slots_) {
    try {
      s.consumed.synchronize();
      s.copied.synchronize();
    } catch (const std::exception&) {
      // The device already failed (its error was thrown where it was found); nothing left to wait for.
    }
  }
}

void DeviceInput::reserve(Context& ctx, Slot& s, int n) {
  const bool gpu = ctx.device.is_cuda();
  if (!(device_ == ctx.device)) {  // first use, or another device: start over
    for (Slot& old : slots_) {
      old.consumed.synchronize();
      old.copied.synchronize();
      old = Slot();
    }
    device_ = ctx.device;
  }
  if (gpu && !s.copied.defined()) {
    s.copied = Event(ctx.device);
    s.consumed = Event(ctx.device);
  }
  if (s.capacity >= n) return;
  s.consumed.synchronize();  // nothing reads the old buffers any more
  s.copied.synchronize();
  const int64_t N = n;
  s.images = Tensor(Shape{N, data::kImageBytes}, ctx.device, DType::u8);
  s.ids = Tensor(Shape{N}, ctx.device, DType::u64);
  s.labels = Tensor(Shape{N}, ctx.device, DType::i32);
  if (gpu) {
    s.host = PinnedBuffer(layout(n).bytes);
    // The caching allocator may hand out a block that kernels queued on the compute stream
    // still use; the copy stream is not ordered after them, so wait once here (only when
    // a slot grows: the first batch, or a larger one).
    cuda_backend::synchronize(ctx.device.index);
  }
  s.capacity = n;
}

void DeviceInput::stage(Context& ctx, const data::Batch& batch) {
  const int N = batch.size;
  if (batch.raw.empty() || N <= 0) return;
  CONVOY_CHECK(batch.raw.size() == static_cast<size_t>(N) * data::kImageBytes, "raw batch of " << batch.raw.size());
  CONVOY_CHECK(batch.ids.size() == static_cast<size_t>(N) && batch.labels.size() == static_cast<size_t>(N),
               "batch of " << N << " with " << batch.ids.size() << " ids and " << batch.labels.size() << " labels");
  const bool gpu = ctx.device.is_cuda();
  Slot& s = slots_[next_slot_];
  next_slot_ = 1 - next_slot_;
  const SlotLayout l = layout(N);
  if (gpu) s.copied.synchronize();  // the staging bytes are free once their last copy ran
  reserve(ctx, s, N);
  if (!gpu) {
    std::memcpy(s.images.data_as<uint8_t>(), batch.raw.data(), batch.raw.size());
    std::memcpy(s.ids.data_as<uint64_t>(), batch.ids.data(), N * sizeof(uint64_t));
    std::memcpy(s.labels.data_as<int32_t>(), batch.labels.data(), N * sizeof(int32_t));
  } else {
    auto* host = static_cast<uint8_t*>(s.host.data());
    std::memcpy(host, batch.raw.data(), batch.raw.size());
    std::memcpy(host + l.ids, batch.ids.data(), N * sizeof(uint64_t));
    std::memcpy(host + l.labels, batch.labels.data(), N * sizeof(int32_t));
    void* copy = cuda_backend::copy_stream(ctx.device.index);
    s.consumed.make_wait(copy);  // the slot's previous batch has been read
    const auto h2d = cuda_backend::CopyKind::host_to_device;
    cuda_backend::copy_async(s.images.data_as<uint8_t>(), host, batch.raw.size(), h2d, copy);
    cuda_backend::copy_async(s.ids.data_as<uint64_t>(), host + l.ids, N * sizeof(uint64_t), h2d, copy);
    cuda_backend::copy_async(s.labels.data_as<int32_t>(), host + l.labels, N * sizeof(int32_t), h2d, copy);
    s.copied.record(copy);
  }
  s.pending = true;
  s.epoch = batch.epoch;
  s.index = batch.index;
  s.size = N;
}

DeviceInput::Slot* DeviceInput::staged(const data::Batch& batch) {
  for (Slot& s : slots_)
    if (s.pending && s.epoch == batch.epoch && s.index == batch.index && s.size == batch.size) return &s;
  return nullptr;
}

void DeviceInput::upload(Context& ctx, const data::Batch& batch, const kernels::AugmentArgs& augment, Tensor& x,
                         Tensor& labels) {
  const int N = batch.size;
  ensure_shape(x, {N, data::kImageChannels, data::kImageSide, data::kImageSide}, ctx.device);
  ensure_shape(labels, {N}, ctx.device, DType::i32);
  if (!batch.images.empty() || N == 0) {
    copy_bytes(ctx.device, labels.data_as<int32_t>(), Device::cpu(), batch.labels.data(), N * sizeof(int32_t));
    copy_bytes(ctx.device, x.data(), Device::cpu(), batch.images.data(), batch.images.size() * sizeof(float));
    return;
  }
  Slot* s = staged(batch);
  if (s && device_ == ctx.device) {
    ++staged_hits_;
  } else {
    stage(ctx, batch);
    s = &slots_[1 - next_slot_];
  }
  const bool gpu = ctx.device.is_cuda();
  if (gpu) {
    void* stream = compute_stream(ctx);
    s->copied.make_wait(stream);
    cuda_backend::copy_async(labels.data_as<int32_t>(), s->labels.data_as<int32_t>(), N * sizeof(int32_t),
                             cuda_backend::CopyKind::device_to_device, stream);
  } else {
    std::memcpy(labels.data_as<int32_t>(), s->labels.data_as<int32_t>(), N * sizeof(int32_t));
  }
  kernels::AugmentArgs a = augment;
  a.N = N;
  a.epoch = batch.epoch;
  a.images = s->images.data_as<uint8_t>();
  a.sample_ids = s->ids.data_as<uint64_t>();
  a.out = x.data();
  kernels::augment_normalize(ctx.exec, a);
  if (gpu) s->consumed.record(compute_stream(ctx));
  s->pending = false;
}

}  // namespace convoy
