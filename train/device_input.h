// Puts a loader batch where the model runs. On the CPU the loader already normalised and
// augmented it. On a GPU the loader hands over the uint8 images (4x fewer bytes to copy) and
// one kernel crops, flips, cuts out and normalises them there, with the same per-sample
// draws as the CPU path (kernels/augment.h). Labels go along as int32 in float-sized slots.
#pragma once
#include "data/batch_loader.h"
#include "engine/context.h"
#include "engine/tensor.h"
#include "kernels/augment.h"

namespace convoy {

// The augmentation settings of a loader, as kernel arguments (pointers left empty).
kernels::AugmentArgs augment_args_for(const data::LoaderOptions& options);

class DeviceInput {
 public:
  // x becomes (N, 3, 32, 32) on ctx.device; labels (N) int32 on ctx.device.
  void upload(Context& ctx, const data::Batch& batch, const kernels::AugmentArgs& augment, Tensor& x,
              Tensor& labels);

 private:
  Tensor raw_;  // uint8 images, in float-sized storage
  Tensor ids_;  // uint64 sample ids, two float slots each
};

}  // namespace convoy
