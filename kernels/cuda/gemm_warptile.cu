// SGEMM, warp-tiled (row-major, kernels/gemm.h contract): the candidate to replace
// regtile_128x128 as the default once the GPU benchmark says it is faster.
//
// Tiling: a 256-thread block computes a 128x128 tile of C and steps K by BK = 16 (half the
// __syncthreads of regtile's BK = 8, and twice the loads in flight per fetch). The 8 warps
// sit 2 (m) x 4 (n), each owning a 64x32 warp tile; inside it the 32 lanes sit 8 (m) x 4 (n)
// and each lane owns 2x2 float4 groups (an 8x8 register micro-tile) spaced 32 rows and
// 16 columns apart. Why: per k step a warp then reads 8 distinct float4 of the A panel
// (128 contiguous bytes, one shared-memory wavefront) and 4 of the B panel (64 bytes),
// where regtile's 16x16 thread grid reads 16 distinct float4 of B (two wavefronts); the
// FMA:LDS.128 ratio stays 64:4.
// Loads: each thread fetches two float4 of A and two of B per k tile from global memory
// into registers while the current tile is multiplied, then stores them into the other
// half of the double-buffered shared panels (k-major, rows padded by 4 floats); one
// __syncthreads per k tile. Edges and unaligned operands take bounds-checked scalar loads.
#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/gemm_io.cuh"
#include "kernels/cuda/gemm_variants.h"

namespace convoy::kernels::cuda {
namespace {

constexpr int kBM = 128, kBN = 128, kBK = 16;
constexpr int kThreads = 256;
constexpr int kWarpsN = 4;                  // warps along n (2 along m)
constexpr int kWM = 64, kWN = 32;           // warp tile
constexpr int kLanesN = 4;                  // lanes along n (8 along m)
constexpr int kSubM = 32, kSubN = 16;       // distance between a lane's float4 groups
constexpr int kPad = 4;
constexpr int kLoads = kBM * kBK / 4 / kThreads;  // float4 per thread per panel: 2
static_assert(kLoads == 2 && kBN == kBM, "two float4 per thread per panel, square block tile");
static_assert((kBM / kWM) * kWarpsN * 32 == kThreads && kWN * kWarpsN == kBN, "8 warps cover the tile");

using Panel = float[kBK][kBM + kPad];

// The thread's float4s of a 128 x 16 panel. K_CONTIG: the operand's rows run along k (A not
// transposed, B transposed): 4 float4 per row of the operand, stored down a panel column.
template <bool K_CONTIG>
struct Loader {
  int tid;  // the float4s are tid and tid + 256; their places are recomputed (saves registers)
  __device__ explicit Loader(int t) : tid(t) {}
  __device__ __forceinline__ static int tile_idx(int f) { return K_CONTIG ? f / (kBK / 4) : (f % (kBM / 4)) * 4; }
  __device__ __forceinline__ static int k_idx(int f) { return K_CONTIG ? (f % (kBK / 4)) * 4 : f / (kBM / 4); }
  __device__ __forceinline__ void fetch(float4 (&v)[kLoads], const float* X, int ld, int t0, int k0, int extent,
                                        int K, bool vec_ok) const {
#pragma unroll
    for (int r = 0; r < kLoads; ++r) {
      const int f = tid + r * kThreads;
      v[r] = K_CONTIG ? gemm_load4(X, ld, t0 + tile_idx(f), k0 + k_idx(f), extent, K, vec_ok)
                      : gemm_load4(X, ld, k0 + k_idx(f), t0 + tile_idx(f), K, extent, vec_ok);
    }
  }
  __device__ __forceinline__ void store(Panel& panel, const float4 (&v)[kLoads]) const {
#pragma unroll
    for (int r = 0; r < kLoads; ++r) {
      const int f = tid + r * kThreads;
      gemm_store_panel4<K_CONTIG>(panel, k_idx(f), tile_idx(f), v[r]);
    }
  }
};

template <bool A_K_CONTIG, bool B_K_CONTIG>
__global__ void __launch_bounds__(kThreads, 2)
sgemm_warptile_kernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda,
                      const float* __restrict__ B, int ldb, float beta, float* __restrict__ C, int ldc,
                      bool vec_a, bool vec_b, bool vec_c) {
  __shared__ __align__(16) Panel As[2];
  __shared__ __align__(16) Panel Bs[2];
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  // First row / column (within the block tile) of the lane's first float4 group.
  const int row0 = (warp / kWarpsN) * kWM + (lane / kLanesN) * 4;
  const int col0 = (warp % kWarpsN) * kWN + (lane % kLanesN) * 4;
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;

  const Loader<A_K_CONTIG> a_loader(tid);
  const Loader<B_K_CONTIG> b_loader(tid);
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

  const int k_tiles = (K + kBK - 1) / kBK;
  float4 a_next[kLoads], b_next[kLoads];
  if (k_tiles > 0) {
    a_loader.fetch(a_next, A, lda, m0, 0, M, K, vec_a);
    b_loader.fetch(b_next, B, ldb, n0, 0, N, K, vec_b);
    a_loader.store(As[0], a_next);
    b_loader.store(Bs[0], b_next);
    __syncthreads();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool has_next = kt + 1 < k_tiles;
    if (has_next) {
      a_loader.fetch(a_next, A, lda, m0, (kt + 1) * kBK, M, K, vec_a);
      b_loader.fetch(b_next, B, ldb, n0, (kt + 1) * kBK, N, K, vec_b);
    }
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      float a[8], b[8];
#pragma unroll
      for (int g = 0; g < 2; ++g) {
        const float4 va = *reinterpret_cast<const float4*>(&As[cur][k][row0 + g * kSubM]);
        const float4 vb = *reinterpret_cast<const float4*>(&Bs[cur][k][col0 + g * kSubN]);
        a[4 * g + 0] = va.x; a[4 * g + 1] = va.y; a[4 * g + 2] = va.z; a[4 * g + 3] = va.w;
        b[4 * g + 0] = vb.x; b[4 * g + 1] = vb.y; b[4 * g + 2] = vb.z; b[4 * g + 3] = vb.w;
      }
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    if (has_next) {
      a_loader.store(As[cur ^ 1], a_next);
      b_loader.store(Bs[cur ^ 1], b_next);
    }
    __syncthreads();
  }

  // Epilogue: C = alpha * acc + beta * C (C not read when beta == 0), float4 where aligned.
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int m = m0 + row0 + (i / 4) * kSubM + (i % 4);
    if (m >= M) continue;
    float* c_row = C + static_cast<long long>(m) * ldc;
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      const int n = n0 + col0 + g * kSubN;
      float r[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) r[j] = alpha * acc[i][4 * g + j];
      gemm_store4(c_row, n, N, r, beta, vec_c);
    }
  }
}

}  // namespace

void sgemm_warptile(const Exec& exec, const GemmArgs& a) {
  if (a.M <= 0 || a.N <= 0) return;
  DeviceGuard guard(exec.device);
  gemm_dispatch_transposes(a, [&](auto ak, auto bk) {
    gemm_launch_tiled("sgemm_warptile_128x128x16", sgemm_warptile_kernel<decltype(ak)::value, decltype(bk)::value>,
                      kBM, kBN, kThreads, exec, a);
  });
}

}  // namespace convoy::kernels::cuda
