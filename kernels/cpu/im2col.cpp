// im2col / col2im through a zero-bordered copy of one input plane.
//
// Each col row is one filter tap (c, r, s) and holds, for every output row p, a run of Q
// values from one row of the padded plane. Copying the plane once into a buffer whose
// border is zero (Hp x Wp, kept per thread) removes every bounds check and zero-fill from
// the tap loops: a run is a plain (stride-1: vectorised) copy. This matters for the small
// late-layer maps (8x8, 4x4), where per-run call and branch overhead used to dominate.
// col2im is the adjoint: runs are added into a zeroed padded plane whose interior is then
// copied out, in a fixed order (deterministic).
#include "kernels/cpu/im2col.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/thread_scratch.h"

namespace convoy::kernels::cpu {

void im2col(const Conv2dShape& s, const float* x, float* col, int ld) {
  const int P = s.P(), Q = s.Q();
  const int sh = s.stride_h, sw = s.stride_w;
  const int Wp = s.W + 2 * s.pad_w, Hp = s.H + 2 * s.pad_h;
  const bool padded = s.pad_h > 0 || s.pad_w > 0;
  float* plane = padded ? thread_scratch_as<float>(ScratchSlot::im2col_plane, static_cast<size_t>(Hp) * Wp) : nullptr;
  if (padded) std::fill(plane, plane + static_cast<size_t>(Hp) * Wp, 0.0f);  // the border stays zero
  for (int c = 0; c < s.C; ++c) {
    const float* xc = x + static_cast<size_t>(c) * s.H * s.W;
    const float* src = xc;
    if (padded) {
      for (int h = 0; h < s.H; ++h)
        std::memcpy(plane + static_cast<size_t>(h + s.pad_h) * Wp + s.pad_w, xc + static_cast<size_t>(h) * s.W,
                    sizeof(float) * s.W);
      src = plane;
    }
    for (int r = 0; r < s.R; ++r)
      for (int t = 0; t < s.S; ++t) {
        float* __restrict row = col + static_cast<size_t>((c * s.R + r) * s.S + t) * ld;
        for (int p = 0; p < P; ++p) {
          const float* __restrict in = src + static_cast<size_t>(p * sh + r) * Wp + t;
          float* __restrict out = row + static_cast<size_t>(p) * Q;
          if (sw == 1) {
            for (int q = 0; q < Q; ++q) out[q] = in[q];
          } else {
            for (int q = 0; q < Q; ++q) out[q] = in[q * sw];
          }
        }
      }
  }
}

void col2im(const Conv2dShape& s, const float* col, int ld, float* dx) {
  const int P = s.P(), Q = s.Q();
  const int sh = s.stride_h, sw = s.stride_w;
  const int Wp = s.W + 2 * s.pad_w, Hp = s.H + 2 * s.pad_h;
  float* plane = thread_scratch_as<float>(ScratchSlot::im2col_plane, static_cast<size_t>(Hp) * Wp);
  for (int c = 0; c < s.C; ++c) {
    std::fill(plane, plane + static_cast<size_t>(Hp) * Wp, 0.0f);
    for (int r = 0; r < s.R; ++r)
      for (int t = 0; t < s.S; ++t) {
        const float* __restrict row = col + static_cast<size_t>((c * s.R + r) * s.S + t) * ld;
        for (int p = 0; p < P; ++p) {
          float* __restrict out = plane + static_cast<size_t>(p * sh + r) * Wp + t;
          const float* __restrict in = row + static_cast<size_t>(p) * Q;
          if (sw == 1) {
            for (int q = 0; q < Q; ++q) out[q] += in[q];
          } else {
            for (int q = 0; q < Q; ++q) out[q * sw] += in[q];
          }
        }
      }
    float* dxc = dx + static_cast<size_t>(c) * s.H * s.W;
    for (int h = 0; h < s.H; ++h)
      std::memcpy(dxc + static_cast<size_t>(h) * s.W, plane + static_cast<size_t>(h + s.pad_h) * Wp + s.pad_w,
                  sizeof(float) * s.W);
  }
}

}  // namespace convoy::kernels::cpu
