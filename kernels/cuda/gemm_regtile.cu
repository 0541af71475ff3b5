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
#include <cstdint>

#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/gemm_tile.cuh"
#include "kernels/cuda/gemm_variants.h"

namespace convoy::kernels::cuda {
namespace {

constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
constexpr int kPad = 4;
using Tile = MicroTile<kBM, kBN, kTM, kTN>;
constexpr int kThreads = Tile::kThreads;  // 256
static_assert(kBM * kBK == 4 * kThreads && kBN * kBK == 4 * kThreads, "one float4 per thread per panel");

// Four consecutive elements X[r][c .. c+3] of a row-major R x Cn matrix, zero outside it.
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
    return K_CONTIG ? load4(X, ld, t0 + tile_idx, k0 + k_idx, extent, K, vec_ok)
                    : load4(X, ld, k0 + k_idx, t0 + tile_idx, K, extent, vec_ok);
  }
  __device__ __forceinline__ void store(float (*panel)[kBM + kPad], float4 v) const {
    if (K_CONTIG) {
      panel[k_idx + 0][tile_idx] = v.x;
      panel[k_idx + 1][tile_idx] = v.y;
      panel[k_idx + 2][tile_idx] = v.z;
      panel[k_idx + 3][tile_idx] = v.w;
    } else {
      *reinterpret_cast<float4*>(&panel[k_idx][tile_idx]) = v;
    }
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
      if (vec_c && n + 3 < N) {
        float4* p = reinterpret_cast<float4*>(c_row + n);
        if (beta != 0.0f) {
          float4 old = *p;
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

bool aligned16(const void* p, int ld) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 && ld % 4 == 0;
}

template <bool AK, bool BK>
void launch(const Exec& exec, const GemmArgs& a) {
  dim3 grid(static_cast<unsigned>(ceil_div(a.N, kBN)), static_cast<unsigned>(ceil_div(a.M, kBM)));
  launch_checked("sgemm_regtile_128x128x8", sgemm_regtile_kernel<AK, BK>, grid, dim3(kThreads), 0, stream_of(exec),
                 a.M, a.N, a.K, a.alpha, a.A, a.lda, a.B, a.ldb, a.beta, a.C, a.ldc, aligned16(a.A, a.lda),
                 aligned16(a.B, a.ldb), aligned16(a.C, a.ldc));
}

}  // namespace

void sgemm_regtile(const Exec& exec, const GemmArgs& a) {
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
