// Puts a loader batch where the model runs. On the CPU the loader already normalised and
// augmented it. On a GPU the loader hands over the uint8 images (4x fewer bytes to copy) and
// one kernel crops, flips, cuts out and normalises them there, with the same per-sample
// draws as the CPU path (kernels/augment.h). Labels go along as an int32 tensor.
//
// The GPU copy is double-buffered: stage() copies batch k+1 into page-locked memory and
// queues its upload on the device's copy stream while the compute stream still runs batch
// k; upload() then only makes the compute stream wait for that copy (an event, not a host
// wait) before the augmentation kernel. Each of the two slots carries two events: `copied`
// (the upload finished) and `consumed` (the kernels that read the slot finished), so a slot
// is refilled only once its previous batch has been read.
#pragma once
#include <cstdint>

#include "data/batch_loader.h"
#include "engine/context.h"
#include "engine/event.h"
#include "engine/pinned_buffer.h"
#include "engine/tensor.h"
#include "kernels/augment.h"

namespace convoy {

// The augmentation settings of a loader, as kernel arguments (pointers left empty).
kernels::AugmentArgs augment_args_for(const data::LoaderOptions& options);

class DeviceInput {
 public:
  DeviceInput() = default;
  // Waits for the slots' queued copies and kernels: their pinned and device buffers are freed
  // next, and a copy still queued would read freed memory (on an exception or early stop).
  ~DeviceInput();
  DeviceInput(const DeviceInput&) = delete;
  DeviceInput& operator=(const DeviceInput&) = delete;

  // Starts moving a raw batch to ctx.device ahead of its upload() (on a GPU, overlapping
  // the compute stream). A batch normalised on the host is left to upload().
  void stage(Context& ctx, const data::Batch& batch);
  // x becomes (N, 3, 32, 32) on ctx.device; labels (N) int32 on ctx.device. Uses the staged
  // copy of this batch (same epoch, index and size) if there is one, else stages it now.
  void upload(Context& ctx, const data::Batch& batch, const kernels::AugmentArgs& augment, Tensor& x,
              Tensor& labels);
  // How many upload() calls found their batch already staged (for tests and timings).
  int64_t staged_hits() const { return staged_hits_; }

 private:
  struct Slot {
    PinnedBuffer host;   // GPU only: the staging bytes
    Tensor images;       // uint8 (N, 3072): the raw images
    Tensor ids;          // uint64 (N): each image's index in the data set
    Tensor labels;       // int32 (N)
    int capacity = 0;    // images the tensors hold
    Event copied, consumed;
    bool pending = false;  // staged, not yet uploaded
    uint64_t epoch = 0;
    int64_t index = -1;
    int size = 0;
  };
  void reserve(Context& ctx, Slot& slot, int n);
  Slot* staged(const data::Batch& batch);

  Slot slots_[2];
  int next_slot_ = 0;
  Device device_;
  int64_t staged_hits_ = 0;
};

}  // namespace convoy
