// The two teaching variants of the CUDA SGEMM (row-major, kernels/gemm.h contract):
//   naive      one thread per C element, operands read straight from global memory.
//   smem_tiled 16x16 output tile per block; A and B pass through 16x16 shared tiles, so each
//              global element is read 16 times less often. Bound by shared-memory bandwidth
//              (two shared loads per FMA).
#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/gemm_variants.h"

namespace convoy::kernels::cuda {
namespace {

__device__ __forceinline__ float element(const float* X, int ld, bool trans, int r, int c) {
  return trans ? X[static_cast<long long>(c) * ld + r] : X[static_cast<long long>(r) * ld + c];
}

__global__ void sgemm_naive_kernel(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                                   const float* B, int ldb, float beta, float* C, int ldc) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  const int m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc = fmaf(element(A, lda, ta, m, k), element(B, ldb, tb, k, n), acc);
  float* c = C + static_cast<long long>(m) * ldc + n;
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

constexpr int kTile = 16;

__global__ void sgemm_smem_kernel(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                                  const float* B, int ldb, float beta, float* C, int ldc) {
  __shared__ float As[kTile][kTile + 1];  // As[m][k]; +1 avoids bank conflicts on transposed reads
  __shared__ float Bs[kTile][kTile + 1];  // Bs[k][n]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m = blockIdx.y * kTile + ty;
  const int n = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    // Thread (ty, tx) loads A(m, k0+tx) and B(k0+ty, n); zeros outside the matrices.
    const int ka = k0 + tx, kb = k0 + ty;
    As[ty][tx] = (m < M && ka < K) ? element(A, lda, ta, m, ka) : 0.0f;
    Bs[ty][tx] = (kb < K && n < N) ? element(B, ldb, tb, kb, n) : 0.0f;
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTile; ++k) acc = fmaf(As[ty][k], Bs[k][tx], acc);
    __syncthreads();
  }
  if (m >= M || n >= N) return;
  float* c = C + static_cast<long long>(m) * ldc + n;
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

}  // namespace

void sgemm_naive(const Exec& exec, const GemmArgs& a) {
  if (a.M <= 0 || a.N <= 0) return;
  DeviceGuard guard(exec.device);
  dim3 block(16, 16);
  dim3 grid(static_cast<unsigned>(ceil_div(a.N, 16)), static_cast<unsigned>(ceil_div(a.M, 16)));
  launch_checked("sgemm_naive", sgemm_naive_kernel, grid, block, 0, stream_of(exec), a.trans_a == Trans::yes,
                 a.trans_b == Trans::yes, a.M, a.N, a.K, a.alpha, a.A, a.lda, a.B, a.ldb, a.beta, a.C, a.ldc);
}

void sgemm_smem_tiled(const Exec& exec, const GemmArgs& a) {
  if (a.M <= 0 || a.N <= 0) return;
  DeviceGuard guard(exec.device);
  dim3 block(kTile, kTile);
  dim3 grid(static_cast<unsigned>(ceil_div(a.N, kTile)), static_cast<unsigned>(ceil_div(a.M, kTile)));
  launch_checked("sgemm_smem_tiled", sgemm_smem_kernel, grid, block, 0, stream_of(exec), a.trans_a == Trans::yes,
                 a.trans_b == Trans::yes, a.M, a.N, a.K, a.alpha, a.A, a.lda, a.B, a.ldb, a.beta, a.C, a.ldc);
}

}  // namespace convoy::kernels::cuda
