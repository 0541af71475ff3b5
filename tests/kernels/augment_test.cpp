// Augmentation + normalisation: reproducible per (seed, epoch, sample id) and independent of
// the batch position, different across epochs, each transform checked pixel by pixel
// against the draw (flip mirrors, crop shifts with normalised zero fill, cutout zeroes its
// square), no augmentation = pure normalisation, the fast path against the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/common/test_util.h"
#include "kernels/augment.h"

namespace convoy {
namespace {

using kernels::AugmentArgs;
using kernels::AugmentDraw;
using test::poisoned;

struct Batch {
  std::vector<uint8_t> images;
  std::vector<uint64_t> ids;
  AugmentArgs args;
  size_t n() const { return static_cast<size_t>(args.N) * args.C * args.H * args.W; }
  uint8_t pixel(int i, int c, int y, int x) const { return images[((size_t(i) * args.C + c) * args.H + y) * args.W + x]; }
  double norm(double v, int c) const { return (v - args.mean[c]) * args.inv_std[c]; }
};

Batch make_batch(int N, int H, int W, uint64_t seed) {
  Batch b;
  b.args.N = N;
  b.args.H = H;
  b.args.W = W;
  Rng rng(seed, 1);
  b.images.resize(static_cast<size_t>(N) * 3 * H * W);
  for (size_t i = 0; i < b.images.size(); ++i) b.images[i] = static_cast<uint8_t>(1 + rng.bits_at(i) % 255);
  for (int i = 0; i < N; ++i) b.ids.push_back(1000 + 17 * i);
  b.args.images = b.images.data();
  b.args.sample_ids = b.ids.data();
  const float mean[3] = {125.3f, 123.0f, 113.9f}, std[3] = {63.0f, 62.1f, 66.7f};
  for (int c = 0; c < 3; ++c) {
    b.args.mean[c] = mean[c];
    b.args.inv_std[c] = 1.0f / std[c];
  }
  b.args.seed = seed;
  b.args.epoch = 3;
  return b;
}

std::vector<float> run(AugmentArgs a, size_t n, bool fast = true) {
  auto out = poisoned(n);
  a.out = out.data();
  if (fast) kernels::cpu::augment_normalize(a);
  else kernels::cpu::augment_normalize_reference(a);
  return out;
}

float at(const std::vector<float>& out, const AugmentArgs& a, int i, int c, int y, int x) {
  return out[((size_t(i) * a.C + c) * a.H + y) * a.W + x];
}

TEST(Augment, NoAugmentationIsPureNormalisation) {
  Batch b = make_batch(5, 32, 32, 1);
  b.args.cutout = 8;  // ignored while augment is off
  for (bool fast : {false, true}) {
    auto out = run(b.args, b.n(), fast);
    for (int i = 0; i < 5; ++i)
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x)
            ASSERT_NEAR(at(out, b.args, i, c, y, x), b.norm(b.pixel(i, c, y, x), c), 1e-5);
  }
}

TEST(Augment, ReproducibleAndIndependentOfBatchPosition) {
  Batch b = make_batch(12, 32, 32, 2);
  b.args.augment = true;
  b.args.cutout = 8;
  auto first = run(b.args, b.n()), again = run(b.args, b.n());
  EXPECT_EQ(first, again);
  // Sample 7 alone, as a batch of one, gets the same pixels.
  Batch one = b;
  one.args.N = 1;
  one.args.images = b.images.data() + 7 * 3 * 32 * 32;
  one.args.sample_ids = b.ids.data() + 7;
  auto alone = run(one.args, 3 * 32 * 32);
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), first.begin() + 7 * 3 * 32 * 32));
}

TEST(Augment, DifferentAcrossEpochs) {
  Batch b = make_batch(12, 32, 32, 3);
  b.args.augment = true;
  auto e3 = run(b.args, b.n());
  b.args.epoch = 4;
  auto e4 = run(b.args, b.n());
  int differing = 0;
  for (int i = 0; i < 12; ++i)
    differing += !std::equal(e3.begin() + i * 3072, e3.begin() + (i + 1) * 3072, e4.begin() + i * 3072);
  EXPECT_GE(differing, 8);
}

