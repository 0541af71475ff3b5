// Shared launch helpers of the CUDA kernels: the stream an Exec names, ceil-division,
// and a checked launch that reports the kernel's name when the launch fails.
#pragma once
#include <cuda_runtime.h>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda_backend.h"
#include "kernels/exec.h"

namespace convoy::kernels::cuda {

// The stream to launch on: the Exec's, or the device's compute stream when it names none.
inline cudaStream_t stream_of(const Exec& exec) {
  if (exec.stream) return static_cast<cudaStream_t>(exec.stream);
  return static_cast<cudaStream_t>(cuda_backend::default_stream(exec.device));
}

// Makes exec.device current for a scope (launches go to the current device).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    CONVOY_CUDA_CHECK(cudaGetDevice(&previous_));
    changed_ = previous_ != device;
    if (changed_) CONVOY_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() {
    if (changed_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

constexpr CONVOY_HD long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

// Launches `kernel` and checks the launch with cudaGetLastError, naming `name` on failure.
template <typename... KernelArgs, typename... Args>
void launch_checked(const char* name, void (*kernel)(KernelArgs...), dim3 grid, dim3 block,
                    std::size_t shared_bytes, cudaStream_t stream, Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  if (grid.y > 65535 || grid.z > 65535)
    fail("launch of ", name, ": grid (", grid.x, ", ", grid.y, ", ", grid.z, ") exceeds the y/z limit 65535");
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    fail("launch of CUDA kernel ", name, " (grid ", grid.x, "x", grid.y, "x", grid.z, ", block ", block.x, "x",
         block.y, ") failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
}

// Number of multiprocessors of `device` (cached), for sizing split-K grids.
int multiprocessor_count(int device);

}  // namespace convoy::kernels::cuda
