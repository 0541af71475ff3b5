// Backward data at stride 1 as a forward convolution. dx is the forward convolution of dy
// (K channels of P x Q, zero-padded by R-1-pad, S-1-pad) with the filters flipped in space and
// transposed in channels, w'[c][k][r][s] = w[k][c][R-1-r][S-1-s], giving C channels of H x W.
// The CPU packed and Winograd convolutions and the CUDA implicit_gemm_flipped variant run
// backward data this way, so it needs no gather of its own and no col2im.
#pragma once
#include "engine/error.h"
#include "kernels/conv2d.h"

namespace convoy::kernels {

// The identity holds for stride 1; a pad above R-1 (or S-1) would need a negative pad.
inline bool backward_data_is_flipped_forward(const Conv2dShape& s) {
  return s.stride_h == 1 && s.stride_w == 1 && s.pad_h <= s.R - 1 && s.pad_w <= s.S - 1;
}

// The forward convolution whose output is dx (for shapes where the identity holds).
inline Conv2dShape flipped_forward_shape(const Conv2dShape& s) {
  Conv2dShape t;
  t.N = s.N, t.C = s.K, t.H = s.P(), t.W = s.Q(), t.K = s.C, t.R = s.R, t.S = s.S;
  t.pad_h = s.R - 1 - s.pad_h, t.pad_w = s.S - 1 - s.pad_w;
  return t;
}

// The device flips refuse a filter shape with a size that is not positive.
inline void check_flip_shape(const Conv2dShape& s, const char* op) {
  if (s.K <= 0 || s.C <= 0 || s.R <= 0 || s.S <= 0)
    fail(op, ": invalid filter shape K=", s.K, " C=", s.C, " R=", s.R, " S=", s.S);
}

// flipped (C, K, R, S) = w (K, C, R, S) flipped in space and transposed in channels.
namespace cpu {
void conv2d_flip_filters(const Conv2dShape& s, const float* w, float* flipped);
}
namespace cuda {
void conv2d_flip_filters(const Exec& exec, const Conv2dShape& s, const float* w, float* flipped);
}

}  // namespace convoy::kernels
