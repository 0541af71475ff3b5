// Argument checks shared by the reference and fast CPU pooling.
#pragma once
#include "engine/error.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cpu {

inline void check_pool2d_shape(const Pool2dShape& s, const char* where) {
  if (s.N <= 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 || s.R <= 0 || s.S <= 0)
    fail(where, ": every size must be positive (N=", s.N, " C=", s.C, " H=", s.H, " W=", s.W, " R=", s.R,
         " S=", s.S, ")");
  if (s.stride_h <= 0 || s.stride_w <= 0)
    fail(where, ": strides must be positive (", s.stride_h, "x", s.stride_w, ")");
  // pad < window keeps at least one real element in every window (nothing to max or average otherwise).
  if (s.pad_h < 0 || s.pad_w < 0 || s.pad_h >= s.R || s.pad_w >= s.S)
    fail(where, ": pads must be in [0, window) (pad ", s.pad_h, "x", s.pad_w, ", window ", s.R, "x", s.S, ")");
  if (s.H + 2 * s.pad_h < s.R || s.W + 2 * s.pad_w < s.S)
    fail(where, ": the ", s.R, "x", s.S, " window does not fit the ", s.H, "x", s.W, " input padded by ",
         s.pad_h, "x", s.pad_w);
}

}  // namespace convoy::kernels::cpu
