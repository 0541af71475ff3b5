// "synthetic": a generated CIFAR-format set for smoke runs, learnable but not trivial. Each
// class has its own pattern (stripes, checks, a square, a disc or a diagonal band) drawn in
// its own pair of colours; every image shifts the pattern by up to +-3 pixels, scales the
// contrast and adds Gaussian noise. Image i of a split is a pure function of (seed, split, i),
// so the set is the same for any thread count.
#include <algorithm>
#include <cmath>

#include "data/source_parts.h"
#include "engine/error.h"
#include "engine/rng.h"

namespace convoy::data::detail {

namespace {

// 1 where class `cls`'s pattern is "on" at (y, x), else 0.
bool pattern_on(int cls, int y, int x) {
  switch (cls % 5) {
    case 0: return (y / 4) % 2 == 0;                             // horizontal stripes
    case 1: return (x / 4) % 2 == 0;                             // vertical stripes
    case 2: return std::abs(y - 16) < 8 && std::abs(x - 16) < 8;  // centred square
    case 3: return (y - 16) * (y - 16) + (x - 16) * (x - 16) < 100;  // disc
    default: return std::abs(y - x) < 5;                           // diagonal band
  }
}

void generate_split(Dataset& d, int n, uint64_t seed, uint64_t split) {
  if (n < 0) fail("synthetic data: negative size ", n);
  d.class_names = cifar10_class_names();
  d.labels.resize(n);
  d.images.resize(static_cast<size_t>(n) * kImageBytes);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    Rng rng(seed, split * 0x100000000ull + static_cast<uint64_t>(i));
    const int cls = i % 10;
    d.labels[i] = cls;
    // Two colours per class: the "on" colour depends on cls, the "off" colour on cls / 5.
    const float on[3] = {cls & 1 ? 220.f : 60.f, cls & 2 ? 210.f : 50.f, cls & 4 ? 200.f : 70.f};
    const float off[3] = {cls < 5 ? 90.f : 160.f, 120.f, cls < 5 ? 160.f : 90.f};
    const int sy = static_cast<int>(rng.next_below(7)) - 3, sx = static_cast<int>(rng.next_below(7)) - 3;
    const float contrast = 0.6f + 0.4f * rng.next_uniform();
    uint8_t* img = d.images.data() + static_cast<size_t>(i) * kImageBytes;
    uint64_t draw = 16;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < kImageSide; ++y)
        for (int x = 0; x < kImageSide; ++x) {
          float base = pattern_on(cls, y - sy, x - sx) ? on[c] : off[c];
          float v = 128.f + contrast * (base - 128.f) + 30.f * rng.normal_at(draw++);
          img[(c * kImageSide + y) * kImageSide + x] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
        }
  }
}

}  // namespace

CifarData load_synthetic(const LoadOptions& options) {
  CifarData data;
  data.synthetic = true;
  data.source = "synthetic (generated, seed " + std::to_string(options.synthetic_seed) + ")";
  generate_split(data.train, options.synthetic_train, options.synthetic_seed, 1);
  data.train.origin = "synthetic train";
  if (options.load_test) {
    generate_split(data.test, options.synthetic_test, options.synthetic_seed, 2);
    data.test.origin = "synthetic test";
  }
  return data;
}

}  // namespace convoy::data::detail
