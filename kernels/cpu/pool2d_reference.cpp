// Reference 2-D max / average pooling: plain loops from the definition in kernels/pool2d.h
// (padding never wins a max, averages count only in-bounds elements, max backward goes to
// the first maximal element in row-major window order). Ground truth for the fast versions.
#include <algorithm>
#include <limits>

#include "kernels/cpu/pool2d_check.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cpu {

namespace {

// The in-bounds part of the window of output (p, q): rows [h0, h1), columns [w0, w1).
struct Window {
  int h0, h1, w0, w1;
};

Window window(const Pool2dShape& s, int p, int q) {
  const int hs = p * s.stride_h - s.pad_h, ws = q * s.stride_w - s.pad_w;
  return {std::max(hs, 0), std::min(hs + s.R, s.H), std::max(ws, 0), std::min(ws + s.S, s.W)};
}

}  // namespace

void pool2d_forward_reference(PoolKind kind, const Pool2dShape& s, const float* x, float* y) {
  check_pool2d_shape(s, "pool2d_forward_reference");
  const int P = s.P(), Q = s.Q();
  for (long plane = 0; plane < static_cast<long>(s.N) * s.C; ++plane) {
    const float* xp = x + plane * s.H * s.W;
    float* yp = y + plane * P * Q;
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q) {
        const Window win = window(s, p, q);
        if (kind == PoolKind::max) {
          float best = -std::numeric_limits<float>::infinity();
          for (int h = win.h0; h < win.h1; ++h)
            for (int w = win.w0; w < win.w1; ++w) best = std::max(best, xp[h * s.W + w]);
          yp[p * Q + q] = best;
        } else {
          double sum = 0.0;
          for (int h = win.h0; h < win.h1; ++h)
            for (int w = win.w0; w < win.w1; ++w) sum += xp[h * s.W + w];
          yp[p * Q + q] = static_cast<float>(sum / ((win.h1 - win.h0) * (win.w1 - win.w0)));
        }
      }
  }
}

void pool2d_backward_reference(PoolKind kind, const Pool2dShape& s, const float* x, const float* dy, float* dx) {
  check_pool2d_shape(s, "pool2d_backward_reference");
  const int P = s.P(), Q = s.Q();
  for (long plane = 0; plane < static_cast<long>(s.N) * s.C; ++plane) {
    const float* xp = x + plane * s.H * s.W;
    const float* dyp = dy + plane * P * Q;
    float* dxp = dx + plane * s.H * s.W;
    std::fill(dxp, dxp + s.H * s.W, 0.0f);
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q) {
        const Window win = window(s, p, q);
        const float g = dyp[p * Q + q];
        if (kind == PoolKind::max) {
          int arg = win.h0 * s.W + win.w0;
          for (int h = win.h0; h < win.h1; ++h)
            for (int w = win.w0; w < win.w1; ++w)
              if (xp[h * s.W + w] > xp[arg]) arg = h * s.W + w;
          dxp[arg] += g;
        } else {
          const float share = g / static_cast<float>((win.h1 - win.h0) * (win.w1 - win.w0));
          for (int h = win.h0; h < win.h1; ++h)
            for (int w = win.w0; w < win.w1; ++w) dxp[h * s.W + w] += share;
        }
      }
  }
}

}  // namespace convoy::kernels::cpu
