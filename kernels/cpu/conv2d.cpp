// The CPU convolution entry points (kernels/conv2d.h): each pass goes to the variant that
// measured fastest on the quick and resnet layers (bench/conv2d_bench.cpp, RESULTS.md).
// The packed variants drive the micro-kernel on one thread per image range, so a batch
// smaller than the thread count goes to im2col + sgemm, which parallelises inside sgemm.
#include <omp.h>

#include "kernels/cpu/conv2d_variants.h"

namespace convoy::kernels::cpu {

namespace {

bool batch_fills_threads(const Conv2dShape& s) {
  return omp_in_parallel() || s.N >= omp_get_max_threads();
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  if (batch_fills_threads(s)) return conv2d_forward_packed(s, x, w, bias, y);
  conv2d_forward_im2col(s, x, w, bias, y);
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  // The packed form's output channels are C here: with few (the image layer) most of the
  // micro-kernel's MR rows would be padding, so im2col + col2im is faster there.
  if (batch_fills_threads(s) && s.C >= 16) return conv2d_backward_data_packed(s, dy, w, dx);
  conv2d_backward_data_im2col(s, dy, w, dx);
}

void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias) {
  if (batch_fills_threads(s)) return conv2d_backward_weights_packed(s, x, dy, dw, dbias);
  conv2d_backward_weights_im2col(s, x, dy, dw, dbias);
}

}  // namespace convoy::kernels::cpu
