// CUDA batch normalisation over (N, C, HW) (contract in kernels/batchnorm.h).
//
// Training forward and backward are each three launches:
//   1. channel_partials: grid (splits, C); block (s, c) reduces a contiguous slice of the
//      channel's M = N*HW values (flattened k = n*HW + i, so short HW rows still give
//      whole warps of work) into double partial sums. Splitting each channel keeps every
//      SM busy when C is small (64 channels of 512x32x32 would otherwise be 64 blocks).
//   2. finalize: one warp per channel folds its `splits` partials in a fixed order (lane
//      strides then a butterfly), writes the statistics / parameter gradients and the
//      per-channel coefficients of the element-wise pass.
//   3. an element-wise pass over all N*C*HW values (y, or dx).
// Every sum has a fixed tree (the split count depends on the shape only), so results are
// bit-identical run to run. Forward statistics are shifted by the channel's first value
// before squaring, in double, so that E[x^2] - E[x]^2 does not cancel. Each pass reads the
// activations once: the whole thing is bound by memory bandwidth (2 reads + 1 write of the
// tensor forward, 3-4 reads + 1 write backward).
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>

#include "kernels/batchnorm.h"
#include "kernels/cuda/ops_launch.cuh"
#include "kernels/cuda/reduce.cuh"

namespace convoy::kernels::cuda {

namespace {

constexpr int kPartialBlock = 256;
constexpr int kPerSplit = 4096;   // values per block in the partial pass (16 per thread)
constexpr int kMaxSplits = 256;
constexpr int kFinalizeWarps = 8;

struct Geometry {
  int N, C, HW;
  int splits;
  int64_t M;  // N * HW, values per channel
  int64_t total;
};

Geometry geometry(const BatchNormShape& s, const char* op) {
  if (s.N <= 0 || s.C <= 0 || s.HW <= 0) fail(op, ": shape N=", s.N, " C=", s.C, " HW=", s.HW, " must be positive");
  if (s.C > 65535) fail(op, ": C=", s.C, " exceeds the 65535 channels of the CUDA grid's y dimension");
  const int64_t M = int64_t{s.N} * s.HW;
  if (M > (int64_t{1} << 30))  // keeps 32-bit k + blockDim from wrapping
    fail(op, ": N*HW = ", M, " values per channel exceeds 2^30");
  int64_t splits = (M + kPerSplit - 1) / kPerSplit;
  if (splits > kMaxSplits) splits = kMaxSplits;
  return {s.N, s.C, s.HW, static_cast<int>(splits), M, M * s.C};
}

__device__ __forceinline__ int64_t offset_of(int k, int c, int C, int HW) {
  const int n = k / HW, i = k - n * HW;
  return (static_cast<int64_t>(n) * C + c) * HW + i;
}

// The slice [k0, k1) of channel c that block (split, c) reduces.
__device__ __forceinline__ void slice(int M, int splits, int split, int& k0, int& k1) {
  const int chunk = (M + splits - 1) / splits;
  k0 = split * chunk;
  k1 = M - k0 < chunk ? M : k0 + chunk;
}

// Forward partials: sum of (x - pivot) and of its square, pivot = the channel's first value.
__global__ void forward_partials_kernel(int C, int HW, int M, const float* __restrict__ x, double* __restrict__ psum,
                                        double* __restrict__ psq) {
  __shared__ double sa[kWarpSize], sb[kWarpSize];
  const int c = blockIdx.y, split = blockIdx.x, splits = gridDim.x;
  const float pivot = x[static_cast<int64_t>(c) * HW];
  int k0, k1;
  slice(M, splits, split, k0, k1);
  double s = 0.0, q = 0.0;
  for (int k = k0 + threadIdx.x; k < k1; k += blockDim.x) {
    const double d = static_cast<double>(x[offset_of(k, c, C, HW)]) - pivot;
    s += d;
    q += d * d;
  }
  block_sum2(s, q, sa, sb);
  if (threadIdx.x == 0) {
    psum[c * splits + split] = s;
    psq[c * splits + split] = q;
  }
}

struct ForwardFinalizeArgs {
  int C, HW, splits;
  double M;
  const float* x;
  const double* psum;
  const double* psq;
  const float* gamma;
  const float* beta;
  float eps, momentum;
  float* save_mean;
  float* save_invstd;
  float* running_mean;
  float* running_var;
  float* scale;  // (C) gamma * invstd
  float* shift;  // (C) beta - mean * scale
};

__global__ void forward_finalize_kernel(ForwardFinalizeArgs a) {
  const int lane = threadIdx.x % kWarpSize;
  const int c = blockIdx.x * kFinalizeWarps + threadIdx.x / kWarpSize;
  if (c >= a.C) return;  // whole warps leave together: c is uniform across a warp
  double s = 0.0, q = 0.0;
  for (int j = lane; j < a.splits; j += kWarpSize) {
    s += a.psum[c * a.splits + j];
    q += a.psq[c * a.splits + j];
  }
  s = warp_sum(s);
  q = warp_sum(q);
  if (lane != 0) return;
  const double pivot = a.x[static_cast<int64_t>(c) * a.HW];
  const double shifted_mean = s / a.M;
  const double mean = pivot + shifted_mean;
  double var = q / a.M - shifted_mean * shifted_mean;
  if (var < 0.0) var = 0.0;
  const double invstd = 1.0 / sqrt(var + static_cast<double>(a.eps));
  if (a.save_mean) a.save_mean[c] = static_cast<float>(mean);
  if (a.save_invstd) a.save_invstd[c] = static_cast<float>(invstd);
  const double m = a.momentum;
  if (a.running_mean) a.running_mean[c] = static_cast<float>((1.0 - m) * a.running_mean[c] + m * mean);
  if (a.running_var)
    a.running_var[c] = static_cast<float>((1.0 - m) * a.running_var[c] + m * var * a.M / (a.M - 1.0));
  const double scale = a.gamma[c] * invstd;
  a.scale[c] = static_cast<float>(scale);
  a.shift[c] = static_cast<float>(a.beta[c] - mean * scale);
}

// Element-wise y = x * scale[c] + shift[c] (then ReLU): one thread per value, grid-stride,
// channel from the flattened index. Index is 32-bit when the tensor allows it. y may
// alias x (in-place), so neither is __restrict__.
template <typename Index>
__global__ void normalize_kernel(Index total, int C, int HW, const float* x,
                                 const float* __restrict__ scale, const float* __restrict__ shift, bool relu,
                                 float* y) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int c = static_cast<int>((i / HW) % C);
    float v = fmaf(x[i], scale[c], shift[c]);
    if (relu && v < 0.0f) v = 0.0f;
    y[i] = v;
  }
}

