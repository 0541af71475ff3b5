// Argument checks shared by the reference and fast CPU convolutions: the kernels trust
// their pointers but not their shapes, so a bad shape fails with a message, not a crash.
#pragma once
#include "engine/error.h"
#include "kernels/conv2d.h"

namespace convoy::kernels::cpu {

inline void check_conv2d_shape(const Conv2dShape& s, const char* where) {
  if (s.N <= 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 || s.K <= 0 || s.R <= 0 || s.S <= 0)
    fail(where, ": every size must be positive (N=", s.N, " C=", s.C, " H=", s.H, " W=", s.W, " K=", s.K,
         " R=", s.R, " S=", s.S, ")");
  if (s.stride_h <= 0 || s.stride_w <= 0 || s.pad_h < 0 || s.pad_w < 0)
    fail(where, ": strides must be positive and pads non-negative (stride ", s.stride_h, "x", s.stride_w,
         ", pad ", s.pad_h, "x", s.pad_w, ")");
  if (s.H + 2 * s.pad_h < s.R || s.W + 2 * s.pad_w < s.S)
    fail(where, ": the ", s.R, "x", s.S, " window does not fit the ", s.H, "x", s.W, " input padded by ",
         s.pad_h, "x", s.pad_w);
}

}  // namespace convoy::kernels::cpu
