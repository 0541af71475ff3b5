// The filter flip of kernels/conv2d_flip.h on the GPU: one thread per element of the flipped
// (C, K, R, S) tensor, writing it in order (coalesced) and reading w's taps in reverse within a
// (k, c) filter. A permutation of about 0.1-2.4 MB per layer: far below the convolution it feeds.
#include <cuda_runtime.h>

#include "kernels/conv2d_flip.h"
#include "kernels/cuda/cuda_util.cuh"

namespace convoy::kernels::cuda {
namespace {

__global__ void flip_filters_kernel(int C, int K, int taps, long long count, const float* w, float* flipped) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int t = static_cast<int>(i % taps);
  const long long ck = i / taps;
  const int k = static_cast<int>(ck % K), c = static_cast<int>(ck / K);
  flipped[i] = w[(static_cast<long long>(k) * C + c) * taps + (taps - 1 - t)];
}

}  // namespace

void conv2d_flip_filters(const Exec& exec, const Conv2dShape& s, const float* w, float* flipped) {
  check_flip_shape(s, "cuda conv2d_flip_filters");
  DeviceGuard guard(exec.device);
  const int taps = s.R * s.S;
  const long long count = static_cast<long long>(s.K) * s.C * taps;
  launch_checked("conv2d_flip_filters", flip_filters_kernel, dim3(static_cast<unsigned>(ceil_div(count, 256))),
                 dim3(256), 0, stream_of(exec), s.C, s.K, taps, count, w, flipped);
}

}  // namespace convoy::kernels::cuda
