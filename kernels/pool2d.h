// 2-D max and average pooling, NCHW, window R x S, any stride, zero padding (padding never
// wins a max; average divides by the number of in-bounds elements, count_include_pad=false).
//   x (N, C, H, W)  y (N, C, P, Q)
// Max backward routes each dy to the FIRST maximal element of its window (row-major
// order), recomputed from x: no index tensor, deterministic. backward assigns dx.
#pragma once
#include "kernels/exec.h"

namespace convoy::kernels {

enum class PoolKind { max, avg };

struct Pool2dShape {
  int N = 0, C = 0, H = 0, W = 0;
  int R = 2, S = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
  CONVOY_HD int P() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  CONVOY_HD int Q() const { return (W + 2 * pad_w - S) / stride_w + 1; }
};

void pool2d_forward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, float* y);
void pool2d_backward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, const float* dy,
                     float* dx);

namespace cpu {
void pool2d_forward_reference(PoolKind kind, const Pool2dShape& s, const float* x, float* y);
void pool2d_backward_reference(PoolKind kind, const Pool2dShape& s, const float* x, const float* dy, float* dx);
void pool2d_forward(PoolKind kind, const Pool2dShape& s, const float* x, float* y);
void pool2d_backward(PoolKind kind, const Pool2dShape& s, const float* x, const float* dy, float* dx);
}  // namespace cpu

namespace cuda {
void pool2d_forward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, float* y);
void pool2d_backward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, const float* dy, float* dx);
}  // namespace cuda

}  // namespace convoy::kernels
