// Launch helpers of the element-wise, pooling, batch-norm, loss, SGD and augmentation
// kernels, on top of kernels/cuda/cuda_util.cuh (stream_of, DeviceGuard) and
// kernels/cuda/cuda_check.h (CONVOY_CUDA_CHECK, CONVOY_CUDA_CHECK_LAUNCH): grid sizing and a
// grid-stride for-each launcher. Scratch memory is a kernels::ScratchBuffer (kernels/exec.h).
// Every launch in those files is followed by CONVOY_CUDA_CHECK_LAUNCH, so a bad
// configuration or an earlier asynchronous fault is reported with file, line and kernel
// name instead of surfacing later elsewhere.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "engine/error.h"
#include "kernels/cuda/cuda_check.h"
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

// Scratch memory under kernels/exec.h's stream-safety rule.
using Scratch = ScratchBuffer;

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
  CONVOY_CUDA_CHECK_LAUNCH(kernel_name);
}

}  // namespace convoy::kernels::cuda::ops
