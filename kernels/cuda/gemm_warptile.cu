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
#include <cstdint>

#include "kernels/cuda/cuda_util.cuh"
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

__device__ __forceinline__ float4 load4(const float* X, int ld, int r, int c, int R, int Cn, bool vec_ok) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (r >= R) return v;
  const float* p = X + static_cast<long long>(r) * ld + c;
  if (vec_ok && c + 3 < Cn) return __ldg(reinterpret_cast<const float4*>(p));
  if (c + 0 < Cn) v.x = __ldg(p + 0);
  if (c + 1 < Cn) v.y = __ldg(p + 1);
  if (c + 2 < Cn) v.z = __ldg(p + 2);
  if (c + 3 < Cn) v.w = __ldg(p + 3);
  return v;
}

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
      v[r] = K_CONTIG ? load4(X, ld, t0 + tile_idx(f), k0 + k_idx(f), extent, K, vec_ok)
                      : load4(X, ld, k0 + k_idx(f), t0 + tile_idx(f), K, extent, vec_ok);
    }
  }
  __device__ __forceinline__ void store(Panel& panel, const float4 (&v)[kLoads]) const {
#pragma unroll
    for (int r = 0; r < kLoads; ++r) {
      const int f = tid + r * kThreads, t = tile_idx(f), k = k_idx(f);
      if (K_CONTIG) {
        panel[k + 0][t] = v[r].x;
        panel[k + 1][t] = v[r].y;
        panel[k + 2][t] = v[r].z;
        panel[k + 3][t] = v[r].w;
      } else {
        *reinterpret_cast<float4*>(&panel[k][t]) = v[r];
      }
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
      if (vec_c && n + 3 < N) {
        float4* p = reinterpret_cast<float4*>(c_row + n);
        if (beta != 0.0f) {
          const float4 old = *p;
          r[0] += beta * old.x; r[1] += beta * old.y; r[2] += beta * old.z; r[3] += beta * old.w;
        }
        *p = make_float4(r[0], r[1], r[2], r[3]);
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          if (n + j >= N) break;
          c_row[n + j] = beta != 0.0f ? r[j] + beta * c_row[n + j] : r[j];
        }
      }
    }
  }
}

bool aligned16(const void* p, int ld) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 && ld % 4 == 0; }

template <bool AK, bool BK>
void launch(const Exec& exec, const GemmArgs& a) {
  dim3 grid(static_cast<unsigned>(ceil_div(a.N, kBN)), static_cast<unsigned>(ceil_div(a.M, kBM)));
  launch_checked("sgemm_warptile_128x128x16", sgemm_warptile_kernel<AK, BK>, grid, dim3(kThreads), 0, stream_of(exec),
                 a.M, a.N, a.K, a.alpha, a.A, a.lda, a.B, a.ldb, a.beta, a.C, a.ldc, aligned16(a.A, a.lda),
                 aligned16(a.B, a.ldb), aligned16(a.C, a.ldc));
}

}  // namespace

void sgemm_warptile(const Exec& exec, const GemmArgs& a) {
  if (a.M <= 0 || a.N <= 0) return;
  DeviceGuard guard(exec.device);
  const bool a_k_contig = a.trans_a == Trans::no;
  const bool b_k_contig = a.trans_b == Trans::yes;
  if (a_k_contig && b_k_contig) launch<true, true>(exec, a);
  else if (a_k_contig) launch<true, false>(exec, a);
  else if (b_k_contig) launch<false, true>(exec, a);
  else launch<false, false>(exec, a);
}

}  // namespace convoy::kernels::cuda