// Inference: the per-channel coefficients from the running statistics, recomputed per
// value (two cached loads and a sqrt are cheaper than another launch).
template <typename Index>
__global__ void infer_kernel(Index total, int C, int HW, const float* x, const float* __restrict__ gamma,
                             const float* __restrict__ beta, const float* __restrict__ running_mean,
                             const float* __restrict__ running_var, float eps, bool relu, float* y) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int c = static_cast<int>((i / HW) % C);
    const float scale = gamma[c] / sqrtf(running_var[c] + eps);
    float v = fmaf(x[i] - running_mean[c], scale, beta[c]);
    if (relu && v < 0.0f) v = 0.0f;
    y[i] = v;
  }
}

// Backward partials: sum g and sum g * xhat, g = dy masked by y > 0 when relu.
__global__ void backward_partials_kernel(int C, int HW, int M, const float* __restrict__ x, const float* y,
                                         const float* dy, const float* __restrict__ mean,
                                         const float* __restrict__ invstd, bool relu, double* __restrict__ pg,
                                         double* __restrict__ pgx) {
  __shared__ double sa[kWarpSize], sb[kWarpSize];
  const int c = blockIdx.y, split = blockIdx.x, splits = gridDim.x;
  const float mu = mean[c], is = invstd[c];
  int k0, k1;
  slice(M, splits, split, k0, k1);
  double sg = 0.0, sgx = 0.0;
  for (int k = k0 + threadIdx.x; k < k1; k += blockDim.x) {
    const int64_t at = offset_of(k, c, C, HW);
    const float g = relu && !(y[at] > 0.0f) ? 0.0f : dy[at];
    const float xhat = (x[at] - mu) * is;
    sg += g;
    sgx += static_cast<double>(g) * xhat;
  }
  block_sum2(sg, sgx, sa, sb);
  if (threadIdx.x == 0) {
    pg[c * splits + split] = sg;
    pgx[c * splits + split] = sgx;
  }
}

