// What the emulated CUDA device (kernels/emulated/device_runtime.h) refuses or exposes, each
// the way a careless line of GPU host code would meet it: a host pointer given to a kernel, a
// copy one element too long, an asynchronous copy from pageable memory, memory used after its
// free, work that a missing event wait lets run too early. Skipped on a real GPU, where these
// mistakes are undefined behaviour rather than errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "engine/event.h"
#include "engine/pinned_buffer.h"
#include "engine/tensor.h"
#include "kernels/elementwise.h"
#include "tests/cuda/gpu_test_util.h"

namespace convoy {
namespace {

#define CONVOY_SKIP_UNLESS_EMULATED()                                                      \
  do {                                                                                     \
    if (cuda_device_count() == 0 || !cuda_backend::emulated())                             \
      GTEST_SKIP() << "checks of the emulated device (this build has "                     \
                   << (cuda_device_count() ? "a real one)" : "none)");                     \
  } while (0)

// Runs `f`, which must throw a convoy::Error whose message holds every one of `parts`.
template <typename F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(EmulatedDevice, NamesItselfEmulatedWhereverADeviceIsNamed) {
  CONVOY_SKIP_UNLESS_EMULATED();
  EXPECT_EQ(Device::cuda(0).to_string(), "cuda:0 (emulated)");
  EXPECT_NE(cuda_backend::device_name(0).find("emulated"), std::string::npos);
}

TEST(EmulatedDevice, AKernelGivenAHostPointerIsRefused) {
  CONVOY_SKIP_UNLESS_EMULATED();
  std::vector<float> host(16, 1.0f);
  Tensor y({16}, Device::cuda(0));
  expect_error([&] { kernels::add(exec_for(Device::cuda(0)), 16, host.data(), y.data(), y.data()); },
               {"add", "a = ", "is not device memory"});
}

TEST(EmulatedDevice, AKernelReadingPastItsBufferIsRefused) {
  CONVOY_SKIP_UNLESS_EMULATED();
  Tensor x({100}, Device::cuda(0)), y({101}, Device::cuda(0));
  expect_error([&] { kernels::copy(exec_for(Device::cuda(0)), 101, x.data(), y.data()); },
               {"copy", "x = ", "runs 4 bytes past the end", "400 bytes in use"});
}

TEST(EmulatedDevice, ACopyOneElementTooLongIsRefused) {
  CONVOY_SKIP_UNLESS_EMULATED();
  Tensor d({10}, Device::cuda(0));
  std::vector<float> host(11, 2.0f);
  expect_error([&] { cuda_backend::copy(d.data(), host.data(), 11 * sizeof(float), cuda_backend::CopyKind::host_to_device); },
               {"destination", "runs 4 bytes past the end"});
}

TEST(EmulatedDevice, AnAsyncCopyNeedsPinnedHostMemory) {
  CONVOY_SKIP_UNLESS_EMULATED();
  Tensor d({8}, Device::cuda(0));
  std::vector<float> pageable(8, 1.0f);
  expect_error([&] {
    cuda_backend::copy_async(d.data(), pageable.data(), sizeof(float) * 8, cuda_backend::CopyKind::host_to_device,
                             cuda_backend::copy_stream(0));
  }, {"pageable memory", "page-locked"});
  PinnedBuffer pinned(sizeof(float) * 8);
  EXPECT_NO_THROW(cuda_backend::copy_async(d.data(), pinned.data(), sizeof(float) * 8,
                                           cuda_backend::CopyKind::host_to_device, cuda_backend::copy_stream(0)));
  cuda_backend::synchronize(0);
}

TEST(EmulatedDevice, QueuedWorkRunsOnlyWhenSomethingWaitsForIt) {
  CONVOY_SKIP_UNLESS_EMULATED();
  Tensor d = Tensor::zeros({4}, Device::cuda(0));
  cuda_backend::synchronize(0);  // the fill (compute stream) before the copy (copy stream)
  PinnedBuffer pinned(sizeof(float) * 4);
  auto* p = static_cast<float*>(pinned.data());
  for (int i = 0; i < 4; ++i) p[i] = 1.0f;
  void* copy = cuda_backend::copy_stream(0);
  cuda_backend::copy_async(d.data(), pinned.data(), sizeof(float) * 4, cuda_backend::CopyKind::host_to_device, copy);
  for (int i = 0; i < 4; ++i) p[i] = 5.0f;  // the race a real GPU may or may not show: the copy has not run
  Event copied(Device::cuda(0));
  copied.record(copy);
  EXPECT_FALSE(copied.done());
  copied.synchronize();
  EXPECT_EQ(d.to_vector(), std::vector<float>(4, 5.0f));
}

TEST(EmulatedDevice, MemoryFreedWhileASideStreamStillUsesItMakesTheDeviceFail) {
  CONVOY_SKIP_UNLESS_EMULATED();
  PinnedBuffer pinned(sizeof(float) * 64);
  {
    Tensor d({64}, Device::cuda(0));
    cuda_backend::copy_async(d.data(), pinned.data(), sizeof(float) * 64, cuda_backend::CopyKind::host_to_device,
                             cuda_backend::copy_stream(0));
  }  // freed with the copy still queued on the copy stream
  expect_error([] { cuda_backend::synchronize(0); }, {"unusable after an earlier error", "copy stream"});
}

TEST(EmulatedDevice, AFreedBlockReadsAsNanUntilReused) {
  CONVOY_SKIP_UNLESS_EMULATED();
  const float* stale = nullptr;
  {
    Tensor d = Tensor::filled({256}, 3.0f, Device::cuda(0));
    stale = d.data();
  }
  cuda_backend::synchronize(0);  // the free takes effect in stream order
  Tensor reused({256}, Device::cuda(0));
  ASSERT_EQ(reused.data(), stale) << "the caching allocator reuses the block of the same size";
  for (float v : reused.to_vector()) EXPECT_TRUE(std::isnan(v));
}

}  // namespace
}  // namespace convoy
