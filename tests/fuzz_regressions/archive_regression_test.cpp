// Archives that fuzz_archive found escaping the loader's contract (docs/fuzzing.md): each
// must be refused with a convoy::Error naming the archive, without a huge allocation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/sources.h"
#include "engine/error.h"

namespace convoy {
namespace {

// One ustar header block for a regular file `name` whose size field says `size` bytes
// (GNU base-256 form, so any 64-bit size fits), followed by `data` and the end blocks.
std::string tar_with_claimed_size(const std::string& name, uint64_t size, const std::string& data) {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), name.size());
  std::memcpy(&h[100], "0000644", 7);
  std::memcpy(&h[108], "0000000", 7);
  std::memcpy(&h[116], "0000000", 7);
  h[124] = static_cast<char>(0x80);  // base-256 size: the low 8 bytes, big-endian
  for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  std::memcpy(&h[136], "00000000000", 11);
  h[156] = '0';
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%06o", sum);
  std::memcpy(&h[148], checksum, 7);
  std::string body = data;
  body.resize((data.size() + 511) / 512 * 512, '\0');
  return h + body + std::string(1024, '\0');
}

TEST(FuzzRegressionArchive, MemberClaimingPetabytesIsATruncationErrorNotAnAllocation) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("convoy_fuzzreg_" + std::to_string(::getpid()) + ".tar")).string();
  {
    std::ofstream out(path, std::ios::binary);
    out << tar_with_claimed_size("cifar-10-batches-bin/data_batch_1.bin", uint64_t{1} << 50, std::string(3073, '\1'));
  }
  try {
    data::load_cifar(path);
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-convoy exception: " << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace convoy
