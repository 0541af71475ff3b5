// Launch helpers private to the element-wise, pooling, batch-norm, loss, SGD and
// augmentation kernels: the stream an Exec names, a checked-launch macro, grid sizing and
// a scratch buffer from the device's caching allocator. Every launch in those files goes
// through CONVOY_OPS_CHECK_LAUNCH so a bad configuration or an earlier asynchronous fault
// is reported with file, line and kernel name instead of surfacing later elsewhere.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "kernels/exec.h"

namespace convoy::kernels::cuda::ops {

// The stream of `exec`: its own, or the device's compute stream when it names none.
inline cudaStream_t stream_of(const Exec& exec) {
  if (exec.stream != nullptr) return static_cast<cudaStream_t>(exec.stream);
  return static_cast<cudaStream_t>(convoy::cuda_backend::default_stream(exec.device));
}

inline void check_cuda(cudaError_t err, const char* what, const char* file, int line) {
  if (err != cudaSuccess)
    convoy::fail(file, ":", line, ": ", what, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
                 ")");
}

// Threads per block for the one-dimensional, memory-bound kernels: 256 keeps 8 warps per
// block and lets 8 blocks share an SM, enough in-flight loads to cover DRAM latency.
constexpr int kBlock = 256;

// Blocks for a grid-stride loop over n items at `per_thread` items per thread, capped so
// that huge arrays reuse threads instead of launching millions of short-lived blocks.
inline unsigned grid_for(int64_t n, int per_thread = 1, int block = kBlock) {
  constexpr int64_t kMaxBlocks = 132 * 32;  // H100 SMs x resident-block headroom
  int64_t per_block = static_cast<int64_t>(block) * per_thread;
  int64_t blocks = (n + per_block - 1) / per_block;
  if (blocks < 1) blocks = 1;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return static_cast<unsigned>(blocks);
}

// Device scratch from the caching allocator, returned when the owner goes out of scope.
// Only for use on the stream the allocator serves (work queued later on the same stream
// cannot overtake kernels still reading the scratch).
class Scratch {
 public:
  Scratch(int device, std::size_t bytes) : device_(device), bytes_(bytes) {
    if (bytes_ > 0) ptr_ = convoy::cuda_backend::allocator(device_).allocate(bytes_);
  }
  ~Scratch() {
    if (ptr_ != nullptr) convoy::cuda_backend::allocator(device_).deallocate(ptr_, bytes_);
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
};

// Grid-stride loop calling op(i) for every i in [0, n). Ops are small functor structs
// (no extended lambdas needed); each thread touches items a grid apart so that a warp's
// accesses stay contiguous and coalesced.
template <typename Op>
__global__ void for_each_index_kernel(int64_t n, Op op) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) op(i);
}

inline void check_count(int64_t n, const char* op) {
  if (n < 0) convoy::fail(op, ": element count ", n, " is negative");
}

}  // namespace convoy::kernels::cuda::ops

// Checks a CUDA runtime call.
#define CONVOY_OPS_CUDA(call) ::convoy::kernels::cuda::ops::check_cuda((call), #call, __FILE__, __LINE__)

// Checks the launch that was just made (configuration errors, and faults of earlier
// asynchronous work that the runtime reports now).
#define CONVOY_OPS_CHECK_LAUNCH(kernel_name) \
  ::convoy::kernels::cuda::ops::check_cuda(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)

// Launches for_each_index_kernel over n items on the Exec's stream; nothing when n == 0.
#define CONVOY_OPS_FOR_EACH(exec, n, op, kernel_name)                                                       \
  do {                                                                                                     \
    if ((n) > 0) {                                                                                         \
      ::convoy::kernels::cuda::ops::for_each_index_kernel<<<::convoy::kernels::cuda::ops::grid_for(n, 4),  \
                                                              ::convoy::kernels::cuda::ops::kBlock, 0,     \
                                                              ::convoy::kernels::cuda::ops::stream_of(exec)>>>((n), (op)); \
      CONVOY_OPS_CHECK_LAUNCH(kernel_name);                                                                \
    }                                                                                                      \
  } while (0)
