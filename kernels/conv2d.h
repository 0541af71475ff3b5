// 2-D convolution, NCHW activations, KCRS weights (K output channels, C input channels,
// R x S window), any stride and zero padding. Cross-correlation, as in every DL framework.
//   x (N, C, H, W)   w (K, C, R, S)   bias (K) or null   y (N, K, P, Q)
// Contracts (dlib's rule): forward assigns y; backward_data assigns dx;
// backward_weights ADDS into dw and dbias (dbias may be null).
#pragma once
#include "kernels/exec.h"

namespace convoy::kernels {

struct Conv2dShape {
  int N = 0, C = 0, H = 0, W = 0;  // input
  int K = 0, R = 0, S = 0;         // filters
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  CONVOY_HD int P() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  CONVOY_HD int Q() const { return (W + 2 * pad_w - S) / stride_w + 1; }
};

void conv2d_forward(const Exec& exec, const Conv2dShape& s, const float* x, const float* w,
                    const float* bias, float* y);
void conv2d_backward_data(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy,
                             float* dw, float* dbias);

namespace cpu {
void conv2d_forward_reference(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data_reference(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights_reference(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias);
void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cpu

namespace cuda {
void conv2d_forward(const Exec& exec, const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weights(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cuda

}  // namespace convoy::kernels
