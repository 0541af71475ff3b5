// The CPU convolution variants behind cpu::conv2d_* (kernels/conv2d.h), kept side by side
// so tests check each against the reference and the benchmark compares them; conv2d.cpp
// picks the default per pass by measurement (see bench/RESULTS.md).
//   im2col: im2col into a (C*R*S, images*P*Q) matrix, then cpu::sgemm; col2im for dx.
//   packed: im2col fused into the GEMM's B-panel packing, driving the sgemm micro-kernel
//           directly (no col matrix, no separate pack pass, no edge tiles); backward
//           data at stride 1 is the packed forward with flipped, transposed filters.
//   winograd: at stride 1, 5x5 windows by Winograd F(2x2, 5x5) and 3x3 windows by F(4x4, 3x3)
//           (conv2d_winograd.cpp); other shapes go to packed.
#pragma once
#include "kernels/conv2d.h"

namespace convoy::kernels::cpu {

// The variant each pass of the default entry points (cpu::conv2d_*) runs for a shape, under
// the current OpenMP thread count: conv2d.cpp decides through this, and the tests list it.
enum class ConvVariant { im2col, packed, winograd };
struct ConvChoice {
  ConvVariant forward, backward_data, backward_weights;
};
ConvChoice conv2d_default_variants(const Conv2dShape& s);

void conv2d_forward_im2col(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data_im2col(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights_im2col(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                    float* dbias);

void conv2d_forward_packed(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data_packed(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights_packed(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                    float* dbias);

bool conv2d_winograd_applies(const Conv2dShape& s);  // a 5x5 or 3x3 window, stride 1
int conv2d_winograd_tiles(const Conv2dShape& s);     // output tiles per image (2x2 or 4x4 each)
void conv2d_forward_winograd(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data_winograd(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights_winograd(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                      float* dbias);

}  // namespace convoy::kernels::cpu
