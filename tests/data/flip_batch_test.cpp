// flip_batch: every row reversed, channels and rows kept, in both batch forms; twice is the
// identity; labels and position travel along; a batch whose pixel count is wrong is refused.
#include <gtest/gtest.h>

#include "data/flip_batch.h"
#include "engine/error.h"
#include "tests/common/test_util.h"

namespace convoy::data {
namespace {

Batch two_images() {
  Batch b;
  b.size = 2;
  b.index = 7;
  b.epoch = 3;
  b.labels = {4, 9};
  b.ids = {11, 12};
  b.raw.resize(2 * kImageBytes);
  for (size_t i = 0; i < b.raw.size(); ++i) b.raw[i] = static_cast<uint8_t>(1 + (i * 37) % 251);
  b.images = test::random_vector(2 * kImageBytes, 3);
  return b;
}

TEST(MirrorBatch, ReversesEveryRowOfBothForms) {
  const Batch in = two_images();
  Batch out;
  flip_batch(in, out);
  ASSERT_EQ(out.raw.size(), in.raw.size());
  ASSERT_EQ(out.images.size(), in.images.size());
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < kImageChannels; ++c)
      for (int y = 0; y < kImageSide; ++y)
        for (int x = 0; x < kImageSide; ++x) {
          const size_t at = ((static_cast<size_t>(n) * kImageChannels + c) * kImageSide + y) * kImageSide;
          ASSERT_EQ(out.raw[at + x], in.raw[at + kImageSide - 1 - x]) << n << " " << c << " " << y << " " << x;
          ASSERT_EQ(out.images[at + x], in.images[at + kImageSide - 1 - x]);
        }
  EXPECT_EQ(out.labels, in.labels);
  EXPECT_EQ(out.ids, in.ids);
  EXPECT_EQ(out.size, 2);
  EXPECT_EQ(out.index, 7);
  EXPECT_EQ(out.epoch, 3u);
  Batch back;
  flip_batch(out, back);
  EXPECT_EQ(back.raw, in.raw);
  EXPECT_EQ(back.images, in.images);
}

TEST(MirrorBatch, RefusesAWrongPixelCount) {
  Batch b = two_images();
  b.raw.pop_back();
  Batch out;
  EXPECT_THROW(flip_batch(b, out), Error);
  b = two_images();
  b.size = 3;
  EXPECT_THROW(flip_batch(b, out), Error);
}

}  // namespace
}  // namespace convoy::data
