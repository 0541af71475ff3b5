// CUDA softmax cross-entropy with label smoothing (contract in kernels/loss.h).
// One warp per row: lanes stride over the K logits, so a warp reads a row contiguously;
// the row max, the exp-sum and the logit sum are warp butterflies (fixed order, so results
// are bit-identical run to run), then the lanes write dlogits in the same stride. K is
// small (10 to 1000) and rows are independent, so this is bound by reading the logits and
// writing the gradient once; 8 rows per 256-thread block.
// Labels live on the device, so a label outside [0, K) cannot throw: that row's loss and
// gradient are written as NaN (and z[label] is never read), which the training loop's
// non-finite-loss check reports.
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/cuda/ops_launch.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/loss.h"

namespace convoy::kernels::cuda {

namespace {

constexpr int kRowsPerBlock = 8;

__global__ void softmax_xent_kernel(int N, int K, const float* __restrict__ logits, const int32_t* __restrict__ labels,
                                    float on, float off, float grad_scale, float* __restrict__ loss,
                                    float* __restrict__ dlogits) {
  const int lane = threadIdx.x % kWarpSize;
  const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (row >= N) return;  // uniform per warp
  const float* z = logits + static_cast<int64_t>(row) * K;
  float* d = dlogits ? dlogits + static_cast<int64_t>(row) * K : nullptr;
  const int label = labels[row];
  if (label < 0 || label >= K) {
    const float nan = __int_as_float(0x7fc00000);
    if (lane == 0) loss[row] = nan;
    if (d)
      for (int k = lane; k < K; k += kWarpSize) d[k] = nan;
    return;
  }
  float m = -INFINITY;
  for (int k = lane; k < K; k += kWarpSize) m = fmaxf(m, z[k]);
  m = warp_max(m);
  float e = 0.0f, zsum = 0.0f;
  for (int k = lane; k < K; k += kWarpSize) {
    e += expf(z[k] - m);
    zsum += z[k];
  }
  e = warp_sum(e);
  zsum = warp_sum(zsum);
  const float lse = m + logf(e);
  if (lane == 0) loss[row] = lse - on * z[label] - off * zsum;
  if (d)
    for (int k = lane; k < K; k += kWarpSize) {
      float v = grad_scale * (expf(z[k] - lse) - off);
      if (k == label) v -= grad_scale * on;
      d[k] = v;
    }
}

}  // namespace

void softmax_cross_entropy(const Exec& exec, const SoftmaxXentArgs& a) {
  if (a.N < 0 || a.K <= 0) fail("cuda::softmax_cross_entropy: N=", a.N, " K=", a.K, " (K must be positive)");
  if (a.N == 0) return;
  if (!a.logits || !a.labels || !a.loss) fail("cuda::softmax_cross_entropy: null logits, labels or loss");
  DeviceGuard guard(exec.device);
  const float on = 1.0f - a.smoothing, off = a.smoothing / static_cast<float>(a.K);
  const unsigned blocks = static_cast<unsigned>((a.N + kRowsPerBlock - 1) / kRowsPerBlock);
  softmax_xent_kernel<<<blocks, kRowsPerBlock * kWarpSize, 0, stream_of(exec)>>>(
      a.N, a.K, a.logits, a.labels, on, off, a.grad_scale, a.loss, a.dlogits);
  CONVOY_CUDA_CHECK_LAUNCH("softmax_xent_kernel");
}

}  // namespace convoy::kernels::cuda
