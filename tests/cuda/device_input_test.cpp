// The GPU input pipeline's ordering: batches staged ahead on the copy stream give exactly the
// CPU path's tensors, a slot is not refilled while a queued kernel still has to read it, and
// page-locked memory round-trips through the copy stream with an event between the streams.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "data/batch_loader.h"
#include "data/sources.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "engine/event.h"
#include "engine/pinned_buffer.h"
#include "tests/cuda/gpu_test_util.h"
#include "train/device_input.h"

namespace convoy {
namespace {

std::vector<data::Batch> raw_batches(const data::LoaderOptions& raw, int images) {
  data::LoadOptions lo;
  lo.synthetic_train = images;
  lo.synthetic_test = 10;
  auto d = data::load_cifar("synthetic", lo);
  data::BatchLoader loader(d.train, raw);
  loader.start_epoch(1);
  std::vector<data::Batch> out;
  for (data::Batch b; loader.next(b);) out.push_back(b);
  return out;
}

data::LoaderOptions raw_options() {
  data::LoaderOptions raw;
  raw.batch_size = 128;
  raw.drop_last = false;
  raw.cutout = 8;
  raw.seed = 4;
  raw.normalize_on_host = false;
  return raw;
}

std::vector<int32_t> as_labels(const Tensor& t) {
  const Tensor host = t.to(Device::cpu());
  return std::vector<int32_t>(host.data_as<int32_t>(), host.data_as<int32_t>() + host.numel());
}

// The trainer's order on the GPU (stage k+1, then upload k+1 after k) against the CPU
// kernels on the same raw batches: bit-identical images and labels, every batch staged.
TEST(GpuDeviceInput, StagedAheadMatchesTheCpuPath) {
  CONVOY_SKIP_WITHOUT_GPU();
  const data::LoaderOptions raw = raw_options();
  const auto batches = raw_batches(raw, 700);  // 5 of 128 and one of 60
  ASSERT_EQ(batches.size(), 6u);
  const kernels::AugmentArgs args = augment_args_for(raw);
  Context gpu = Context::make(Device::cuda(0)), cpu = Context::make(Device::cpu());
  DeviceInput ahead, reference;
  ahead.stage(gpu, batches[0]);
  for (size_t k = 0; k < batches.size(); ++k) {
    Tensor x, l, xr, lr;
    test::poison(x = Tensor({batches[k].size, 3, 32, 32}, gpu.device));
    ahead.upload(gpu, batches[k], args, x, l);
    if (k + 1 < batches.size()) ahead.stage(gpu, batches[k + 1]);
    reference.upload(cpu, batches[k], args, xr, lr);
    EXPECT_TRUE(test::bit_identical(x.to_vector(), xr.to_vector())) << "batch " << k;
    EXPECT_EQ(as_labels(l), batches[k].labels) << "batch " << k;
  }
  EXPECT_EQ(ahead.staged_hits(), 6);
}

// Batch 0's augmentation is queued behind ~1 GB x 24 of fills on the compute stream; batches
// 1 and 2 are staged at once, batch 2 into batch 0's slot. Without the `consumed` event the
// copy stream would overwrite the slot before the kernel read it.
TEST(GpuDeviceInput, ASlotIsRefilledOnlyAfterItsKernelRan) {
  CONVOY_SKIP_WITHOUT_GPU();
  const data::LoaderOptions raw = raw_options();
  const auto batches = raw_batches(raw, 384);
  ASSERT_EQ(batches.size(), 3u);
  const kernels::AugmentArgs args = augment_args_for(raw);
  Context gpu = Context::make(Device::cuda(0)), cpu = Context::make(Device::cpu());
  DeviceInput input, reference;
  Tensor x0, l0, x1, l1, warm, warm_l;
  input.upload(gpu, batches[0], args, warm, warm_l);  // slots allocated before the race
  input.upload(gpu, batches[1], args, warm, warm_l);
  cuda_backend::synchronize(0);
  // On the emulated device queued work waits anyway, and its race check needs no head start.
  Tensor busy({cuda_backend::emulated() ? int64_t{1} << 16 : int64_t{1} << 28}, gpu.device);
  for (int i = 0; i < 24; ++i) busy.fill(static_cast<float>(i));
  input.stage(gpu, batches[0]);
  input.upload(gpu, batches[0], args, x0, l0);
  input.stage(gpu, batches[1]);
  input.stage(gpu, batches[2]);  // batch 0's slot
  Tensor xr, lr;
  reference.upload(cpu, batches[0], args, xr, lr);
  EXPECT_TRUE(test::bit_identical(x0.to_vector(), xr.to_vector()));
  EXPECT_EQ(as_labels(l0), batches[0].labels);
  input.upload(gpu, batches[2], args, x1, l1);
  reference.upload(cpu, batches[2], args, xr, lr);
  EXPECT_TRUE(test::bit_identical(x1.to_vector(), xr.to_vector()));
  EXPECT_EQ(input.staged_hits(), 2);
}

// Dropped with a batch staged (an exception or an early stop between stage and upload): the
// destructor waits for the queued copy before its pinned and device buffers are freed. On
// the emulated device a free under a queued copy makes the device fail.
TEST(GpuDeviceInput, DestroyedWithABatchStagedWaitsForItsCopy) {
  CONVOY_SKIP_WITHOUT_GPU();
  const data::LoaderOptions raw = raw_options();
  const auto batches = raw_batches(raw, 300);
  Context gpu = Context::make(Device::cuda(0));
  {
    DeviceInput input;
    input.stage(gpu, batches[0]);
    input.stage(gpu, batches[1]);
  }
  EXPECT_NO_THROW(cuda_backend::synchronize(0));
  Tensor t = Tensor::filled({4}, 1.0f, Device::cuda(0));
  EXPECT_EQ(t.to_vector(), std::vector<float>(4, 1.0f)) << "the device still works";
}

// Pinned bytes up on the copy stream; the compute stream waits on the event and copies
// them back down (Tensor::to_vector runs on the compute stream).
TEST(GpuPinnedCopy, RoundTripsThroughTheCopyStream) {
  CONVOY_SKIP_WITHOUT_GPU();
  const size_t n = (size_t{1} << 22) + 7;
  PinnedBuffer host(n * sizeof(float));
  ASSERT_NE(host.data(), nullptr);
  auto* h = static_cast<float*>(host.data());
  for (size_t i = 0; i < n; ++i) h[i] = static_cast<float>(i % 1013) * 0.5f + 1.0f;
  Tensor dev({static_cast<int64_t>(n)}, Device::cuda(0));
  test::poison(dev);
  void* copy = cuda_backend::copy_stream(0);
  Event copied(Device::cuda(0));
  EXPECT_TRUE(copied.done());  // nothing recorded yet
  cuda_backend::copy_async(dev.data(), host.data(), n * sizeof(float), cuda_backend::CopyKind::host_to_device, copy);
  copied.record(copy);
  copied.make_wait(cuda_backend::default_stream(0));
  const std::vector<float> back = dev.to_vector();
  EXPECT_TRUE(copied.done());
  EXPECT_EQ(0, std::memcmp(back.data(), h, n * sizeof(float)));
  PinnedBuffer moved = std::move(host);
  EXPECT_EQ(host.data(), nullptr);
  EXPECT_EQ(moved.bytes(), n * sizeof(float));
}

TEST(GpuPinnedCopy, AnEventNeedsACudaDevice) {
  EXPECT_THROW(Event{Device::cpu()}, Error);
}

}  // namespace
}  // namespace convoy
