// JPEG (libjpeg-turbo) and PNG (libpng) decoding to one CIFAR-format image: 3 x 32 x 32
// uint8, channel-planar. Grayscale is expanded to RGB, alpha dropped, and any other size is
// resized to 32x32 (area averaging when shrinking, bilinear when enlarging). The format is
// found from the leading bytes, not the file name. Prints nothing; every failure (corrupt or
// truncated data included, which libjpeg would only warn about) is a convoy::Error naming `name`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convoy::data::detail {

// An interleaved RGB image (height, width, 3).
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

RgbImage decode_jpeg(const std::string& name, const uint8_t* bytes, size_t size);
RgbImage decode_png(const std::string& name, const uint8_t* bytes, size_t size);

// Bounds for decoding untrusted bytes (serve/): an image whose header declares more than
// max_pixels is refused before any pixel is decoded, and a progressive JPEG with more than
// max_jpeg_scans scans (0: no limit) is refused while decoding. The defaults are the ones
// the functions above apply.
struct ImageLimits {
  int64_t max_pixels = int64_t(1) << 28;
  int max_jpeg_scans = 0;
};
RgbImage decode_jpeg(const std::string& name, const uint8_t* bytes, size_t size, const ImageLimits& limits);
RgbImage decode_png(const std::string& name, const uint8_t* bytes, size_t size, const ImageLimits& limits);

// Resizes to 32x32 and writes (3, 32, 32) planar into `out` (kImageBytes bytes).
void rgb_to_cifar(const RgbImage& image, uint8_t* out);

// decode_jpeg or decode_png by the magic bytes, then rgb_to_cifar.
void decode_to_cifar(const std::string& name, const uint8_t* bytes, size_t size, uint8_t* out);
void decode_to_cifar(const std::string& name, const uint8_t* bytes, size_t size, uint8_t* out,
                     const ImageLimits& limits);

}  // namespace convoy::data::detail