struct BackwardFinalizeArgs {
  int C, splits;
  double M;
  const double* pg;
  const double* pgx;
  const float* gamma;
  const float* invstd;
  float* dgamma;
  float* dbeta;
  float* k_scale;  // (C) gamma * invstd
  float* k_mean_g;   // (C) sum g / M
  float* k_mean_gx;  // (C) sum g * xhat / M
};

__global__ void backward_finalize_kernel(BackwardFinalizeArgs a) {
  const int lane = threadIdx.x % kWarpSize;
  const int c = blockIdx.x * kFinalizeWarps + threadIdx.x / kWarpSize;
  if (c >= a.C) return;
  double sg = 0.0, sgx = 0.0;
  for (int j = lane; j < a.splits; j += kWarpSize) {
    sg += a.pg[c * a.splits + j];
    sgx += a.pgx[c * a.splits + j];
  }
  sg = warp_sum(sg);
  sgx = warp_sum(sgx);
  if (lane != 0) return;
  if (a.dbeta) a.dbeta[c] += static_cast<float>(sg);
  if (a.dgamma) a.dgamma[c] += static_cast<float>(sgx);
  a.k_scale[c] = a.gamma[c] * a.invstd[c];
  a.k_mean_g[c] = static_cast<float>(sg / a.M);
  a.k_mean_gx[c] = static_cast<float>(sgx / a.M);
}

// dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)); one thread per value.
// dx may alias dy (each value is read before it is written, by the same thread).
template <typename Index>
__global__ void backward_dx_kernel(Index total, int C, int HW, const float* __restrict__ x, const float* y,
                                   const float* dy, const float* __restrict__ mean, const float* __restrict__ invstd,
                                   const float* __restrict__ k_scale, const float* __restrict__ k_mean_g,
                                   const float* __restrict__ k_mean_gx, bool relu, float* dx) {
  const Index stride = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int c = static_cast<int>((i / HW) % C);
    const float g = relu && !(y[i] > 0.0f) ? 0.0f : dy[i];
    const float xhat = (x[i] - mean[c]) * invstd[c];
    dx[i] = k_scale[c] * (g - k_mean_g[c] - xhat * k_mean_gx[c]);
  }
}

bool fits_32bit(int64_t total) { return total <= std::numeric_limits<uint32_t>::max(); }

unsigned finalize_blocks(int C) { return static_cast<unsigned>((C + kFinalizeWarps - 1) / kFinalizeWarps); }

}  // namespace

void batchnorm_forward_train(const Exec& exec, const BatchNormShape& s, const BatchNormTrainArgs& a) {
  const char* op = "cuda::batchnorm_forward_train";
  const Geometry g = geometry(s, op);
  if (g.M < 2)
    fail(op, ": training needs more than one value per channel (N*HW = ", g.M, "), as in PyTorch");
  if (!a.x || !a.gamma || !a.beta || !a.y) fail(op, ": null x, gamma, beta or y");
  DeviceGuard guard(exec.device);
  const cudaStream_t stream = stream_of(exec);
  const size_t partial_doubles = static_cast<size_t>(g.C) * g.splits;
  ops::Scratch scratch(exec, sizeof(double) * 2 * partial_doubles + sizeof(float) * 2 * g.C);
  double* psum = scratch.as<double>();
  double* psq = psum + partial_doubles;
  float* scale = reinterpret_cast<float*>(psq + partial_doubles);
  float* shift = scale + g.C;

  forward_partials_kernel<<<dim3(g.splits, g.C), kPartialBlock, 0, stream>>>(g.C, g.HW, static_cast<int>(g.M), a.x,
                                                                              psum, psq);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm forward_partials_kernel");
  ForwardFinalizeArgs f{g.C,  g.HW, g.splits, static_cast<double>(g.M), a.x, psum, psq, a.gamma, a.beta,
                        a.eps, a.momentum, a.save_mean, a.save_invstd, a.running_mean, a.running_var, scale, shift};
  forward_finalize_kernel<<<finalize_blocks(g.C), kFinalizeWarps * kWarpSize, 0, stream>>>(f);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm forward_finalize_kernel");
  const unsigned grid = ops::grid_for(g.total, 4);
  if (fits_32bit(g.total))
    normalize_kernel<uint32_t><<<grid, ops::kBlock, 0, stream>>>(static_cast<uint32_t>(g.total), g.C, g.HW, a.x,
                                                                  scale, shift, a.relu, a.y);
  else
    normalize_kernel<int64_t><<<grid, ops::kBlock, 0, stream>>>(g.total, g.C, g.HW, a.x, scale, shift, a.relu, a.y);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm normalize_kernel");
}

