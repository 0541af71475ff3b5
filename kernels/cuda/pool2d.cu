// CUDA 2-D max / average pooling, NCHW (contract in kernels/pool2d.h).
// Forward: one thread per output element, flattened (n, c, p, q) with q fastest, so a warp
// writes consecutive outputs and reads rows of x `stride_w` apart; each x element is read
// by about R*S/(stride_h*stride_w) windows, mostly from L1/L2. Backward is a gather: one
// thread per INPUT element walks the few output windows that cover it and, for max,
// recomputes each window's first maximal element from x to see whether it is this one.
// Every dx is written exactly once by one thread (no atomics, deterministic, dx assigned).
// Both directions are bound by memory bandwidth; the index type is 32-bit whenever the
// tensor allows it, because 64-bit division would otherwise cost more than the loads.
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cuda/ops_launch.cuh"
#include "kernels/cuda/pool2d_argmax.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cuda {

namespace {

struct PoolGeom {
  int H, W, P, Q, R, S, sh, sw, ph, pw;
};

// Windows: kR x kS fixed at compile time for the common 2x2 and 3x3 (0 = read g.R, g.S),
// so the window loops unroll and all of a window's loads are in flight together; the
// kernels are latency-bound otherwise (a dependent chain of loads per window).
template <int kR, int kS>
struct Window {
  int hs, ws;  // top-left corner, possibly in the padding
  int R, S;
  __device__ __forceinline__ Window(const PoolGeom& g, int p, int q)
      : hs(p * g.sh - g.ph), ws(q * g.sw - g.pw), R(kR ? kR : g.R), S(kS ? kS : g.S) {}
  // Number of in-bounds elements (the average's divisor, count_include_pad = false).
  __device__ __forceinline__ int count(const PoolGeom& g) const {
    return (min(hs + R, g.H) - max(hs, 0)) * (min(ws + S, g.W) - max(ws, 0));
  }
};

// The first maximal in-bounds element of the window in row-major order, as an offset into
// the plane. The shape check guarantees at least one in-bounds element per window.
template <int kR, int kS>
__device__ __forceinline__ int first_argmax(const float* plane, const PoolGeom& g, const Window<kR, kS>& win) {
  int best_at = -1;
  float best = 0.0f;
#pragma unroll
  for (int r = 0; r < (kR ? kR : win.R); ++r) {
    const int h = win.hs + r;
#pragma unroll
    for (int c = 0; c < (kS ? kS : win.S); ++c) {
      const int w = win.ws + c;
      if (h >= 0 && h < g.H && w >= 0 && w < g.W) {
        const float v = plane[h * g.W + w];
        if (best_at < 0 || v > best) {
          best = v;
          best_at = h * g.W + w;
        }
      }
    }
  }
  return best_at;
}

template <int kR, int kS>
__device__ __forceinline__ float window_sum(const float* plane, const PoolGeom& g, const Window<kR, kS>& win) {
  float acc = 0.0f;
#pragma unroll
  for (int r = 0; r < (kR ? kR : win.R); ++r) {
    const int h = win.hs + r;
#pragma unroll
    for (int c = 0; c < (kS ? kS : win.S); ++c) {
      const int w = win.ws + c;
      if (h >= 0 && h < g.H && w >= 0 && w < g.W) acc += plane[h * g.W + w];
    }
  }
  return acc;
}

template <typename Index, bool kMax, int kR, int kS>
__global__ void pool2d_forward_kernel(Index total, PoolGeom g, const float* __restrict__ x, float* __restrict__ y) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int q = static_cast<int>(i % g.Q);
    const Index t = i / g.Q;
    const int p = static_cast<int>(t % g.P);
    const Index plane_index = t / g.P;
    const float* plane = x + plane_index * static_cast<Index>(g.H) * g.W;
    const Window<kR, kS> win(g, p, q);
    if constexpr (kMax)
      y[i] = plane[first_argmax(plane, g, win)];
    else
      y[i] = window_sum(plane, g, win) / static_cast<float>(win.count(g));
  }
}

// Output rows (or columns) whose window covers input row h: [lo, hi], possibly empty.
__device__ __forceinline__ void covering(int h, int pad, int window, int stride, int outs, int& lo, int& hi) {
  const int first = h + pad - window + 1;  // smallest p * stride that still reaches h
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  hi = (h + pad) / stride;
  if (hi > outs - 1) hi = outs - 1;
}

