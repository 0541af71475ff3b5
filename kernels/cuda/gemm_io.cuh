// Global-memory loads and stores shared by the block-tiled SGEMM kernels (gemm_regtile.cu,
// gemm_warptile.cu): a bounds-checked float4 load of operand elements, the alpha/beta
// epilogue of a float4 group of C, and the dispatch from the transpose flags to the
// kernel instantiation whose panel loads run along the contiguous dimension.
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/cuda_util.cuh"
#include "kernels/gemm.h"

namespace convoy::kernels::cuda {

// Four consecutive elements X[r][c .. c+3] of a row-major R x Cn matrix, zero outside it;
// one 16-byte load when the row is aligned (vec_ok) and the four are inside.
__device__ __forceinline__ float4 gemm_load4(const float* X, int ld, int r, int c, int R, int Cn, bool vec_ok) {
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

// Stores a fetched float4 into a k-major shared panel (rows of LD floats) at (k, t).
// K_CONTIG: its four elements are four k's of one m (n), so they go down a panel column;
// otherwise they are four consecutive m's (n's) of one k and go in as one 16-byte store.
template <bool K_CONTIG, int LD>
__device__ __forceinline__ void gemm_store_panel4(float (*panel)[LD], int k, int t, float4 v) {
  if (K_CONTIG) {
    panel[k + 0][t] = v.x;
    panel[k + 1][t] = v.y;
    panel[k + 2][t] = v.z;
    panel[k + 3][t] = v.w;
  } else {
    *reinterpret_cast<float4*>(&panel[k][t]) = v;
  }
}

// c_row[n .. n+3] = r (already scaled by alpha) + beta * c_row[...]; C is not read when
// beta == 0; columns at or past N are left alone.
__device__ __forceinline__ void gemm_store4(float* c_row, int n, int N, float (&r)[4], float beta, bool vec_c) {
  if (vec_c && n + 3 < N) {
    float4* p = reinterpret_cast<float4*>(c_row + n);
    if (beta != 0.0f) {
      const float4 old = *p;
      r[0] += beta * old.x; r[1] += beta * old.y; r[2] += beta * old.z; r[3] += beta * old.w;
    }
    *p = make_float4(r[0], r[1], r[2], r[3]);
    return;
  }
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    if (n + j >= N) break;
    c_row[n + j] = beta != 0.0f ? r[j] + beta * c_row[n + j] : r[j];
  }
}

inline bool gemm_aligned16(const void* p, int ld) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 && ld % 4 == 0;
}

// Calls launch(std::bool_constant<A_K_CONTIG>, std::bool_constant<B_K_CONTIG>): k runs along
// A's rows when A is not transposed and along B's rows when B is.
template <class Launch>
void gemm_dispatch_transposes(const GemmArgs& a, Launch&& launch) {
  const bool a_k_contig = a.trans_a == Trans::no;
  const bool b_k_contig = a.trans_b == Trans::yes;
  if (a_k_contig && b_k_contig) launch(std::true_type{}, std::true_type{});
  else if (a_k_contig) launch(std::true_type{}, std::false_type{});
  else if (b_k_contig) launch(std::false_type{}, std::true_type{});
  else launch(std::false_type{}, std::false_type{});
}

// Launches a block-tiled kernel with the (M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, vec_a,
// vec_b, vec_c) signature over a grid of bm x bn tiles of C.
template <class Kernel>
void gemm_launch_tiled(const char* name, Kernel kernel, int bm, int bn, int threads, const Exec& exec,
                       const GemmArgs& a) {
  dim3 grid(static_cast<unsigned>(ceil_div(a.N, bn)), static_cast<unsigned>(ceil_div(a.M, bm)));
  launch_checked(name, kernel, grid, dim3(threads), 0, stream_of(exec), a.M, a.N, a.K, a.alpha, a.A, a.lda, a.B,
                 a.ldb, a.beta, a.C, a.ldc, gemm_aligned16(a.A, a.lda), gemm_aligned16(a.B, a.ldb),
                 gemm_aligned16(a.C, a.ldc));
}

}  // namespace convoy::kernels::cuda
