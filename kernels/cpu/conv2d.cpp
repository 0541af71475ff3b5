// The CPU convolution entry points (kernels/conv2d.h): each pass goes to the variant that
// measured fastest on the quick and resnet layers (bench/conv2d_bench.cpp and the table in
// bench/RESULTS.md: 2 threads on the quiet 2-core Zen 3 dev box, GFLOP/s, +-10%):
//   forward:          packed (quick conv2 114 vs 75 for im2col, resnet 64->128 142 vs 107);
//   backward data:    packed (a forward with flipped, channel-transposed filters) when the
//                     layer has at least 16 input channels C (its outputs here): conv2 117
//                     vs 79, resnet 128->256 138 vs 112, and since the 4 x 24 AVX2 tile for
//                     32 rows, quick conv3 (C 32, K 64) too: 5.9 vs 6.6 ms (2026-12-07);
//                     otherwise im2col + col2im (conv1, C 3: 64 vs 37);
//   backward weights: packed (conv2 94 vs 74, conv3 112 vs 86). Few input channels went
//                     to im2col until the packed A panel was copied row by row; since then
//                     packed wins there too on AVX-512 (2026-11-29, Xeon: quick conv1 66 vs
//                     51, resnet 3->64 45 vs 37) and ties on AVX2 (62-73 vs 63).
// Winograd F(2x2, 5x5) takes every pass of a 5x5, stride-1 layer that has at least 16 input
// and 16 output channels and at least 16 output tiles per image (2026-12-07, Zen 3, 2
// threads, ms, Winograd vs packed: quick conv2 forward 7.1 vs 12.1, backward data 6.7 vs
// 11.7, backward weights 6.9 vs 12.6; conv3 3.6 / 3.3 / 3.2 vs 5.6 / 6.2 / 5.9). With fewer
// channels the transforms cost more than the GEMMs save (conv1, 3 input channels, stays
// packed); with fewer tiles the transformed filters, 1.4x (5x5) to 4x (3x3) the filters'
// size, are read once per few images (resnet 256->512 at 8x8 with F(4x4, 3x3), 4 tiles:
// 36.7 vs 28.5 ms forward).
// 3x3 layers stay packed although F(4x4, 3x3) halves resnet's large ones (64->128 at 32x32:
// 15.1 / 16.7 / 23.1 vs 31.2 / 34.2 / 45.6 ms). Its rounding is the 5x5 one's (2e-6 of a
// layer's output, 7x the direct GEMM's), but through resnet's eight convolutions it moves
// the logits of tests/train/pytorch_step_test.cpp's 8-image batch by 6e-6, enough to flip
// a max decision and move every first-step gradient by 3e-3 from PyTorch's float64 step.
// That test holds the step to 1e-4, so 3x3 layers wait for a way to tell such a flip from
// a wrong gradient.
// The packed and Winograd variants run on one thread per image range, so a batch smaller
// than the thread count goes to im2col + sgemm, which parallelises inside sgemm.
#include <omp.h>

#include "kernels/cpu/conv2d_variants.h"

namespace convoy::kernels::cpu {

namespace {

bool batch_fills_threads(const Conv2dShape& s) { return omp_in_parallel() || s.N >= omp_get_max_threads(); }

}  // namespace

ConvChoice conv2d_default_variants(const Conv2dShape& s) {
  const bool fills = batch_fills_threads(s);
  ConvChoice c;
  c.forward = fills ? ConvVariant::packed : ConvVariant::im2col;
  c.backward_data = fills && s.C >= 16 ? ConvVariant::packed : ConvVariant::im2col;
  c.backward_weights = fills ? ConvVariant::packed : ConvVariant::im2col;
  if (fills && conv2d_winograd_applies(s) && s.R == 5 && s.C >= 16 && s.K >= 16 && conv2d_winograd_tiles(s) >= 16)
    c.forward = c.backward_data = c.backward_weights = ConvVariant::winograd;
  return c;
}

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  switch (conv2d_default_variants(s).forward) {
    case ConvVariant::winograd: return conv2d_forward_winograd(s, x, w, bias, y);
    case ConvVariant::packed: return conv2d_forward_packed(s, x, w, bias, y);
    case ConvVariant::im2col: return conv2d_forward_im2col(s, x, w, bias, y);
  }
}

void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  switch (conv2d_default_variants(s).backward_data) {
    case ConvVariant::winograd: return conv2d_backward_data_winograd(s, dy, w, dx);
    case ConvVariant::packed: return conv2d_backward_data_packed(s, dy, w, dx);
    case ConvVariant::im2col: return conv2d_backward_data_im2col(s, dy, w, dx);
  }
}

void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias) {
  switch (conv2d_default_variants(s).backward_weights) {
    case ConvVariant::winograd: return conv2d_backward_weights_winograd(s, x, dy, dw, dbias);
    case ConvVariant::packed: return conv2d_backward_weights_packed(s, x, dy, dw, dbias);
    case ConvVariant::im2col: return conv2d_backward_weights_im2col(s, x, dy, dw, dbias);
  }
}

}  // namespace convoy::kernels::cpu
