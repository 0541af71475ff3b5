// JPEG decoding limits and errors, and resizing of non-square images, on JPEGs encoded here
// with libjpeg (baseline and progressive) from known pixels.
#include <gtest/gtest.h>

#include <cstdio>
#include <jpeglib.h>

#include <vector>

#include "data/image_decode.h"
#include "data_test_helpers.h"
#include "engine/error.h"

namespace convoy::data {
namespace {

using test::error_of;

// A w x h RGB JPEG of `rgb` (interleaved), quality 95; progressive gives about ten scans.
std::vector<uint8_t> encode_jpeg(int w, int h, const std::vector<uint8_t>& rgb, bool progressive) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb.data() + static_cast<size_t>(c.next_scanline) * w * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::vector<uint8_t> bytes(out, out + size);
  jpeg_destroy_compress(&c);
  std::free(out);
  return bytes;
}

std::vector<uint8_t> smooth_rgb(int w, int h) {
  std::vector<uint8_t> p(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) p[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>(20 + 3 * x + 2 * y + 20 * c);
  return p;
}

TEST(JpegDecode, ProgressiveJpegDecodesWithoutAScanLimit) {
  const std::vector<uint8_t> jpg = encode_jpeg(32, 32, smooth_rgb(32, 32), true);
  int scans = 0;
  for (size_t i = 0; i + 1 < jpg.size(); ++i) scans += jpg[i] == 0xFF && jpg[i + 1] == 0xDA;
  ASSERT_GT(scans, 2) << "the encoder wrote a baseline JPEG";
  detail::ImageLimits unlimited;  // max_jpeg_scans 0: no limit
  const detail::RgbImage img = detail::decode_jpeg("p.jpg", jpg.data(), jpg.size(), unlimited);
  EXPECT_EQ(img.width, 32);
  EXPECT_EQ(img.height, 32);
}

// The scan limit that bounds the work of untrusted progressive JPEGs (serve/) is enforced.
TEST(JpegDecode, AProgressiveJpegAboveTheScanLimitIsRefused) {
  const std::vector<uint8_t> jpg = encode_jpeg(32, 32, smooth_rgb(32, 32), true);
  detail::ImageLimits two;
  two.max_jpeg_scans = 2;
  const std::string e = error_of([&] { detail::decode_jpeg("p.jpg", jpg.data(), jpg.size(), two); });
  EXPECT_NE(e.find("p.jpg"), std::string::npos) << e;
  EXPECT_NE(e.find("more than 2 scans"), std::string::npos) << e;
  const std::vector<uint8_t> baseline = encode_jpeg(32, 32, smooth_rgb(32, 32), false);
  EXPECT_EQ(detail::decode_jpeg("b.jpg", baseline.data(), baseline.size(), two).width, 32)
      << "a baseline JPEG has one scan";
}

// A marker whose length field is too short is one of libjpeg's fatal errors (error_exit,
// which by default ends the process): it must come back as an Error naming the file.
TEST(JpegDecode, AFatalLibjpegErrorIsAnErrorNotAnExit) {
  std::vector<uint8_t> jpg = encode_jpeg(8, 8, smooth_rgb(8, 8), false);
  size_t sof = 0;
  for (size_t i = 2; i + 3 < jpg.size(); ++i)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
      sof = i;
      break;
    }
  ASSERT_NE(sof, 0u) << "no SOF0 marker in the encoded JPEG";
  jpg[sof + 2] = 0x00, jpg[sof + 3] = 0x02;  // SOF0 length 2: shorter than its own fields
  const std::string e = error_of([&] { detail::decode_jpeg("bogus.jpg", jpg.data(), jpg.size()); });
  EXPECT_NE(e.find("bogus.jpg"), std::string::npos) << e;
}

// Wider than 32 at a height of 32: shrunk along x only, by area averaging; pairs of equal
// columns average to themselves, so every output pixel is known exactly.
TEST(ResizeToCifar, WideImageAtFullHeightIsShrunkAlongItsWidth) {
  detail::RgbImage img;
  img.width = 64, img.height = 32;
  img.pixels.resize(64 * 32 * 3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) img.pixels[(y * 64 + x) * 3 + c] = static_cast<uint8_t>(2 * (x / 2) + 3 * y + 40 * c);
  std::vector<uint8_t> out(3 * 32 * 32);
  detail::rgb_to_cifar(img, out.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        ASSERT_EQ(out[(c * 32 + y) * 32 + x], 2 * x + 3 * y + 40 * c) << "c " << c << " y " << y << " x " << x;
}

}  // namespace
}  // namespace convoy::data
