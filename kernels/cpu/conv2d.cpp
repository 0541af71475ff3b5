// The CPU convolution entry points (kernels/conv2d.h): each pass goes to the variant that
// measured fastest on the quick and resnet layers (bench/conv2d_bench.cpp, RESULTS.md;
// single-thread CPU-time GFLOP/s on the 2-core Zen 3 dev box, Nov 2026, noisy +-15%):
//   forward:          packed (quick conv1 50-56 vs 36-49, conv2 68 vs 48, conv3 50-66
//                     vs 42-57);
//   backward data:    packed (a forward with flipped, transposed filters) unless the layer
//                     has few input channels C (its output channels here): 2 threads, wall
//                     clock, quick conv2 34 vs 29, conv3 22 vs 17, resnet 128->256 41 vs
//                     32; conv1 (C 3) im2col + col2im 17 vs 10. (Single-thread CPU time
//                     favoured im2col on conv3; the 2-thread figure is the one that counts.)
//   backward weights: packed (conv2 61-63 vs 47-48, conv3 63-74 vs 44-58; conv1, once its
//                     15-tap filter rows got 16-wide panels, 28 vs 25).
// The packed variants run the micro-kernel on one thread per image range, so a batch
// smaller than the thread count goes to im2col + sgemm, which parallelises inside sgemm.
#include <omp.h>

#include "kernels/cpu/conv2d_variants.h"

namespace convoy::kernels::cpu {

namespace {

bool batch_fills_threads(const Conv2dShape& s) { return omp_in_parallel() || s.N >= omp_get_max_threads(); }

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  if (batch_fills_threads(s)) return conv2d_forward_packed(s, x, w, bias, y);
  conv2d_forward_im2col(s, x, w, bias, y);
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  if (batch_fills_threads(s) && s.C >= 16) return conv2d_backward_data_packed(s, dy, w, dx);
  conv2d_backward_data_im2col(s, dy, w, dx);
}

void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias) {
  if (batch_fills_threads(s)) return conv2d_backward_weights_packed(s, x, dy, dw, dbias);
  conv2d_backward_weights_im2col(s, x, dy, dw, dbias);
}

}  // namespace convoy::kernels::cpu