TEST(Augment, FlipMirrors) {
  Batch b = make_batch(16, 32, 32, 4);
  b.args.augment = true;
  b.args.crop_pad = 0;
  for (bool fast : {false, true}) {
    auto out = run(b.args, b.n(), fast);
    int flipped = 0;
    for (int i = 0; i < 16; ++i) {
      const bool flip = kernels::augment_draw(b.args, b.ids[i]).flip;
      flipped += flip;
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x)
            ASSERT_NEAR(at(out, b.args, i, c, y, x), b.norm(b.pixel(i, c, y, flip ? 31 - x : x), c), 1e-5);
    }
    EXPECT_GT(flipped, 0);
    EXPECT_LT(flipped, 16);
  }
}

TEST(Augment, CropShiftsWithNormalisedZeroFill) {
  Batch b = make_batch(16, 32, 32, 5);
  b.args.augment = true;
  b.args.flip = false;
  for (bool fast : {false, true}) {
    auto out = run(b.args, b.n(), fast);
    int shifted = 0;
    for (int i = 0; i < 16; ++i) {
      const AugmentDraw d = kernels::augment_draw(b.args, b.ids[i]);
      ASSERT_FALSE(d.flip);
      ASSERT_LE(std::abs(d.dy), 4);
      ASSERT_LE(std::abs(d.dx), 4);
      shifted += d.dy != 0 && d.dx != 0;
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) {
            const int sy = y + d.dy, sx = x + d.dx;
            const bool inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
            ASSERT_NEAR(at(out, b.args, i, c, y, x), b.norm(inside ? b.pixel(i, c, sy, sx) : 0, c), 1e-5)
                << "sample " << i << " dy=" << d.dy << " dx=" << d.dx;
          }
    }
    EXPECT_GT(shifted, 4);
  }
}

TEST(Augment, CutoutZeroesItsSquare) {
  Batch b = make_batch(16, 32, 32, 6);
  b.args.augment = true;
  b.args.crop_pad = 0;
  b.args.flip = false;
  b.args.cutout = 8;
  for (bool fast : {false, true}) {
    auto out = run(b.args, b.n(), fast);
    for (int i = 0; i < 16; ++i) {
      const AugmentDraw d = kernels::augment_draw(b.args, b.ids[i]);
      int zeros = 0;
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) {
            const bool cut = y >= d.cut_y - 4 && y < d.cut_y + 4 && x >= d.cut_x - 4 && x < d.cut_x + 4;
            const float v = at(out, b.args, i, c, y, x);
            if (cut) {
              ASSERT_EQ(v, 0.0f);
              ++zeros;
            } else {
              ASSERT_NEAR(v, b.norm(b.pixel(i, c, y, x), c), 1e-5);
            }
          }
      const int rows = std::min(32, d.cut_y + 4) - std::max(0, d.cut_y - 4);
      const int cols = std::min(32, d.cut_x + 4) - std::max(0, d.cut_x - 4);
      EXPECT_EQ(zeros, 3 * rows * cols) << "clipped at the border";
    }
  }
}

TEST(Augment, FastMatchesReference) {
  struct Shape {
    int N, H, W, pad, cutout;
  };
  for (const Shape& s : {Shape{37, 32, 32, 4, 8}, Shape{9, 7, 9, 2, 3}, Shape{5, 5, 3, 4, 5}}) {
    Batch b = make_batch(s.N, s.H, s.W, 7);
    b.args.augment = true;
    b.args.crop_pad = s.pad;
    b.args.cutout = s.cutout;
    auto ref = run(b.args, b.n(), false), fast = run(b.args, b.n(), true);
    EXPECT_LT(test::rel_error(fast, ref), 1e-6) << s.H << "x" << s.W << " pad " << s.pad;
  }
}

}  // namespace
}  // namespace convoy
