// The input stage of training: uint8 CIFAR images (N, 3, 32, 32) to normalised float32
// (N, 3, 32, 32), with per-sample random crop (zero padding `pad`, then a 32x32 window),
// horizontal flip and cutout (a size x size square, clipped at the border, set to 0 after
// normalisation). Every random choice of sample i comes from
// philox(seed, epoch, sample_id[i]), so it is the same on the CPU and on the GPU, for any
// batch split or thread count. With augmentation off only the normalisation runs.
#pragma once
#include <cstdint>

#include "kernels/exec.h"
#include "kernels/philox.h"

namespace convoy::kernels {

struct AugmentArgs {
  int N = 0;
  int C = 3, H = 32, W = 32;
  const uint8_t* images = nullptr;     // (N, C, H, W)
  const uint64_t* sample_ids = nullptr;  // (N): the sample's index in the data set
  float mean[3] = {0, 0, 0};           // in [0, 255] units
  float inv_std[3] = {1, 1, 1};        // 1 / std, in [0, 255] units
  bool augment = false;
  int crop_pad = 4;
  bool flip = true;
  int cutout = 0;                      // side of the cutout square; 0 = none
  uint64_t seed = 0;
  uint64_t epoch = 0;
  float* out = nullptr;                // (N, C, H, W)
};

// The random choices for one sample, shared by every implementation.
struct AugmentDraw {
  int dy, dx;        // crop offset in [-pad, pad]
  bool flip;
  int cut_y, cut_x;  // cutout centre
};
CONVOY_HD AugmentDraw augment_draw(const AugmentArgs& a, uint64_t sample_id) {
  Philox4 r = philox4x32(a.seed, a.epoch, sample_id);
  AugmentDraw d{0, 0, false, -1000, -1000};
  if (!a.augment) return d;
  if (a.crop_pad > 0) {
    uint32_t span = static_cast<uint32_t>(2 * a.crop_pad + 1);
    d.dy = static_cast<int>(r.v[0] % span) - a.crop_pad;
    d.dx = static_cast<int>(r.v[1] % span) - a.crop_pad;
  }
  d.flip = a.flip && (r.v[2] & 1u);
  if (a.cutout > 0) {
    d.cut_y = static_cast<int>((r.v[3] & 0xFFFFu) % static_cast<uint32_t>(a.H));
    d.cut_x = static_cast<int>((r.v[3] >> 16) % static_cast<uint32_t>(a.W));
  }
  return d;
}

void augment_normalize(const Exec& exec, const AugmentArgs& a);

namespace cpu {
void augment_normalize_reference(const AugmentArgs& a);
void augment_normalize(const AugmentArgs& a);
}  // namespace cpu

namespace cuda {
void augment_normalize(const Exec& exec, const AugmentArgs& a);  // a.images, a.sample_ids, a.out on the device
}

}  // namespace convoy::kernels
