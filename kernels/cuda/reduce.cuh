// Deterministic warp and block reductions for the CUDA kernels. The order of additions is
// a fixed tree that depends only on blockDim (a butterfly within each warp, then warp 0
// folds the per-warp partials in warp order), never on timing, so the same input gives
// bit-identical sums from run to run. No atomics anywhere.
#pragma once
#include <cuda_runtime.h>

namespace convoy::kernels::cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xFFFFFFFFu;

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

template <typename T>
__device__ __forceinline__ T warp_max(T v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v = max(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// Sum over a one-dimensional block whose size is a multiple of 32 (at most 1024). Every
// thread must call it; every thread gets the total. `shared` holds at least 32 values and
// may be reused after the call returns.
template <typename T>
__device__ T block_sum(T v, T* shared) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  v = warp_sum(v);
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = lane < warps ? shared[lane] : T(0);
  total = warp_sum(total);
  return total;
}

// Two sums at once (one pass of __syncthreads for both), as batch-norm needs.
template <typename T>
__device__ void block_sum2(T& a, T& b, T* shared_a, T* shared_b) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  a = warp_sum(a);
  b = warp_sum(b);
  __syncthreads();
  if (lane == 0) {
    shared_a[warp] = a;
    shared_b[warp] = b;
  }
  __syncthreads();
  a = lane < warps ? shared_a[lane] : T(0);
  b = lane < warps ? shared_b[lane] : T(0);
  a = warp_sum(a);
  b = warp_sum(b);
}

}  // namespace convoy::kernels::cuda