template <typename Index, bool kMax, int kR, int kS>
__global__ void pool2d_backward_kernel(Index total, PoolGeom g, const float* __restrict__ x,
                                       const float* __restrict__ dy, float* __restrict__ dx) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int w = static_cast<int>(i % g.W);
    const Index t = i / g.W;
    const int h = static_cast<int>(t % g.H);
    const Index plane_index = t / g.H;
    const float* plane = x + plane_index * static_cast<Index>(g.H) * g.W;
    const float* dplane = dy + plane_index * static_cast<Index>(g.P) * g.Q;
    int p_lo, p_hi, q_lo, q_hi;
    covering(h, g.ph, kR ? kR : g.R, g.sh, g.P, p_lo, p_hi);
    covering(w, g.pw, kS ? kS : g.S, g.sw, g.Q, q_lo, q_hi);
    const int self = h * g.W + w;
    float acc = 0.0f;
    for (int p = p_lo; p <= p_hi; ++p)
      for (int q = q_lo; q <= q_hi; ++q) {
        const Window<kR, kS> win(g, p, q);
        const float grad = dplane[p * g.Q + q];  // loaded before the window, so both are in flight
        if constexpr (kMax) {
          if (first_argmax(plane, g, win) == self) acc += grad;
        } else {
          acc += grad / static_cast<float>(win.count(g));
        }
      }
    dx[i] = acc;
  }
}

// Max pooling that keeps each window's argmax (the fused batch-norm + ReLU + max-pool):
// forward, one thread per output; backward, one thread per input element gathering the
// outputs whose argmax it is and whose value passed the ReLU (y > 0). No atomics.
template <typename Index>
__global__ void maxpool_argmax_forward_kernel(Index total, PoolGeom g, const float* __restrict__ act,
                                              float* __restrict__ y, int32_t* __restrict__ argmax) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int q = static_cast<int>(i % g.Q);
    const Index t = i / g.Q;
    const int p = static_cast<int>(t % g.P);
    const float* plane = act + (t / g.P) * static_cast<Index>(g.H) * g.W;
    const int at = first_argmax(plane, g, Window<0, 0>(g, p, q));
    y[i] = plane[at];
    argmax[i] = at;
  }
}

template <typename Index>
__global__ void maxpool_argmax_backward_kernel(Index total, PoolGeom g, const float* __restrict__ y,
                                               const int32_t* __restrict__ argmax, const float* __restrict__ dy,
                                               float* __restrict__ dact) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int w = static_cast<int>(i % g.W);
    const Index t = i / g.W;
    const int h = static_cast<int>(t % g.H);
    const Index out0 = (t / g.H) * static_cast<Index>(g.P) * g.Q;
    int p_lo, p_hi, q_lo, q_hi;
    covering(h, g.ph, g.R, g.sh, g.P, p_lo, p_hi);
    covering(w, g.pw, g.S, g.sw, g.Q, q_lo, q_hi);
    const int self = h * g.W + w;
    float acc = 0.0f;
    for (int p = p_lo; p <= p_hi; ++p)
      for (int q = q_lo; q <= q_hi; ++q) {
        const Index o = out0 + p * g.Q + q;
        if (argmax[o] == self && y[o] > 0.0f) acc += dy[o];
      }
    dact[i] = acc;
  }
}

PoolGeom check_shape(const Pool2dShape& s, const char* op) {
  if (s.N < 0 || s.C < 0 || s.H <= 0 || s.W <= 0 || s.R <= 0 || s.S <= 0 || s.stride_h <= 0 || s.stride_w <= 0 ||
      s.pad_h < 0 || s.pad_w < 0)
    fail(op, ": invalid shape N=", s.N, " C=", s.C, " H=", s.H, " W=", s.W, " window ", s.R, "x", s.S, " stride ",
         s.stride_h, "x", s.stride_w, " pad ", s.pad_h, "x", s.pad_w);
  if (s.pad_h >= s.R || s.pad_w >= s.S)
    fail(op, ": padding ", s.pad_h, "x", s.pad_w, " must be smaller than the window ", s.R, "x", s.S,
         " (a window of padding only has no value)");
  if (s.H + 2 * s.pad_h < s.R || s.W + 2 * s.pad_w < s.S)
    fail(op, ": window ", s.R, "x", s.S, " is larger than the padded input ", s.H + 2 * s.pad_h, "x",
         s.W + 2 * s.pad_w);
  return {s.H, s.W, s.P(), s.Q(), s.R, s.S, s.stride_h, s.stride_w, s.pad_h, s.pad_w};
}

// 32-bit indexing when both tensors (x is the larger for the usual windows, y for
// overlapping ones) fit, so that plane offsets cannot wrap.
bool fits_32bit(const Pool2dShape& s, const PoolGeom& g) {
  const int64_t planes = int64_t{s.N} * s.C;
  const int64_t in = planes * s.H * s.W, out = planes * g.P * g.Q;
  return (in > out ? in : out) <= std::numeric_limits<uint32_t>::max();
}


