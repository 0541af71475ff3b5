// The CPU convolution entry points (kernels/conv2d.h): each pass goes to the variant that
// measured fastest on the quick and resnet layers (bench/conv2d_bench.cpp, RESULTS.md;
// single-thread CPU-time GFLOP/s, Zen 3 AVX2, Nov 2026):
//   forward:          packed (quick conv2 57 vs 46, conv3 66 vs 58), except few input
//                     channels (the image layer, C*R*S = 75: im2col 52 vs 48);
//   backward data:    im2col + col2im (the packed form, a forward with flipped filters,
//                     only ties on wide layers and loses on thin ones: conv3 60 vs 52);
//   backward weights: packed (conv2 55 vs 49, conv3 68 vs 58), except few input channels
//                     (conv1: im2col 33 vs 25).
// The packed variants run the micro-kernel on one thread per image range, so a batch
// smaller than the thread count goes to im2col + sgemm, which parallelises inside sgemm.
#include <omp.h>

#include "kernels/cpu/conv2d_variants.h"

namespace convoy::kernels::cpu {

namespace {

constexpr int kPackedMinChannels = 8;

bool use_packed(const Conv2dShape& s) {
  const bool batch_fills_threads = omp_in_parallel() || s.N >= omp_get_max_threads();
  return batch_fills_threads && s.C >= kPackedMinChannels;
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  if (use_packed(s)) return conv2d_forward_packed(s, x, w, bias, y);
  conv2d_forward_im2col(s, x, w, bias, y);
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  conv2d_backward_data_im2col(s, dy, w, dx);
}

void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias) {
  if (use_packed(s)) return conv2d_backward_weights_packed(s, x, dy, dw, dbias);
  conv2d_backward_weights_im2col(s, x, dy, dw, dbias);
}

}  // namespace convoy::kernels::cpu