void batchnorm_forward_infer(const Exec& exec, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var, float eps,
                             bool relu, float* y) {
  const char* op = "cuda::batchnorm_forward_infer";
  const Geometry g = geometry(s, op);
  if (!x || !gamma || !beta || !running_mean || !running_var || !y)
    fail(op, ": null x, gamma, beta, running_mean, running_var or y");
  DeviceGuard guard(exec.device);
  const cudaStream_t stream = stream_of(exec);
  const unsigned grid = ops::grid_for(g.total, 4);
  if (fits_32bit(g.total))
    infer_kernel<uint32_t><<<grid, ops::kBlock, 0, stream>>>(static_cast<uint32_t>(g.total), g.C, g.HW, x, gamma,
                                                              beta, running_mean, running_var, eps, relu, y);
  else
    infer_kernel<int64_t><<<grid, ops::kBlock, 0, stream>>>(g.total, g.C, g.HW, x, gamma, beta, running_mean,
                                                             running_var, eps, relu, y);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm infer_kernel");
}

void batchnorm_backward(const Exec& exec, const BatchNormShape& s, const BatchNormBackwardArgs& a) {
  const char* op = "cuda::batchnorm_backward";
  const Geometry g = geometry(s, op);
  if (g.M < 2)
    fail(op, ": training needs more than one value per channel (N*HW = ", g.M, "), as in PyTorch");
  if (!a.x || !a.dy || !a.gamma || !a.save_mean || !a.save_invstd || !a.dx)
    fail(op, ": null x, dy, gamma, save_mean, save_invstd or dx");
  if (a.relu && !a.y) fail(op, ": relu needs the forward output y");
  DeviceGuard guard(exec.device);
  const cudaStream_t stream = stream_of(exec);
  const size_t partial_doubles = static_cast<size_t>(g.C) * g.splits;
  ops::Scratch scratch(exec, sizeof(double) * 2 * partial_doubles + sizeof(float) * 3 * g.C);
  double* pg = scratch.as<double>();
  double* pgx = pg + partial_doubles;
  float* k_scale = reinterpret_cast<float*>(pgx + partial_doubles);
  float* k_mean_g = k_scale + g.C;
  float* k_mean_gx = k_mean_g + g.C;

  backward_partials_kernel<<<dim3(g.splits, g.C), kPartialBlock, 0, stream>>>(
      g.C, g.HW, static_cast<int>(g.M), a.x, a.y, a.dy, a.save_mean, a.save_invstd, a.relu, pg, pgx);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm backward_partials_kernel");
  BackwardFinalizeArgs f{g.C,      g.splits, static_cast<double>(g.M), pg,       pgx,      a.gamma,
                         a.save_invstd, a.dgamma, a.dbeta, k_scale, k_mean_g, k_mean_gx};
  backward_finalize_kernel<<<finalize_blocks(g.C), kFinalizeWarps * kWarpSize, 0, stream>>>(f);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm backward_finalize_kernel");
  const unsigned grid = ops::grid_for(g.total, 4);
  if (fits_32bit(g.total))
    backward_dx_kernel<uint32_t><<<grid, ops::kBlock, 0, stream>>>(static_cast<uint32_t>(g.total), g.C, g.HW, a.x,
                                                                    a.y, a.dy, a.save_mean, a.save_invstd, k_scale,
                                                                    k_mean_g, k_mean_gx, a.relu, a.dx);
  else
    backward_dx_kernel<int64_t><<<grid, ops::kBlock, 0, stream>>>(g.total, g.C, g.HW, a.x, a.y, a.dy, a.save_mean,
                                                                   a.save_invstd, k_scale, k_mean_g, k_mean_gx,
                                                                   a.relu, a.dx);
  CONVOY_CUDA_CHECK_LAUNCH("batchnorm backward_dx_kernel");
}

}  // namespace convoy::kernels::cuda
