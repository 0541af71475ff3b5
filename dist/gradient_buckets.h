// Bucketed gradient allreduce for data-parallel training (after PyTorch DDP's reducer).
//
// Parameters are grouped into buckets of at most `bucket_mb` megabytes, filled in REVERSE
// layer order (the order backward completes them), so the first bucket is ready after the
// last layers' backward. A backward hook on the model's top-level layers
// (Model::set_backward_hook) starts a bucket's non-blocking allreduce as soon as the
// layer that completes it has run; communication then overlaps the backward of the
// earlier layers. finish() starts whatever is left, waits, and writes the AVERAGE
// (sum / world size) back into every Param::grad.
//
// Each bucket owns a flat buffer on the parameters' device: gradients are copied in when
// the bucket launches and scaled back out in finish() (copies keep Param::grad an ordinary
// tensor; the copy is small next to the reduce). With compression (fp16 or bf16, as
// Horovod's Compression.fp16 and DDP's fp16/bf16 compress hooks) the copy in scales each
// gradient by 1/W and narrows it into a half-width flat buffer (kernels::pack_16), the
// communicator reduces 16-bit values (MPI: MPI_UINT16_T with a user op adding in float;
// NCCL: ncclFloat16/ncclBfloat16), and the copy out widens (kernels::unpack_16): half the
// bytes on the wire, the averaged gradients rounded to 16 bits (fp16: 11 significant bits,
// largest 65504; bf16: 8 significant bits, float's range).
//
// Trace entries (dist::OverlapTrace of the communicator): layer_backward_done(layer),
// bucket_started(bucket), bucket_finished(bucket), all tagged with ctx.step.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "layers/model.h"

namespace convoy::dist {

// 4 MB by default, not PyTorch DDP's 25 MB: DDP's cap was sized for models of ~100 MB
// (ResNet-50: four buckets), ours have 0.6 MB (quick) and 26 MB (resnet), where 25 MB would
// put all of resnet but 1.3 MB into one bucket that can only start when backward is nearly
// over. 4 MB gives resnet 7 buckets, each still bandwidth-bound (4 MB at 50 GB/s = 80 us
// against ~15 us per ring step); bench/scaling_model.py predicts 16 H100s on 100 Gb/s at
// 99.0% with 4 MB against 94.6% with 25 MB (docs/distributed.md).
inline constexpr double kDefaultBucketMb = 4.0;

enum class BucketCompression { none, fp16, bf16 };
// "none" | "fp16" | "bf16" (the --grad-compression values); anything else is an error naming it.
BucketCompression parse_compression(const std::string& text);
const char* to_string(BucketCompression c);

struct BucketOptions {
  double bucket_mb = kDefaultBucketMb;
  BucketCompression compression = BucketCompression::none;
};

struct BucketLayout {
  std::vector<int> params;       // indices into Model::params(), in filling order
  std::vector<int64_t> offsets;  // each parameter's offset (floats) in the flat buffer
  int64_t numel = 0;
  int ready_after_layer = 0;     // the bucket is complete once this top-level layer's backward ran
};

class GradientBuckets {
 public:
  GradientBuckets(Model& model, Communicator& comm, const BucketOptions& options = {});
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Before model.backward(): arms the hook for this step.
  void begin_backward(Context& ctx);
  // After model.backward(): every gradient is the average over the ranks on return
  // (on a GPU: ordered on ctx's stream).
  void finish(Context& ctx);

  const std::vector<BucketLayout>& layout() const { return layout_; }
  int64_t total_numel() const;

 private:
  void on_layer_done(std::size_t layer);
  void launch(std::size_t bucket);
  void poll();

  Model& model_;
  Communicator& comm_;
  BucketOptions options_;
  std::vector<Param*> params_;
  std::vector<BucketLayout> layout_;
  std::vector<Tensor> flat_;
  std::vector<std::unique_ptr<PendingReduce>> pending_;
  std::vector<bool> finished_;
  std::size_t next_to_launch_ = 0;
  Context* ctx_ = nullptr;  // set between begin_backward and finish
};

}  // namespace convoy::dist
