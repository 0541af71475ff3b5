#include "data/image_decode.h"

// clang-format off
#include <cstdio>   // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>

#include "data/dataset.h"
#include "engine/error.h"

namespace convoy::data::detail {

namespace {

// libjpeg reports errors through callbacks; we jump back out of the decoder and throw from
// ordinary C++ code. Warnings (corrupt or truncated data, which libjpeg would otherwise patch
// over with grey) are treated as errors too, and nothing is ever printed.
struct JpegErrors {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  jpeg_progress_mgr progress;
  int max_scans = 0;  // 0: no limit
};

void jpeg_fail(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErrors*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}
void jpeg_message(j_common_ptr c, int level) {
  if (level < 0) jpeg_fail(c);  // a warning: the data is corrupt
}
void jpeg_silent(j_common_ptr) {}
// Progressive JPEGs may hold thousands of tiny scans, each a full pass over the coefficients:
// the scan count bounds the work an untrusted image can ask for.
void jpeg_count_scans(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErrors*>(c->err);
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (e->max_scans > 0 && d->input_scan_number > e->max_scans) {
    std::snprintf(e->message, JMSG_LENGTH_MAX, "progressive JPEG with more than %d scans", e->max_scans);
    std::longjmp(e->jump, 1);
  }
}

// Decodes into `out` (already constructed by the caller, so no C++ object lives between the
// setjmp and a longjmp). Returns false with `message` set on failure.
bool jpeg_decode_into(const uint8_t* bytes, size_t size, RgbImage& out, char* message, const ImageLimits& limits) {
  jpeg_decompress_struct cinfo;
  JpegErrors err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_fail;
  err.pub.emit_message = jpeg_message;
  err.pub.output_message = jpeg_silent;
  err.message[0] = '\0';
  err.max_scans = limits.max_jpeg_scans;
  err.progress.progress_monitor = jpeg_count_scans;
  if (setjmp(err.jump)) {
    std::strncpy(message, err.message, JMSG_LENGTH_MAX);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &err.progress;  // after create, which clears every field but err
  jpeg_mem_src(&cinfo, const_cast<unsigned char*>(bytes), static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<int64_t>(cinfo.image_width) * cinfo.image_height > limits.max_pixels) {
    std::snprintf(message, JMSG_LENGTH_MAX, "image of %ux%u pixels is too large", cinfo.image_width,
                  cinfo.image_height);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  // Large images: let the IDCT shrink by up to 8x as long as both sides stay >= 32; the
  // area resize does the rest. This is the expensive part of big-image decoding saved.
  for (unsigned denom : {8u, 4u, 2u}) {
    if ((cinfo.image_width + denom - 1) / denom >= 32 && (cinfo.image_height + denom - 1) / denom >= 32) {
      cinfo.scale_num = 1;
      cinfo.scale_denom = denom;
      break;
    }
  }
  cinfo.out_color_space = JCS_RGB;  // grayscale and YCbCr both become RGB
  jpeg_start_decompress(&cinfo);
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + static_cast<size_t>(cinfo.output_scanline) * out.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// Sparse 1-D resampling weights from `src` samples to 32: area averaging when shrinking
// (each output averages the source interval it covers, partial pixels weighted by overlap),
// bilinear with pixel-centre alignment when enlarging.
struct AxisWeights {
  std::vector<int> first;                 // first source index of each output
  std::vector<std::vector<float>> taps;   // weights of consecutive source samples
};

AxisWeights axis_weights(int src) {
  AxisWeights w;
  w.first.resize(kImageSide);
  w.taps.resize(kImageSide);
  const double scale = static_cast<double>(src) / kImageSide;
  for (int i = 0; i < kImageSide; ++i) {
    if (src >= kImageSide) {
      double lo = i * scale, hi = (i + 1) * scale;
      int j0 = static_cast<int>(std::floor(lo)), j1 = std::min(src, static_cast<int>(std::ceil(hi)));
      w.first[i] = j0;
      for (int j = j0; j < j1; ++j) {
        double overlap = std::min<double>(hi, j + 1) - std::max<double>(lo, j);
        w.taps[i].push_back(static_cast<float>(overlap / scale));
      }
    } else {
      double x = std::clamp((i + 0.5) * scale - 0.5, 0.0, static_cast<double>(src - 1));
      int j0 = static_cast<int>(std::floor(x));
      int j1 = std::min(j0 + 1, src - 1);
      float t = static_cast<float>(x - j0);
      w.first[i] = j0;
      if (j1 == j0) w.taps[i] = {1.0f};
      else w.taps[i] = {1.0f - t, t};
    }
  }
  return w;
}

}  // namespace

RgbImage decode_jpeg(const std::string& name, const uint8_t* bytes, size_t size) {
  return decode_jpeg(name, bytes, size, ImageLimits{});
}

RgbImage decode_jpeg(const std::string& name, const uint8_t* bytes, size_t size, const ImageLimits& limits) {
  RgbImage image;
  char message[JMSG_LENGTH_MAX] = {0};
  if (!jpeg_decode_into(bytes, size, image, message, limits)) fail(name, ": JPEG decode failed: ", message);
  return image;
}

RgbImage decode_png(const std::string& name, const uint8_t* bytes, size_t size) {
  return decode_png(name, bytes, size, ImageLimits{});
}

RgbImage decode_png(const std::string& name, const uint8_t* bytes, size_t size, const ImageLimits& limits) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes, size))
    fail(name, ": PNG decode failed: ", png.message);
  if (static_cast<int64_t>(png.width) * png.height > limits.max_pixels) {
    png_image_free(&png);
    fail(name, ": PNG of ", png.width, "x", png.height, " pixels is too large");
  }
  png.format = PNG_FORMAT_RGB;  // gray expanded, palette applied, alpha composed, 16-bit reduced
  RgbImage image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    std::string message = png.message;
    png_image_free(&png);
    fail(name, ": PNG decode failed: ", message);
  }
  return image;
}

