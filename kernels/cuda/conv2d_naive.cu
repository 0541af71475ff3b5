// The naive CUDA convolutions: one thread per output element, a plain loop over the
// reduction, no reuse. They are the variant-table baseline and a second GPU reference.
// Backward-data uses the gather form (no atomics), so all three are deterministic.
#include "kernels/cuda/conv2d_variants.h"
#include "kernels/cuda/cuda_util.cuh"

namespace convoy::kernels::cuda {
namespace {

using ll = long long;
constexpr int kThreads = 256;

__global__ void forward_naive_kernel(Conv2dShape s, const float* x, const float* w, const float* bias, float* y) {
  const int P = s.P(), Q = s.Q();
  const ll total = static_cast<ll>(s.N) * s.K * P * Q;
  const ll idx = static_cast<ll>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int q = idx % Q, p = (idx / Q) % P, k = (idx / (static_cast<ll>(Q) * P)) % s.K;
  const int n = idx / (static_cast<ll>(Q) * P * s.K);
  float acc = 0.0f;
  for (int c = 0; c < s.C; ++c)
    for (int r = 0; r < s.R; ++r) {
      const int h = p * s.stride_h - s.pad_h + r;
      if (h < 0 || h >= s.H) continue;
      for (int t = 0; t < s.S; ++t) {
        const int ww = q * s.stride_w - s.pad_w + t;
        if (ww < 0 || ww >= s.W) continue;
        acc = fmaf(x[((static_cast<ll>(n) * s.C + c) * s.H + h) * s.W + ww],
                   w[((static_cast<ll>(k) * s.C + c) * s.R + r) * s.S + t], acc);
      }
    }
  y[idx] = acc + (bias ? bias[k] : 0.0f);
}

__global__ void backward_data_naive_kernel(Conv2dShape s, const float* dy, const float* w, float* dx) {
  const int P = s.P(), Q = s.Q();
  const ll total = static_cast<ll>(s.N) * s.C * s.H * s.W;
  const ll idx = static_cast<ll>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int ww = idx % s.W, h = (idx / s.W) % s.H, c = (idx / (static_cast<ll>(s.W) * s.H)) % s.C;
  const int n = idx / (static_cast<ll>(s.W) * s.H * s.C);
  float acc = 0.0f;
  for (int k = 0; k < s.K; ++k)
    for (int r = 0; r < s.R; ++r) {
      const int ph = h + s.pad_h - r;
      if (ph < 0 || ph % s.stride_h != 0) continue;
      const int p = ph / s.stride_h;
      if (p >= P) continue;
      for (int t = 0; t < s.S; ++t) {
        const int qw = ww + s.pad_w - t;
        if (qw < 0 || qw % s.stride_w != 0) continue;
        const int q = qw / s.stride_w;
        if (q >= Q) continue;
        acc = fmaf(dy[((static_cast<ll>(n) * s.K + k) * P + p) * Q + q],
                   w[((static_cast<ll>(k) * s.C + c) * s.R + r) * s.S + t], acc);
      }
    }
  dx[idx] = acc;
}

__global__ void backward_weights_naive_kernel(Conv2dShape s, const float* x, const float* dy, float* dw) {
  const int P = s.P(), Q = s.Q();
  const ll total = static_cast<ll>(s.K) * s.C * s.R * s.S;
  const ll idx = static_cast<ll>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int t = idx % s.S, r = (idx / s.S) % s.R, c = (idx / (static_cast<ll>(s.S) * s.R)) % s.C;
  const int k = idx / (static_cast<ll>(s.S) * s.R * s.C);
  float acc = 0.0f;
  for (int n = 0; n < s.N; ++n)
    for (int p = 0; p < P; ++p) {
      const int h = p * s.stride_h - s.pad_h + r;
      if (h < 0 || h >= s.H) continue;
      for (int q = 0; q < Q; ++q) {
        const int ww = q * s.stride_w - s.pad_w + t;
        if (ww < 0 || ww >= s.W) continue;
        acc = fmaf(dy[((static_cast<ll>(n) * s.K + k) * P + p) * Q + q],
                   x[((static_cast<ll>(n) * s.C + c) * s.H + h) * s.W + ww], acc);
      }
    }
  dw[idx] += acc;
}

// One block per output channel; each thread sums a fixed strided subset, then a fixed
// tree reduction in shared memory: the same order every run, so the result is deterministic.
__global__ void bias_grad_kernel(Conv2dShape s, const float* dy, float* dbias) {
  __shared__ float partial[kThreads];
  const int k = blockIdx.x;
  const int PQ = s.P() * s.Q();
  const ll total = static_cast<ll>(s.N) * PQ;
  float acc = 0.0f;
  for (ll i = threadIdx.x; i < total; i += kThreads) {
    const ll n = i / PQ, pq = i - n * PQ;
    acc += dy[(n * s.K + k) * PQ + pq];
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) dbias[k] += partial[0];
}

unsigned blocks_for(ll total) { return static_cast<unsigned>(ceil_div(total, kThreads)); }

}  // namespace

void conv2d_forward_naive(const Exec& exec, const Conv2dShape& s, const float* x, const float* w, const float* bias,
                          float* y) {
  DeviceGuard guard(exec.device);
  const ll total = static_cast<ll>(s.N) * s.K * s.P() * s.Q();
  launch_checked("conv2d_forward_naive", forward_naive_kernel, dim3(blocks_for(total)), dim3(kThreads), 0,
                 stream_of(exec), s, x, w, bias, y);
}

void conv2d_backward_data_naive(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w,
                                float* dx) {
  DeviceGuard guard(exec.device);
  const ll total = static_cast<ll>(s.N) * s.C * s.H * s.W;
  launch_checked("conv2d_backward_data_naive", backward_data_naive_kernel, dim3(blocks_for(total)), dim3(kThreads),
                 0, stream_of(exec), s, dy, w, dx);
}

void conv2d_backward_weights_naive(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy,
                                   float* dw, float* dbias) {
  DeviceGuard guard(exec.device);
  const ll total = static_cast<ll>(s.K) * s.C * s.R * s.S;
  launch_checked("conv2d_backward_weights_naive", backward_weights_naive_kernel, dim3(blocks_for(total)),
                 dim3(kThreads), 0, stream_of(exec), s, x, dy, dw);
  if (dbias) conv2d_bias_grad_accumulate(exec, s, dy, dbias);
}

void conv2d_bias_grad_accumulate(const Exec& exec, const Conv2dShape& s, const float* dy, float* dbias) {
  DeviceGuard guard(exec.device);
  launch_checked("conv2d_bias_grad", bias_grad_kernel, dim3(static_cast<unsigned>(s.K)), dim3(kThreads), 0,
                 stream_of(exec), s, dy, dbias);
}

}  // namespace convoy::kernels::cuda
