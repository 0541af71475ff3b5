// Convolution as implicit GEMM: the GEMM operands are gathered from the tensors while the
// shared-memory panels are filled, so no im2col buffer exists in device memory.
//   forward           C[K, N*P*Q]  = w[K, C*R*S]    x  gather(x)[C*R*S, N*P*Q]   (+ bias)
//   backward_data     C[C, N*H*W]  = w^T[C, K*R*S]  x  gather(dy)[K*R*S, N*H*W]  (gather form:
//                     dx(h) sums over (k, r, s) with (h + pad - r) divisible by the stride;
//                     no atomics, deterministic)
//   backward_weights  C[K, C*R*S]  = dy[K, N*P*Q]   x  gather(x)[N*P*Q, C*R*S]
//                     split-K over N*P*Q into a workspace, then a fixed-order reduction
//                     that adds into dw (deterministic; no atomics)
// Tiling (same as the fast SGEMM, gemm_tile.cuh): 128x128 block tiles with 8x8 register
// micro-tiles when the GEMM has at least 128 rows, else 64x64 tiles with 4x4 micro-tiles
// (the quick model's 32-channel layers would waste 3/4 of a 128-row tile); BK = 8;
// double-buffered shared panels with the next panel gathered into registers while the
// current one is multiplied. Gathers are scalar (windows are not 16-byte aligned); a
// thread's B column is fixed across k steps, so its (n, p, q) decode is done once. The
// per-element decodes divide by shape values: with FastDiv (the _fastdiv variant) each is a
// multiply-high and shift instead of an integer division. The _kgather backward weights read
// the x gather along the reduction (see implicit_gemm_kernel's B panel).
#include <algorithm>

#include "kernels/cuda/conv2d_variants.h"
#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/gemm_tile.cuh"
#include "kernels/fast_div.h"