// Picks the kernel instance: index width, max/avg, and the unrolled 2x2 / 3x3 windows.
template <template <typename, bool, int, int> class Launch, typename... Args>
void dispatch(const Pool2dShape& s, const PoolGeom& g, PoolKind kind, Args... args) {
  auto by_window = [&](auto index_tag, auto max_tag) {
    using Index = decltype(index_tag);
    constexpr bool kMax = decltype(max_tag)::value;
    if (s.R == 2 && s.S == 2)
      Launch<Index, kMax, 2, 2>::run(args...);
    else if (s.R == 3 && s.S == 3)
      Launch<Index, kMax, 3, 3>::run(args...);
    else
      Launch<Index, kMax, 0, 0>::run(args...);
  };
  auto by_kind = [&](auto index_tag) {
    if (kind == PoolKind::max)
      by_window(index_tag, std::true_type{});
    else
      by_window(index_tag, std::false_type{});
  };
  if (fits_32bit(s, g))
    by_kind(uint32_t{});
  else
    by_kind(int64_t{});
}

template <typename Index, bool kMax, int kR, int kS>
struct ForwardLaunch {
  static void run(unsigned grid, cudaStream_t stream, int64_t total, const PoolGeom& g, const float* x, float* y) {
    pool2d_forward_kernel<Index, kMax, kR, kS><<<grid, ops::kBlock, 0, stream>>>(static_cast<Index>(total), g, x, y);
  }
};

template <typename Index, bool kMax, int kR, int kS>
struct BackwardLaunch {
  static void run(unsigned grid, cudaStream_t stream, int64_t total, const PoolGeom& g, const float* x,
                  const float* dy, float* dx) {
    pool2d_backward_kernel<Index, kMax, kR, kS><<<grid, ops::kBlock, 0, stream>>>(static_cast<Index>(total), g, x,
                                                                                  dy, dx);
  }
};

}  // namespace

void maxpool_forward_argmax(const Exec& exec, const Pool2dShape& s, const float* act, float* y, int32_t* argmax) {
  const PoolGeom g = check_shape(s, "cuda::maxpool_forward_argmax");
  const int64_t total = int64_t{s.N} * s.C * g.P * g.Q;
  if (total == 0) return;
  DeviceGuard guard(exec.device);
  if (fits_32bit(s, g))
    maxpool_argmax_forward_kernel<uint32_t><<<ops::grid_for(total, 2), ops::kBlock, 0, stream_of(exec)>>>(
        static_cast<uint32_t>(total), g, act, y, argmax);
  else
    maxpool_argmax_forward_kernel<int64_t><<<ops::grid_for(total, 2), ops::kBlock, 0, stream_of(exec)>>>(
        total, g, act, y, argmax);
  CONVOY_CUDA_CHECK_LAUNCH("maxpool_argmax_forward_kernel");
}

void maxpool_backward_argmax(const Exec& exec, const Pool2dShape& s, const float* y, const int32_t* argmax,
                             const float* dy, float* dact) {
  const PoolGeom g = check_shape(s, "cuda::maxpool_backward_argmax");
  const int64_t total = int64_t{s.N} * s.C * s.H * s.W;
  if (total == 0) return;
  DeviceGuard guard(exec.device);
  if (fits_32bit(s, g))
    maxpool_argmax_backward_kernel<uint32_t><<<ops::grid_for(total, 2), ops::kBlock, 0, stream_of(exec)>>>(
        static_cast<uint32_t>(total), g, y, argmax, dy, dact);
  else
    maxpool_argmax_backward_kernel<int64_t><<<ops::grid_for(total, 2), ops::kBlock, 0, stream_of(exec)>>>(
        total, g, y, argmax, dy, dact);
  CONVOY_CUDA_CHECK_LAUNCH("maxpool_argmax_backward_kernel");
}

void pool2d_forward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, float* y) {
  const PoolGeom g = check_shape(s, "cuda::pool2d_forward");
  const int64_t total = int64_t{s.N} * s.C * g.P * g.Q;
  if (total == 0) return;
  if (x == nullptr || y == nullptr) fail("cuda::pool2d_forward: null x or y");
  DeviceGuard guard(exec.device);
  dispatch<ForwardLaunch>(s, g, kind, ops::grid_for(total, 2), stream_of(exec), total, g, x, y);
  CONVOY_CUDA_CHECK_LAUNCH("pool2d_forward_kernel");
}

void pool2d_backward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, const float* dy,
                     float* dx) {
  const PoolGeom g = check_shape(s, "cuda::pool2d_backward");
  const int64_t total = int64_t{s.N} * s.C * s.H * s.W;
  if (total == 0) return;
  if (x == nullptr || dy == nullptr || dx == nullptr) fail("cuda::pool2d_backward: null x, dy or dx");
  DeviceGuard guard(exec.device);
  dispatch<BackwardLaunch>(s, g, kind, ops::grid_for(total, 2), stream_of(exec), total, g, x, dy, dx);
  CONVOY_CUDA_CHECK_LAUNCH("pool2d_backward_kernel");
}

}  // namespace convoy::kernels::cuda
