// im2col / col2im for one image of a 2-D convolution (NCHW input, KCRS filters).
//   x   (C, H, W)         one image
//   col (C*R*S, ld)       row (c, r, s) holds, from column 0, the P*Q input values that
//                         filter tap (c, r, s) meets across the output map (0 in padding)
// ld >= P*Q lets several images sit side by side in one wide matrix (image i at column
// i*P*Q), so one GEMM covers several images when P*Q alone is too small to be efficient.
#pragma once
#include "kernels/conv2d.h"

namespace convoy::kernels::cpu {

// Writes the C*R*S x P*Q block of col (row stride ld) for image x.
void im2col(const Conv2dShape& s, const float* x, float* col, int ld);

// Assigns dx (C, H, W): every element gets the sum of the col entries that im2col would
// have copied from it (the adjoint of im2col). Fixed summation order: deterministic.
void col2im(const Conv2dShape& s, const float* col, int ld, float* dx);

}  // namespace convoy::kernels::cpu