namespace convoy::kernels::cuda {
namespace {

using ll = long long;
using kernels::FastDiv;
using kernels::PlainDiv;

// Each problem decodes GEMM indices into tensor positions with divisions by shape values;
// Div is kernels::PlainDiv ('/' and '%') or kernels::FastDiv (multiply-high and shift, built on
// the host at launch), the only difference between the implicit_gemm and implicit_gemm_fastdiv
// variants.
template <class Div>
struct ForwardProblem {
  static constexpr bool kGatherBAlongK = false;
  Conv2dShape s;
  const float* x; const float* w; const float* bias; float* y;
  int P, Q, PQ, RS, CRS;
  Div by_PQ, by_Q, by_RS, by_S;
  ForwardProblem(const Conv2dShape& shape, const float* x_, const float* w_, const float* bias_, float* y_)
      : s(shape), x(x_), w(w_), bias(bias_), y(y_), P(shape.P()), Q(shape.Q()), PQ(P * Q), RS(shape.R * shape.S),
        CRS(shape.C * RS), by_PQ(PQ), by_Q(Q), by_RS(RS), by_S(shape.S) {}
  struct Column { const float* xn; int h0, w0; };
  __device__ Column column(int col) const {
    const int n = by_PQ.div(col), pq = col - n * PQ, p = by_Q.div(pq), q = pq - p * Q;
    return {x + static_cast<ll>(n) * s.C * s.H * s.W, p * s.stride_h - s.pad_h, q * s.stride_w - s.pad_w};
  }
  __device__ float a(int m, int kk) const { return __ldg(w + static_cast<ll>(m) * CRS + kk); }
  __device__ float b(int kk, const Column& c) const {
    const int ch = by_RS.div(kk), rs = kk - ch * RS, r = by_S.div(rs), t = rs - r * s.S;
    const int h = c.h0 + r, ww = c.w0 + t;
    if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) return 0.0f;
    return __ldg(c.xn + (static_cast<ll>(ch) * s.H + h) * s.W + ww);
  }
  __device__ void store(int /*split*/, int m, int col, float v) const {
    const int n = by_PQ.div(col), pq = col - n * PQ;
    y[(static_cast<ll>(n) * s.K + m) * PQ + pq] = v + (bias ? bias[m] : 0.0f);
  }
};

template <class Div>
struct BackwardDataProblem {
  static constexpr bool kGatherBAlongK = false;
  Conv2dShape s;
  const float* dy; const float* w; float* dx;
  int P, Q, HW, RS;
  Div by_HW, by_W, by_RS, by_S, by_stride_h, by_stride_w;
  BackwardDataProblem(const Conv2dShape& shape, const float* dy_, const float* w_, float* dx_)
      : s(shape), dy(dy_), w(w_), dx(dx_), P(shape.P()), Q(shape.Q()), HW(shape.H * shape.W),
        RS(shape.R * shape.S), by_HW(HW), by_W(shape.W), by_RS(RS), by_S(shape.S), by_stride_h(shape.stride_h),
        by_stride_w(shape.stride_w) {}
  struct Column { const float* dyn; int hp, wp; };
  __device__ Column column(int col) const {
    const int n = by_HW.div(col), hw = col - n * HW, h = by_W.div(hw), ww = hw - h * s.W;
    return {dy + static_cast<ll>(n) * s.K * P * Q, h + s.pad_h, ww + s.pad_w};
  }
  __device__ float a(int m, int kk) const {
    const int k = by_RS.div(kk), rs = kk - k * RS;
    return __ldg(w + (static_cast<ll>(k) * s.C + m) * RS + rs);
  }
  __device__ float b(int kk, const Column& c) const {
    const int k = by_RS.div(kk), rs = kk - k * RS, r = by_S.div(rs), t = rs - r * s.S;
    const int ph = c.hp - r, qw = c.wp - t;
    if (ph < 0 || qw < 0) return 0.0f;
    const int p = by_stride_h.div(ph), q = by_stride_w.div(qw);
    if (p * s.stride_h != ph || q * s.stride_w != qw || p >= P || q >= Q) return 0.0f;
    return __ldg(c.dyn + (static_cast<ll>(k) * P + p) * Q + q);
  }
  __device__ void store(int, int m, int col, float v) const {
    const int n = by_HW.div(col), hw = col - n * HW;
    dx[(static_cast<ll>(n) * s.C + m) * HW + hw] = v;
  }
};

// AlongK: the B panel (the x gather) is read along the reduction, see implicit_gemm_kernel.
template <class Div, bool AlongK = false>
struct BackwardWeightsProblem {
  static constexpr bool kGatherBAlongK = AlongK;
  Conv2dShape s;
  const float* x; const float* dy; float* partial;  // partial: (splits, K, C*R*S)
  int P, Q, PQ, RS, CRS;
  Div by_PQ, by_Q, by_RS, by_S;
  BackwardWeightsProblem(const Conv2dShape& shape, const float* x_, const float* dy_, float* partial_)
      : s(shape), x(x_), dy(dy_), partial(partial_), P(shape.P()), Q(shape.Q()), PQ(P * Q), RS(shape.R * shape.S),
        CRS(shape.C * RS), by_PQ(PQ), by_Q(Q), by_RS(RS), by_S(shape.S) {}
  struct Column { ll c_off; int r, t; };
  __device__ Column column(int col) const {
    const int c = by_RS.div(col), rs = col - c * RS, r = by_S.div(rs);
    return {static_cast<ll>(c) * s.H * s.W, r, rs - r * s.S};
  }
  __device__ float a(int m, int kk) const {
    const int n = by_PQ.div(kk), pq = kk - n * PQ;
    return __ldg(dy + (static_cast<ll>(n) * s.K + m) * PQ + pq);
  }
  __device__ float b(int kk, const Column& c) const {
    const int n = by_PQ.div(kk), pq = kk - n * PQ, p = by_Q.div(pq), q = pq - p * Q;
    const int h = p * s.stride_h - s.pad_h + c.r, ww = q * s.stride_w - s.pad_w + c.t;
    if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) return 0.0f;
    return __ldg(x + static_cast<ll>(n) * s.C * s.H * s.W + c.c_off + static_cast<ll>(h) * s.W + ww);
  }
  __device__ void store(int split, int m, int col, float v) const {
    partial[(static_cast<ll>(split) * s.K + m) * CRS + col] = v;
  }
};

