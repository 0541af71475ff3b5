// The register micro-tile shared by the block-tiled kernels (SGEMM and the implicit-GEMM
// convolutions). A block computes a BM x BN tile of C from shared-memory panels
// As[k][m] and Bs[k][n] (both k-major, so one k step is two row reads). Each thread owns
// TM x TN outputs split into float4 groups spaced 4*BM/TM rows (4*BN/TN columns) apart:
// a warp's float4 reads of a Bs row then touch consecutive 16-byte words (no bank
// conflicts) and its As reads are broadcasts, and each k step costs TM/4 + TN/4 shared
// loads for TM*TN FMAs.
#pragma once
#include <cuda_runtime.h>

namespace convoy::kernels::cuda {

template <int BM, int BN, int TM, int TN>
struct MicroTile {
  static_assert(TM % 4 == 0 && TN % 4 == 0, "micro-tile sides are float4 groups");
  static constexpr int kThreadsM = BM / TM;
  static constexpr int kThreadsN = BN / TN;
  static constexpr int kThreads = kThreadsM * kThreadsN;
  static constexpr int kRowGroupStride = 4 * kThreadsM;
  static constexpr int kColGroupStride = 4 * kThreadsN;

  float acc[TM][TN];

  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;
  }

  // Row (within the block tile) of the thread's i-th output row; column likewise.
  __device__ __forceinline__ static int row(int ty, int i) { return (i / 4) * kRowGroupStride + ty * 4 + (i % 4); }
  __device__ __forceinline__ static int col(int tx, int j) { return (j / 4) * kColGroupStride + tx * 4 + (j % 4); }

  // One k step: a_row = &As[k][0], b_row = &Bs[k][0] (16-byte aligned rows).
  __device__ __forceinline__ void step(const float* a_row, const float* b_row, int ty, int tx) {
    float a[TM], b[TN];
#pragma unroll
    for (int g = 0; g < TM / 4; ++g) {
      float4 v = *reinterpret_cast<const float4*>(a_row + g * kRowGroupStride + ty * 4);
      a[g * 4 + 0] = v.x; a[g * 4 + 1] = v.y; a[g * 4 + 2] = v.z; a[g * 4 + 3] = v.w;
    }
#pragma unroll
    for (int g = 0; g < TN / 4; ++g) {
      float4 v = *reinterpret_cast<const float4*>(b_row + g * kColGroupStride + tx * 4);
      b[g * 4 + 0] = v.x; b[g * 4 + 1] = v.y; b[g * 4 + 2] = v.z; b[g * 4 + 3] = v.w;
    }
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
  }
};

}  // namespace convoy::kernels::cuda
