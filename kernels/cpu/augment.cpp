// The input stage on the CPU: uint8 images to normalised float, with the per-sample crop,
// flip and cutout of kernels::augment_draw (the same draws as the CUDA path).
// Conventions, shared with the CUDA kernel; for output pixel (y, x) of sample i:
//   crop:    source row y + dy; source column x + dx, or (W - 1 - x) + dx when flipped
//            (crop first, then mirror the 32x32 window, as torchvision's RandomCrop then
//            RandomHorizontalFlip); a source outside the image is a zero pixel, which is then
//            normalised like any other: (0 - mean) * inv_std.
//   cutout:  rows [cut_y - size/2, cut_y - size/2 + size) and the same for columns, clipped to
//            the image, set to exactly 0 after normalisation, in output coordinates.
// The fast version runs samples in parallel (static schedule) and works row by row: it finds
// the valid column span once per row, so the inner loops are plain convert-and-FMA over a
// contiguous (or reversed) run of bytes, which GCC vectorises.
#include <cstdint>

#include "engine/error.h"
#include "kernels/augment.h"

namespace convoy::kernels::cpu {

namespace {

void check(const AugmentArgs& a, const char* where) {
  if (a.N < 0 || a.C <= 0 || a.C > 3 || a.H <= 0 || a.W <= 0)
    fail(where, ": shape N=", a.N, " C=", a.C, " H=", a.H, " W=", a.W, " (C must be 1..3)");
  if (a.augment && (a.crop_pad < 0 || a.cutout < 0))
    fail(where, ": crop_pad ", a.crop_pad, " and cutout ", a.cutout, " must not be negative");
}

bool in_cutout(const AugmentArgs& a, const AugmentDraw& d, int y, int x) {
  if (a.cutout <= 0) return false;
  const int y0 = d.cut_y - a.cutout / 2, x0 = d.cut_x - a.cutout / 2;
  return y >= y0 && y < y0 + a.cutout && x >= x0 && x < x0 + a.cutout;
}

}  // namespace

void augment_normalize_reference(const AugmentArgs& a) {
  check(a, "augment_normalize_reference");
  for (int i = 0; i < a.N; ++i) {
    const AugmentDraw d = augment_draw(a, a.sample_ids[i]);
    for (int c = 0; c < a.C; ++c)
      for (int y = 0; y < a.H; ++y)
        for (int x = 0; x < a.W; ++x) {
          const int sy = y + d.dy, sx = (d.flip ? a.W - 1 - x : x) + d.dx;
          double pixel = 0;
          if (sy >= 0 && sy < a.H && sx >= 0 && sx < a.W)
            pixel = a.images[((static_cast<int64_t>(i) * a.C + c) * a.H + sy) * a.W + sx];
          double v = (pixel - a.mean[c]) * a.inv_std[c];
          if (in_cutout(a, d, y, x)) v = 0;
          a.out[((static_cast<int64_t>(i) * a.C + c) * a.H + y) * a.W + x] = static_cast<float>(v);
        }
  }
}

void augment_normalize(const AugmentArgs& a) {
  check(a, "augment_normalize");
  const int64_t plane = static_cast<int64_t>(a.H) * a.W;
#pragma omp parallel for schedule(static) if (a.N > 8)
  for (int i = 0; i < a.N; ++i) {
    const AugmentDraw d = augment_draw(a, a.sample_ids[i]);
    // Output columns whose source column lies inside the image: [x_lo, x_hi).
    int x_lo, x_hi;
    if (!d.flip) {  // sx = x + dx
      x_lo = d.dx < 0 ? -d.dx : 0;
      x_hi = d.dx > 0 ? a.W - d.dx : a.W;
    } else {        // sx = W - 1 - x + dx
      x_lo = d.dx > 0 ? d.dx : 0;
      x_hi = d.dx < 0 ? a.W + d.dx : a.W;
    }
    if (x_lo > a.W) x_lo = a.W;  // shifts wider than the image leave no valid column
    if (x_hi < x_lo) x_hi = x_lo;
    const int cut_y0 = d.cut_y - a.cutout / 2, cut_x0 = d.cut_x - a.cutout / 2;
    for (int c = 0; c < a.C; ++c) {
      const uint8_t* __restrict src = a.images + (static_cast<int64_t>(i) * a.C + c) * plane;
      float* __restrict dst = a.out + (static_cast<int64_t>(i) * a.C + c) * plane;
      const float scale = a.inv_std[c], bias = -a.mean[c] * a.inv_std[c];
      for (int y = 0; y < a.H; ++y) {
        float* __restrict row = dst + static_cast<int64_t>(y) * a.W;
        const int sy = y + d.dy;
        if (sy < 0 || sy >= a.H) {
          for (int x = 0; x < a.W; ++x) row[x] = bias;
        } else {
          for (int x = 0; x < x_lo; ++x) row[x] = bias;
          for (int x = x_hi; x < a.W; ++x) row[x] = bias;
          const uint8_t* __restrict srow = src + static_cast<int64_t>(sy) * a.W;
          if (!d.flip) {
            const uint8_t* __restrict s = srow + d.dx;
            for (int x = x_lo; x < x_hi; ++x) row[x] = static_cast<float>(s[x]) * scale + bias;
          } else {
            const uint8_t* __restrict s = srow + (a.W - 1 + d.dx);
            for (int x = x_lo; x < x_hi; ++x) row[x] = static_cast<float>(s[-x]) * scale + bias;
          }
        }
        if (a.cutout > 0 && y >= cut_y0 && y < cut_y0 + a.cutout) {
          const int x0 = cut_x0 < 0 ? 0 : cut_x0, x1 = cut_x0 + a.cutout < a.W ? cut_x0 + a.cutout : a.W;
          for (int x = x0; x < x1; ++x) row[x] = 0.0f;
        }
      }
    }
  }
}

}  // namespace convoy::kernels::cpu
