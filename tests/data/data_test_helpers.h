// Helpers for the data-layer tests: a temporary folder, CIFAR batch bytes from seeded random
// content, a minimal PNG writer (stored deflate blocks, so no zlib is needed), and a shell
// `tar` to build archives the way users would.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "tests/common/error_text.h"
#include "tests/common/test_util.h"

namespace convoy::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "convoy-data-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// `n` records with labels (seed + i) % 10 and random, never-constant pixels.
inline std::vector<uint8_t> batch_bytes(int n, uint64_t seed) {
  Rng rng(seed, 77);
  std::vector<uint8_t> b(static_cast<size_t>(n) * data::kRecordBytes);
  for (int i = 0; i < n; ++i) {
    b[static_cast<size_t>(i) * data::kRecordBytes] = static_cast<uint8_t>((seed + i) % 10);
    for (int k = 1; k < data::kRecordBytes; ++k)
      b[static_cast<size_t>(i) * data::kRecordBytes + k] = static_cast<uint8_t>(rng.next_bits());
  }
  return b;
}

// Writes data_batch_1..5.bin (n records each, seeds 1..5) and test_batch.bin (seed 6).
inline void write_batch_folder(const std::filesystem::path& dir, int n) {
  for (int k = 1; k <= 5; ++k) write_file((dir / ("data_batch_" + std::to_string(k) + ".bin")).string(), batch_bytes(n, k));
  write_file((dir / "test_batch.bin").string(), batch_bytes(n, 6));
}

inline uint32_t crc32_of(const uint8_t* p, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A PNG of 8-bit gray (channels 1) or RGB (channels 3) pixels, row-major interleaved.
inline std::vector<uint8_t> png_bytes(int w, int h, int channels, const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> raw;  // filter byte 0 + row
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels.begin() + static_cast<size_t>(y) * w * channels,
               pixels.begin() + static_cast<size_t>(y + 1) * w * channels);
  }
  std::vector<uint8_t> z = {0x78, 0x01};  // zlib header, stored blocks
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    size_t len = std::min<size_t>(65535, raw.size() - pos);
    bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(len & 0xFF), z.push_back(len >> 8), z.push_back(~len & 0xFF), z.push_back((~len >> 8) & 0xFF);
    z.insert(z.end(), raw.begin() + pos, raw.begin() + pos + len);
    pos += len;
    if (last) break;
  }
  uint32_t a = 1, b = 0;
  for (uint8_t v : raw) a = (a + v) % 65521, b = (b + a) % 65521;
  uint32_t adler = (b << 16) | a;
  for (int s = 24; s >= 0; s -= 8) z.push_back(static_cast<uint8_t>(adler >> s));

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  auto be32 = [](std::vector<uint8_t>& v, uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
  };
  auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
    be32(png, static_cast<uint32_t>(data.size()));
    std::vector<uint8_t> td(type, type + 4);
    td.insert(td.end(), data.begin(), data.end());
    png.insert(png.end(), td.begin(), td.end());
    be32(png, crc32_of(td.data(), td.size()));
  };
  std::vector<uint8_t> ihdr;
  be32(ihdr, w), be32(ihdr, h);
  ihdr.insert(ihdr.end(), {8, static_cast<uint8_t>(channels == 1 ? 0 : 2), 0, 0, 0});
  chunk("IHDR", ihdr);
  chunk("IDAT", z);
  chunk("IEND", {});
  return png;
}

// `tar czf archive -C dir entries...`, a test failure when tar fails.
inline void make_tar_gz(const std::string& archive, const std::filesystem::path& dir, const std::string& entries) {
  std::string cmd = "tar czf '" + archive + "' -C '" + dir.string() + "' " + entries;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace convoy::test
