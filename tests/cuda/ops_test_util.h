// Helpers of the CUDA op tests: skipping cleanly where no GPU is usable, device buffers
// that upload / download std::vectors (waiting for all streams first, so results of work
// on the device's compute stream are complete), and the CUDA Exec.
#pragma once
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/error.h"
#include "kernels/exec.h"

namespace convoy::test {

// Skips the calling test (must be used directly in the TEST body) when no device works.
#define CONVOY_REQUIRE_CUDA_DEVICE()                                                            \
  do {                                                                                          \
    if (::convoy::cuda_device_count() == 0)                                                     \
      GTEST_SKIP() << "no usable CUDA device: " << ::convoy::cuda_unavailable_reason();         \
  } while (0)

inline void cuda_ok(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

// Waits for every stream of the device and surfaces asynchronous kernel faults.
inline void device_sync() { cuda_ok(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

inline kernels::Exec cuda_exec() {
  kernels::Exec e;
  e.backend = kernels::Backend::cuda;
  e.device = 0;
  return e;
}

template <typename T>
class DeviceVec {
 public:
  explicit DeviceVec(const std::vector<T>& host) : n_(host.size()) {
    cuda_ok(cudaMalloc(&ptr_, bytes()), "cudaMalloc");
    if (n_) cuda_ok(cudaMemcpy(ptr_, host.data(), bytes(), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  }
  ~DeviceVec() { cudaFree(ptr_); }
  DeviceVec(const DeviceVec&) = delete;
  DeviceVec& operator=(const DeviceVec&) = delete;

  T* get() { return n_ ? static_cast<T*>(ptr_) : nullptr; }
  const T* get() const { return n_ ? static_cast<const T*>(ptr_) : nullptr; }
  std::vector<T> host() const {
    device_sync();
    std::vector<T> out(n_);
    if (n_) cuda_ok(cudaMemcpy(out.data(), ptr_, bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
    return out;
  }
  void upload(const std::vector<T>& host) {
    if (host.size() != n_) throw std::runtime_error("DeviceVec::upload: size mismatch");
    device_sync();
    if (n_) cuda_ok(cudaMemcpy(ptr_, host.data(), bytes(), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
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

}  // namespace convoy::test