// C[M, Ncols] over the reduction range [z * k_per_split, min(Kdim, (z + 1) * k_per_split)).
template <int BM, int BN, int TM, int TN, class Problem>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
implicit_gemm_kernel(Problem prob, int M, int Ncols, int Kdim, int k_per_split) {
  constexpr int BK = 8, PAD = 4;
  using Tile = MicroTile<BM, BN, TM, TN>;
  constexpr int T = Tile::kThreads;
  constexpr int EA = BM * BK / T, EB = BN * BK / T;
  static_assert(EA * T == BM * BK && EB * T == BN * BK, "panels split evenly over the threads");
  __shared__ __align__(16) float As[2][BK][BM + PAD];
  __shared__ __align__(16) float Bs[2][BK][BN + PAD];

  const int tid = threadIdx.x;
  const int tx = tid % Tile::kThreadsN, ty = tid / Tile::kThreadsN;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int kk_begin = blockIdx.z * k_per_split;
  const int kk_end = min(Kdim, kk_begin + k_per_split);

  // A panel: element i = tid + e*T sits at (k = i % BK, m = i / BK): a warp reads along k.
  // B panel: element i sits at (k = i / BN, n = i % BN): a warp reads along n, contiguous in
  // the tensor when n runs over output positions (forward, backward data). When n runs over
  // (c, r, s) instead (backward weights), neighbouring columns are different rows and channels
  // of x, and k = (n, p, q) is the contiguous direction: Problem::kGatherBAlongK then places
  // element i at (k = i % BK, n = i / BK), as for A, so a warp reads 8 consecutive q for each
  // of 4 columns. Stored at Bs[k][n] with BN + 4 floats per row, the 8 k rows fall on banks
  // 4 apart: conflict-free, as the A panel is.
  constexpr bool along_k = Problem::kGatherBAlongK;
  auto b_k = [](int i) { return along_k ? i % BK : i / BN; };
  auto b_n = [](int i) { return along_k ? i / BK : i % BN; };
  typename Problem::Column cols[EB];
  bool col_ok[EB];
#pragma unroll
  for (int e = 0; e < EB; ++e) {
    const int n = n0 + b_n(tid + e * T);
    col_ok[e] = n < Ncols;
    cols[e] = prob.column(col_ok[e] ? n : 0);
  }
  float ra[EA], rb[EB];
  auto fetch = [&](int k0) {
#pragma unroll
    for (int e = 0; e < EA; ++e) {
      const int i = tid + e * T, kk = k0 + i % BK, m = m0 + i / BK;
      ra[e] = (m < M && kk < kk_end) ? prob.a(m, kk) : 0.0f;
    }
#pragma unroll
    for (int e = 0; e < EB; ++e) {
      const int kk = k0 + b_k(tid + e * T);
      rb[e] = (col_ok[e] && kk < kk_end) ? prob.b(kk, cols[e]) : 0.0f;
    }
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int e = 0; e < EA; ++e) {
      const int i = tid + e * T;
      As[buf][i % BK][i / BK] = ra[e];
    }
#pragma unroll
    for (int e = 0; e < EB; ++e) {
      const int i = tid + e * T;
      Bs[buf][b_k(i)][b_n(i)] = rb[e];
    }
  };

  Tile tile;
  tile.zero();
  const int k_tiles = kk_end > kk_begin ? (kk_end - kk_begin + BK - 1) / BK : 0;
  if (k_tiles > 0) {
    fetch(kk_begin);
    store(0);
    __syncthreads();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool has_next = kt + 1 < k_tiles;
    if (has_next) fetch(kk_begin + (kt + 1) * BK);
#pragma unroll
    for (int k = 0; k < BK; ++k) tile.step(As[cur][k], Bs[cur][k], ty, tx);
    if (has_next) store(cur ^ 1);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + Tile::row(ty, i);
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int n = n0 + Tile::col(tx, j);
      if (n < Ncols) prob.store(blockIdx.z, m, n, tile.acc[i][j]);
    }
  }
}

