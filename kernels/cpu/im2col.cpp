// im2col / col2im. Each col row is one filter tap (c, r, s); for each output row p the
// taps read one input row, so the work is a run of copies (stride 1: contiguous, the
// compiler vectorises them as memcpy/adds) with the padded ends zero-filled or skipped.
// Computing the valid q range once per (tap, row) keeps bounds checks out of inner loops.
#include "kernels/cpu/im2col.h"

#include <algorithm>
#include <cstring>

namespace convoy::kernels::cpu {

namespace {

// Output columns q whose input column q*stride - pad + t lies inside [0, W): [lo, hi).
inline void valid_q_range(int t, int stride, int pad, int W, int Q, int& lo, int& hi) {
  // q*stride >= pad - t  and  q*stride <= W - 1 + pad - t
  const int a = pad - t;
  lo = a <= 0 ? 0 : (a + stride - 1) / stride;
  const int b = W - 1 + pad - t;
  hi = b < 0 ? 0 : std::min(Q, b / stride + 1);
  if (lo > hi) lo = hi;
}

}  // namespace

void im2col(const Conv2dShape& s, const float* x, float* col, int ld) {
  const int P = s.P(), Q = s.Q();
  const int sh = s.stride_h, sw = s.stride_w;
  for (int c = 0; c < s.C; ++c) {
    const float* xc = x + static_cast<size_t>(c) * s.H * s.W;
    for (int r = 0; r < s.R; ++r)
      for (int t = 0; t < s.S; ++t) {
        float* row = col + static_cast<size_t>((c * s.R + r) * s.S + t) * ld;
        int lo, hi;
        valid_q_range(t, sw, s.pad_w, s.W, Q, lo, hi);
        for (int p = 0; p < P; ++p) {
          float* out = row + static_cast<size_t>(p) * Q;
          const int h = p * sh - s.pad_h + r;
          if (h < 0 || h >= s.H) {
            std::fill(out, out + Q, 0.0f);
            continue;
          }
          std::fill(out, out + lo, 0.0f);
          const float* in = xc + static_cast<size_t>(h) * s.W + (lo * sw - s.pad_w + t);
          if (sw == 1) {
            std::memcpy(out + lo, in, sizeof(float) * (hi - lo));
          } else {
            for (int q = lo; q < hi; ++q) out[q] = in[(q - lo) * sw];
          }
          std::fill(out + hi, out + Q, 0.0f);
        }
      }
  }
}

void col2im(const Conv2dShape& s, const float* col, int ld, float* dx) {
  const int P = s.P(), Q = s.Q();
  const int sh = s.stride_h, sw = s.stride_w;
  std::fill(dx, dx + static_cast<size_t>(s.C) * s.H * s.W, 0.0f);
  for (int c = 0; c < s.C; ++c) {
    float* dxc = dx + static_cast<size_t>(c) * s.H * s.W;
    for (int r = 0; r < s.R; ++r)
      for (int t = 0; t < s.S; ++t) {
        const float* row = col + static_cast<size_t>((c * s.R + r) * s.S + t) * ld;
        int lo, hi;
        valid_q_range(t, sw, s.pad_w, s.W, Q, lo, hi);
        for (int p = 0; p < P; ++p) {
          const int h = p * sh - s.pad_h + r;
          if (h < 0 || h >= s.H) continue;
          const float* in = row + static_cast<size_t>(p) * Q;
          float* out = dxc + static_cast<size_t>(h) * s.W + (lo * sw - s.pad_w + t);
          if (sw == 1) {
            for (int q = lo; q < hi; ++q) out[q - lo] += in[q];
          } else {
            for (int q = lo; q < hi; ++q) out[(q - lo) * sw] += in[q];
          }
        }
      }
  }
}

}  // namespace convoy::kernels::cpu