void rgb_to_cifar(const RgbImage& image, uint8_t* out) {
  const int w = image.width, h = image.height;
  const int plane = kImageSide * kImageSide;
  if (w == kImageSide && h == kImageSide) {
    for (int p = 0; p < plane; ++p)
      for (int c = 0; c < 3; ++c) out[c * plane + p] = image.pixels[p * 3 + c];
    return;
  }
  const AxisWeights wx = axis_weights(w), wy = axis_weights(h);
  // Horizontal pass: (h, 32, 3) floats; then vertical into the planar output.
  std::vector<float> rows(static_cast<size_t>(h) * kImageSide * 3);
  for (int y = 0; y < h; ++y) {
    const uint8_t* src = image.pixels.data() + static_cast<size_t>(y) * w * 3;
    for (int x = 0; x < kImageSide; ++x) {
      float acc[3] = {0, 0, 0};
      for (size_t t = 0; t < wx.taps[x].size(); ++t) {
        const uint8_t* px = src + (wx.first[x] + t) * 3;
        for (int c = 0; c < 3; ++c) acc[c] += wx.taps[x][t] * px[c];
      }
      for (int c = 0; c < 3; ++c) rows[(static_cast<size_t>(y) * kImageSide + x) * 3 + c] = acc[c];
    }
  }
  for (int y = 0; y < kImageSide; ++y) {
    for (int x = 0; x < kImageSide; ++x) {
      float acc[3] = {0, 0, 0};
      for (size_t t = 0; t < wy.taps[y].size(); ++t) {
        const float* px = rows.data() + ((wy.first[y] + t) * kImageSide + x) * 3;
        for (int c = 0; c < 3; ++c) acc[c] += wy.taps[y][t] * px[c];
      }
      for (int c = 0; c < 3; ++c)
        out[c * plane + y * kImageSide + x] = static_cast<uint8_t>(std::clamp(std::lround(acc[c]), 0L, 255L));
    }
  }
}

void decode_to_cifar(const std::string& name, const uint8_t* bytes, size_t size, uint8_t* out) {
  decode_to_cifar(name, bytes, size, out, ImageLimits{});
}

void decode_to_cifar(const std::string& name, const uint8_t* bytes, size_t size, uint8_t* out,
                     const ImageLimits& limits) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    rgb_to_cifar(decode_jpeg(name, bytes, size, limits), out);
  } else if (size >= 8 && std::memcmp(bytes, kPng, 8) == 0) {
    rgb_to_cifar(decode_png(name, bytes, size, limits), out);
  } else {
    fail(name, ": not a JPEG or PNG image (", size == 0 ? "empty file" : "unknown leading bytes", ")");
  }
}

}  // namespace convoy::data::detail