// dw[i] += sum over splits of partial[split][i], splits in order (deterministic).
__global__ void reduce_splits_kernel(const float* partial, int splits, ll count, float* dw) {
  const ll i = static_cast<ll>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  float acc = 0.0f;
  for (int z = 0; z < splits; ++z) acc += partial[z * count + i];
  dw[i] += acc;
}

template <class Problem>
void run_gemm(const char* name, const Exec& exec, const Problem& prob, int M, int Ncols, int Kdim, int splits,
              int k_per_split) {
  cudaStream_t stream = stream_of(exec);
  if (M >= 128) {
    dim3 grid(static_cast<unsigned>(ceil_div(Ncols, 128)), static_cast<unsigned>(ceil_div(M, 128)), splits);
    launch_checked(name, implicit_gemm_kernel<128, 128, 8, 8, Problem>, grid, dim3(256), 0, stream, prob, M, Ncols,
                   Kdim, k_per_split);
  } else {
    dim3 grid(static_cast<unsigned>(ceil_div(Ncols, 64)), static_cast<unsigned>(ceil_div(M, 64)), splits);
    launch_checked(name, implicit_gemm_kernel<64, 64, 4, 4, Problem>, grid, dim3(256), 0, stream, prob, M, Ncols,
                   Kdim, k_per_split);
  }
}

void check_shape(const Conv2dShape& s, const char* op) {
  if (s.N <= 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 || s.K <= 0 || s.R <= 0 || s.S <= 0 || s.stride_h <= 0 ||
      s.stride_w <= 0 || s.pad_h < 0 || s.pad_w < 0 || s.P() <= 0 || s.Q() <= 0)
    fail(op, ": invalid convolution shape N=", s.N, " C=", s.C, " H=", s.H, " W=", s.W, " K=", s.K, " R=", s.R,
         " S=", s.S, " stride=", s.stride_h, "x", s.stride_w, " pad=", s.pad_h, "x", s.pad_w);
  const ll cols = std::max(static_cast<ll>(s.N) * s.H * s.W, static_cast<ll>(s.N) * s.P() * s.Q());
  if (cols > (1ll << 31) - 1) fail(op, ": N*H*W = ", cols, " exceeds the 32-bit GEMM column index");
}

}  // namespace

