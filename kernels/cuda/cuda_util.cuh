// Shared launch helpers of the CUDA kernels: the stream an Exec names, ceil-division,
// and a checked launch that reports the kernel's name when the launch fails.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_check.h"
#include "kernels/exec.h"

namespace convoy::kernels::cuda {

// The stream to launch on: the Exec's (the engine fills in the device's compute stream; a
// null stream is CUDA's legacy default stream).
inline cudaStream_t stream_of(const Exec& exec) { return static_cast<cudaStream_t>(exec.stream); }

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
  if (const cudaError_t err = cudaGetLastError(); err != cudaSuccess)  // with the configuration in the message
    cuda_detail::cuda_failed(__FILE__, __LINE__,
                             std::string("launch of ") + name + " (grid " + std::to_string(grid.x) + "x" +
                                 std::to_string(grid.y) + "x" + std::to_string(grid.z) + ", block " +
                                 std::to_string(block.x) + "x" + std::to_string(block.y) + ")",
                             err);
}

// Number of multiprocessors of `device` (cached), for sizing split-K grids.
int multiprocessor_count(int device);

}  // namespace convoy::kernels::cuda
