// Helpers of the CUDA op tests: skipping cleanly where no GPU is usable, device buffers
// that upload / download std::vectors (waiting for all streams first, so results of work
// on the device's compute stream are complete), and the CUDA Exec. They go through the
// engine's CUDA backend, so they run on a GPU and on the emulated device alike.
#pragma once
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "engine/context.h"
#include "engine/cuda_backend.h"
#include "engine/device.h"
#include "engine/error.h"
#include "kernels/exec.h"
#include "kernels/pool2d.h"

namespace convoy::test {

// Skips the calling test (must be used directly in the TEST body) when no device works.
#define CONVOY_REQUIRE_CUDA_DEVICE()                                                            \
  do {                                                                                          \
    if (::convoy::cuda_device_count() == 0)                                                     \
      GTEST_SKIP() << "no usable CUDA device: " << ::convoy::cuda_unavailable_reason();         \
  } while (0)

// Waits for every stream of the device and surfaces asynchronous kernel faults.
inline void device_sync() { cuda_backend::synchronize(0); }

inline kernels::Exec cuda_exec() { return exec_for(Device::cuda(0)); }

template <typename T>
class DeviceVec {
 public:
  explicit DeviceVec(const std::vector<T>& host) : n_(host.size()) {
    ptr_ = cuda_backend::allocator(0).allocate(bytes());
    if (n_) cuda_backend::copy(ptr_, host.data(), n_ * sizeof(T), cuda_backend::CopyKind::host_to_device);
  }
  ~DeviceVec() { cuda_backend::allocator(0).deallocate(ptr_, bytes()); }
  DeviceVec(const DeviceVec&) = delete;
  DeviceVec& operator=(const DeviceVec&) = delete;

  T* get() { return n_ ? static_cast<T*>(ptr_) : nullptr; }
  const T* get() const { return n_ ? static_cast<const T*>(ptr_) : nullptr; }
  std::vector<T> host() const {
    device_sync();
    std::vector<T> out(n_);
    if (n_) cuda_backend::copy(out.data(), ptr_, n_ * sizeof(T), cuda_backend::CopyKind::device_to_host);
    return out;
  }
  void upload(const std::vector<T>& host) {
    if (host.size() != n_) fail("DeviceVec::upload: ", host.size(), " values for ", n_);
    device_sync();
    if (n_) cuda_backend::copy(ptr_, host.data(), n_ * sizeof(T), cuda_backend::CopyKind::host_to_device);
  }

 private:
  std::size_t bytes() const { return n_ * sizeof(T) > 0 ? n_ * sizeof(T) : 1; }
  std::size_t n_;
  void* ptr_ = nullptr;
};

// Bitwise equality of two float vectors (NaN payloads included).
inline bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A square pooling window R x R with one stride and one pad for both axes.
inline kernels::Pool2dShape pool_shape(int N, int C, int H, int W, int R, int stride, int pad) {
  kernels::Pool2dShape s;
  s.N = N, s.C = C, s.H = H, s.W = W;
  s.R = s.S = R;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  return s;
}

}  // namespace convoy::test