namespace {

template <class Div>
void forward_with(const char* name, const Exec& exec, const Conv2dShape& s, const float* x, const float* w,
                  const float* bias, float* y) {
  check_shape(s, "cuda conv2d_forward");
  DeviceGuard guard(exec.device);
  const ForwardProblem<Div> prob(s, x, w, bias, y);
  run_gemm(name, exec, prob, s.K, s.N * prob.PQ, prob.CRS, 1, prob.CRS);
}

template <class Div>
void backward_data_with(const char* name, const Exec& exec, const Conv2dShape& s, const float* dy, const float* w,
                        float* dx) {
  check_shape(s, "cuda conv2d_backward_data");
  DeviceGuard guard(exec.device);
  const BackwardDataProblem<Div> prob(s, dy, w, dx);
  const int Kdim = s.K * prob.RS;
  run_gemm(name, exec, prob, s.C, s.N * prob.HW, Kdim, 1, Kdim);
}

template <class Div, bool AlongK = false>
void backward_weights_with(const char* name, const Exec& exec, const Conv2dShape& s, const float* x, const float* dy,
                           float* dw, float* dbias) {
  check_shape(s, "cuda conv2d_backward_weights");
  DeviceGuard guard(exec.device);
  const int P = s.P(), Q = s.Q(), CRS = s.C * s.R * s.S;
  const int Kdim = s.N * P * Q;
  // Split the long N*P*Q reduction so that the small K x CRS output still fills the GPU:
  // aim for about four blocks per multiprocessor, in whole BK = 8 steps.
  const int bm = s.K >= 128 ? 128 : 64;
  const ll tiles = ceil_div(s.K, bm) * ceil_div(CRS, bm);
  const ll target = 4ll * multiprocessor_count(exec.device);
  const ll k_steps = ceil_div(Kdim, 8);
  ll splits = std::clamp<ll>(ceil_div(target, tiles), 1, std::min<ll>(k_steps, 256));
  const int k_per_split = static_cast<int>(ceil_div(k_steps, splits) * 8);
  splits = ceil_div(Kdim, k_per_split);  // no empty split
  const ll count = static_cast<ll>(s.K) * CRS;
  // The split-K partial sums: scratch memory, released under kernels/exec.h's rule.
  ScratchBuffer workspace(exec, static_cast<std::size_t>(splits * count) * sizeof(float));
  float* partial = workspace.as<float>();
  const BackwardWeightsProblem<Div, AlongK> prob(s, x, dy, partial);
  run_gemm(name, exec, prob, s.K, CRS, Kdim, static_cast<int>(splits), k_per_split);
  launch_checked("conv2d_backward_weights_reduce_splits", reduce_splits_kernel,
                 dim3(static_cast<unsigned>(ceil_div(count, 256))), dim3(256), 0, stream_of(exec), partial,
                 static_cast<int>(splits), count, dw);
  if (dbias) conv2d_bias_grad_accumulate(exec, s, dy, dbias);
}

}  // namespace

void conv2d_forward_implicit_gemm(const Exec& exec, const Conv2dShape& s, const float* x, const float* w,
                                  const float* bias, float* y) {
  forward_with<PlainDiv>("conv2d_forward_implicit_gemm", exec, s, x, w, bias, y);
}

void conv2d_backward_data_implicit_gemm(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w,
                                        float* dx) {
  backward_data_with<PlainDiv>("conv2d_backward_data_implicit_gemm", exec, s, dy, w, dx);
}

void conv2d_backward_weights_implicit_gemm(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy,
                                           float* dw, float* dbias) {
  backward_weights_with<PlainDiv>("conv2d_backward_weights_implicit_gemm", exec, s, x, dy, dw, dbias);
}

void conv2d_forward_implicit_gemm_fastdiv(const Exec& exec, const Conv2dShape& s, const float* x, const float* w,
                                          const float* bias, float* y) {
  forward_with<FastDiv>("conv2d_forward_implicit_gemm_fastdiv", exec, s, x, w, bias, y);
}

void conv2d_backward_data_implicit_gemm_fastdiv(const Exec& exec, const Conv2dShape& s, const float* dy,
                                                const float* w, float* dx) {
  backward_data_with<FastDiv>("conv2d_backward_data_implicit_gemm_fastdiv", exec, s, dy, w, dx);
}

void conv2d_backward_weights_implicit_gemm_fastdiv(const Exec& exec, const Conv2dShape& s, const float* x,
                                                   const float* dy, float* dw, float* dbias) {
  backward_weights_with<FastDiv>("conv2d_backward_weights_implicit_gemm_fastdiv", exec, s, x, dy, dw, dbias);
}

void conv2d_backward_weights_implicit_gemm_kgather(const Exec& exec, const Conv2dShape& s, const float* x,
                                                   const float* dy, float* dw, float* dbias) {
  backward_weights_with<PlainDiv, true>("conv2d_backward_weights_implicit_gemm_kgather", exec, s, x, dy, dw, dbias);
}

}  // namespace convoy::kernels::cuda
