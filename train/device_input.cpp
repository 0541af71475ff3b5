#include "train/device_input.h"

#include "engine/allocator.h"
#include "engine/error.h"

namespace convoy {

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

void DeviceInput::upload(Context& ctx, const data::Batch& batch, const kernels::AugmentArgs& augment, Tensor& x,
                         Tensor& labels) {
  const int N = batch.size;
  ensure_shape(x, {N, data::kImageChannels, data::kImageSide, data::kImageSide}, ctx.device);
  ensure_shape(labels, {N}, ctx.device);
  copy_bytes(ctx.device, labels.data(), Device::cpu(), batch.labels.data(), N * sizeof(int32_t));
  if (!batch.images.empty() || N == 0) {
    copy_bytes(ctx.device, x.data(), Device::cpu(), batch.images.data(), batch.images.size() * sizeof(float));
    return;
  }
  CONVOY_CHECK(batch.raw.size() == static_cast<size_t>(N) * data::kImageBytes, "raw batch of " << batch.raw.size());
  ensure_shape(raw_, {(static_cast<int64_t>(batch.raw.size()) + 3) / 4}, ctx.device);
  ensure_shape(ids_, {2 * static_cast<int64_t>(N)}, ctx.device);
  copy_bytes(ctx.device, raw_.data(), Device::cpu(), batch.raw.data(), batch.raw.size());
  copy_bytes(ctx.device, ids_.data(), Device::cpu(), batch.ids.data(), N * sizeof(uint64_t));
  kernels::AugmentArgs a = augment;
  a.N = N;
  a.epoch = batch.epoch;
  a.images = reinterpret_cast<const uint8_t*>(raw_.data());
  a.sample_ids = reinterpret_cast<const uint64_t*>(ids_.data());
  a.out = x.data();
  kernels::augment_normalize(ctx.exec, a);
}

}  // namespace convoy
