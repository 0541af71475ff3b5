// The fast CUDA SGEMM (row-major, kernels/gemm.h contract).
//
// Tiling: a 256-thread block computes a 128x128 tile of C, stepping K by BK = 8. Each thread
// owns an 8x8 register micro-tile (gemm_tile.cuh), so one k step is 4 shared float4 loads
// for 64 FMAs: the kernel is bound by FMA issue rather than shared-memory bandwidth.
// 128x128 is the largest tile whose 64 accumulators plus operands stay within 128 registers
// (two blocks per SM), and BK = 8 makes each panel exactly one float4 per thread.
// Loads: each thread fetches one float4 of A and one of B per k step from global memory,
// along whichever dimension is contiguous (k for a non-transposed A or a transposed B, m or
// n otherwise); rows that run off the matrix or are not 16-byte aligned use scalar loads
// with bounds checks. Panels are stored k-major (transposed on the way when k is the
// contiguous dimension) into double-buffered shared memory: the next panel is fetched into
// registers while the current one is multiplied, so one __syncthreads per k step suffices.
// Rows are padded by 4 floats so the transposed stores do not collide in a bank.
#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/gemm_tile.cuh"
#include "kernels/cuda/gemm_io.cuh"
#include "kernels/cuda/gemm_variants.h"

namespace convoy::kernels::cuda {
namespace {

constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
constexpr int kPad = 4;
using Tile = MicroTile<kBM, kBN, kTM, kTN>;
constexpr int kThreads = Tile::kThreads;  // 256
static_assert(kBM * kBK == 4 * kThreads && kBN * kBK == 4 * kThreads, "one float4 per thread per panel");

// Where this thread's float4 of a 128 x 8 panel lies, and how it goes into shared memory.
// K_CONTIG: the operand's rows run along k (A not transposed, B transposed): the thread
// reads 4 k's of one m (n) and stores them down a column of the k-major panel.
template <bool K_CONTIG>
struct PanelLoader {
  int tile_idx, k_idx;  // position of the float4's first element in the panel (m or n, k)
  __device__ explicit PanelLoader(int tid) {
    if (K_CONTIG) { tile_idx = tid / 2; k_idx = (tid % 2) * 4; }
    else          { tile_idx = (tid % 32) * 4; k_idx = tid / 32; }
  }
  // X: the operand; `extent` its size along m (or n); k0 / t0 the panel's origin.
  __device__ __forceinline__ float4 fetch(const float* X, int ld, int t0, int k0, int extent, int K, bool vec_ok) const {
    return K_CONTIG ? gemm_load4(X, ld, t0 + tile_idx, k0 + k_idx, extent, K, vec_ok)
                    : gemm_load4(X, ld, k0 + k_idx, t0 + tile_idx, K, extent, vec_ok);
  }
  __device__ __forceinline__ void store(float (*panel)[kBM + kPad], float4 v) const {
    gemm_store_panel4<K_CONTIG>(panel, k_idx, tile_idx, v);
  }
};

template <bool A_K_CONTIG, bool B_K_CONTIG>
__global__ void __launch_bounds__(kThreads, 2)
sgemm_regtile_kernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda,
                     const float* __restrict__ B, int ldb, float beta, float* __restrict__ C, int ldc,
                     bool vec_a, bool vec_b, bool vec_c) {
  __shared__ __align__(16) float As[2][kBK][kBM + kPad];
  __shared__ __align__(16) float Bs[2][kBK][kBN + kPad];
  const int tid = threadIdx.x;
  const int tx = tid % Tile::kThreadsN, ty = tid / Tile::kThreadsN;
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;

  const PanelLoader<A_K_CONTIG> a_loader(tid);
  const PanelLoader<B_K_CONTIG> b_loader(tid);
  Tile tile;
  tile.zero();

  const int k_tiles = (K + kBK - 1) / kBK;
  if (k_tiles > 0) {
    a_loader.store(As[0], a_loader.fetch(A, lda, m0, 0, M, K, vec_a));
    b_loader.store(Bs[0], b_loader.fetch(B, ldb, n0, 0, N, K, vec_b));
    __syncthreads();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool has_next = kt + 1 < k_tiles;
    float4 a_next, b_next;
    if (has_next) {
      a_next = a_loader.fetch(A, lda, m0, (kt + 1) * kBK, M, K, vec_a);
      b_next = b_loader.fetch(B, ldb, n0, (kt + 1) * kBK, N, K, vec_b);
    }
#pragma unroll
    for (int k = 0; k < kBK; ++k) tile.step(As[cur][k], Bs[cur][k], ty, tx);
    if (has_next) {
      a_loader.store(As[cur ^ 1], a_next);
      b_loader.store(Bs[cur ^ 1], b_next);
    }
    __syncthreads();
  }

  // Epilogue: C = alpha * acc + beta * C, C untouched when beta == 0; float4 where possible.
#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int m = m0 + Tile::row(ty, i);
    if (m >= M) continue;
    float* c_row = C + static_cast<long long>(m) * ldc;
#pragma unroll
    for (int g = 0; g < kTN / 4; ++g) {
      const int n = n0 + Tile::col(tx, g * 4);
      float r[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) r[j] = alpha * tile.acc[i][g * 4 + j];
      gemm_store4(c_row, n, N, r, beta, vec_c);
    }
  }
}

}  // namespace

void sgemm_regtile(const Exec& exec, const GemmArgs& a) {
  if (a.M <= 0 || a.N <= 0) return;
  DeviceGuard guard(exec.device);
  gemm_dispatch_transposes(a, [&](auto ak, auto bk) {
    gemm_launch_tiled("sgemm_regtile_128x128x8", sgemm_regtile_kernel<decltype(ak)::value, decltype(bk)::value>, kBM,
                      kBN, kThreads, exec, a);
  });
}

}  // namespace convoy::kernels::cuda
