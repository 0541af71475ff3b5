// Launch helpers of the element-wise, pooling, batch-norm, loss, SGD and augmentation
// kernels, on top of kernels/cuda/cuda_util.cuh (stream_of, DeviceGuard) and
// engine/cuda/cuda_check.h (CONVOY_CUDA_CHECK, CONVOY_CUDA_CHECK_LAUNCH): grid sizing, a
// grid-stride for-each launcher and a scratch buffer from the device's caching allocator.
// Every launch in those files is followed by CONVOY_CUDA_CHECK_LAUNCH, so a bad
// configuration or an earlier asynchronous fault is reported with file, line and kernel
// name instead of surfacing later elsewhere.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "kernels/cuda/cuda_util.cuh"
#include "kernels/exec.h"

namespace convoy::kernels::cuda::ops {

// Threads per block for the one-dimensional, memory-bound kernels: 256 keeps 8 warps per
// block and lets 8 blocks share an SM, enough in-flight loads to cover DRAM latency.
constexpr int kBlock = 256;

// Blocks for a grid-stride loop over n items at `per_thread` items per thread, capped so
// that huge arrays reuse threads instead of launching millions of short-lived blocks.
// Depends on n only (not on the device), so any reduction built on it has a fixed tree.
inline unsigned grid_for(int64_t n, int per_thread = 1, int block = kBlock) {
  constexpr int64_t kMaxBlocks = 132 * 32;  // H100 SMs x resident-block headroom
  const int64_t per_block = static_cast<int64_t>(block) * per_thread;
  int64_t blocks = (n + per_block - 1) / per_block;
  if (blocks < 1) blocks = 1;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return static_cast<unsigned>(blocks);
}

inline void check_count(int64_t n, const char* op) {
  if (n < 0) convoy::fail(op, ": element count ", n, " is negative");
}

// Device scratch from the caching allocator, returned when the owner goes out of scope.
// The allocator may hand a returned block out again at once, which is safe only for work
// queued behind ours on the same stream: on any stream but the device's compute stream
// the destructor first waits for the stream (see engine/cuda/caching_allocator.h).
class Scratch {
 public:
  Scratch(const Exec& exec, std::size_t bytes) : device_(exec.device), bytes_(bytes) {
    if (exec.stream != nullptr && exec.stream != convoy::cuda_backend::default_stream(exec.device))
      private_stream_ = static_cast<cudaStream_t>(exec.stream);
    if (bytes_ > 0) ptr_ = convoy::cuda_backend::allocator(device_).allocate(bytes_);
  }
  ~Scratch() {
    if (ptr_ == nullptr) return;
    if (private_stream_ != nullptr) cudaStreamSynchronize(private_stream_);  // a destructor must not throw
    convoy::cuda_backend::allocator(device_).deallocate(ptr_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  int device_;
  std::size_t bytes_;
  void* ptr_ = nullptr;
  cudaStream_t private_stream_ = nullptr;
};

// Grid-stride loop calling op(i) for every i in [0, n). Ops are small functor structs
// (no extended lambdas needed); consecutive threads take consecutive items, so a warp's
// accesses are contiguous and coalesced.
template <typename Op>
__global__ void for_each_index_kernel(int64_t n, Op op) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) op(i);
}

// Launches for_each_index_kernel over n items on the Exec's stream and device, checked;
// nothing when n == 0.
template <typename Op>
void for_each(const Exec& exec, int64_t n, const Op& op, const char* kernel_name) {
  if (n <= 0) return;
  DeviceGuard guard(exec.device);
  for_each_index_kernel<<<grid_for(n, 4), kBlock, 0, stream_of(exec)>>>(n, op);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    convoy::fail("launch of CUDA kernel ", kernel_name, " (", n, " elements) failed: ", cudaGetErrorName(err), " (",
                 cudaGetErrorString(err), ")");
}

}  // namespace convoy::kernels::cuda::ops
