// MD5 (RFC 1321), only to check the published checksum of the downloaded CIFAR-10 archive.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace convoy::data {

class Md5 {
 public:
  Md5();
  void update(const void* data, size_t size);
  std::array<uint8_t, 16> finish();  // call once
  static std::string hex(const std::array<uint8_t, 16>& digest);

 private:
  void block(const uint8_t* p);
  uint32_t state_[4];
  uint64_t length_ = 0;  // bytes so far
  uint8_t buffer_[64];
  size_t buffered_ = 0;
};

std::string md5_hex(const void* data, size_t size);
// MD5 of a file's contents; a convoy::Error naming the file when it cannot be read.
std::string md5_file_hex(const std::string& path);

}  // namespace convoy::data
