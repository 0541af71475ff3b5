// Reference 2-D convolution: plain loops straight from the definition, double accumulation.
// These are the ground truth the fast CPU and CUDA versions are tested against; they are
// written for clarity, not speed.
#include <algorithm>
#include <vector>

#include "engine/error.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_check.h"

namespace convoy::kernels::cpu {

namespace {

// Index helpers for the NCHW / KCRS layouts.
inline size_t at4(int a, int b, int c, int d, int B, int C, int D) {
  return ((static_cast<size_t>(a) * B + b) * C + c) * D + d;
}

}  // namespace

void conv2d_forward_reference(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  check_conv2d_shape(s, "conv2d_forward_reference");
  const int P = s.P(), Q = s.Q();
  for (int n = 0; n < s.N; ++n)
    for (int k = 0; k < s.K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          double acc = bias ? bias[k] : 0.0;
          for (int c = 0; c < s.C; ++c)
            for (int r = 0; r < s.R; ++r) {
              const int h = p * s.stride_h - s.pad_h + r;
              if (h < 0 || h >= s.H) continue;
              for (int t = 0; t < s.S; ++t) {
                const int wi = q * s.stride_w - s.pad_w + t;
                if (wi < 0 || wi >= s.W) continue;
                acc += static_cast<double>(x[at4(n, c, h, wi, s.C, s.H, s.W)]) * w[at4(k, c, r, t, s.C, s.R, s.S)];
              }
            }
          y[at4(n, k, p, q, s.K, P, Q)] = static_cast<float>(acc);
        }
}

void conv2d_backward_data_reference(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  check_conv2d_shape(s, "conv2d_backward_data_reference");
  const int P = s.P(), Q = s.Q();
  // Scatter in double, then assign: dx[n,c,h,w] = sum over (k,p,q,r,s) that touch (h,w).
  std::vector<double> acc(static_cast<size_t>(s.C) * s.H * s.W);
  for (int n = 0; n < s.N; ++n) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int k = 0; k < s.K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          const double g = dy[at4(n, k, p, q, s.K, P, Q)];
          for (int c = 0; c < s.C; ++c)
            for (int r = 0; r < s.R; ++r) {
              const int h = p * s.stride_h - s.pad_h + r;
              if (h < 0 || h >= s.H) continue;
              for (int t = 0; t < s.S; ++t) {
                const int wi = q * s.stride_w - s.pad_w + t;
                if (wi < 0 || wi >= s.W) continue;
                acc[(static_cast<size_t>(c) * s.H + h) * s.W + wi] += g * w[at4(k, c, r, t, s.C, s.R, s.S)];
              }
            }
        }
    float* dxn = dx + static_cast<size_t>(n) * s.C * s.H * s.W;
    for (size_t i = 0; i < acc.size(); ++i) dxn[i] = static_cast<float>(acc[i]);
  }
}

void conv2d_backward_weights_reference(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                       float* dbias) {
  check_conv2d_shape(s, "conv2d_backward_weights_reference");
  const int P = s.P(), Q = s.Q();
  for (int k = 0; k < s.K; ++k) {
    for (int c = 0; c < s.C; ++c)
      for (int r = 0; r < s.R; ++r)
        for (int t = 0; t < s.S; ++t) {
          double acc = 0.0;
          for (int n = 0; n < s.N; ++n)
            for (int p = 0; p < P; ++p) {
              const int h = p * s.stride_h - s.pad_h + r;
              if (h < 0 || h >= s.H) continue;
              for (int q = 0; q < Q; ++q) {
                const int wi = q * s.stride_w - s.pad_w + t;
                if (wi < 0 || wi >= s.W) continue;
                acc += static_cast<double>(dy[at4(n, k, p, q, s.K, P, Q)]) * x[at4(n, c, h, wi, s.C, s.H, s.W)];
              }
            }
          dw[at4(k, c, r, t, s.C, s.R, s.S)] += static_cast<float>(acc);
        }
    if (dbias) {
      double acc = 0.0;
      for (int n = 0; n < s.N; ++n)
        for (int pq = 0; pq < P * Q; ++pq) acc += dy[(static_cast<size_t>(n) * s.K + k) * P * Q + pq];
      dbias[k] += static_cast<float>(acc);
    }
  }
}

}  // namespace convoy::kernels::cpu
