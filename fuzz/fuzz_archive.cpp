// Fuzzes the archive sources behind load_cifar (data/sources.h): the bytes become a .tar.gz
// file (libarchive detects gzip or plain tar from the bytes) that is read in place as the
// official binary-batch archive or as an image-folder tree (tar + JPEG/PNG decoding).
#include <cstdint>

#include "data/sources.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static convoy::fuzz::InputFile file(".tar.gz");
  const std::string& path = file.write(data, size);
  convoy::data::LoadOptions options;
  options.train_batches = 1;
  convoy::fuzz::expect_parse_or_error([&] {
    convoy::data::CifarData d = convoy::data::load_cifar(path, options);
    if (d.train.images.size() != static_cast<size_t>(d.train.size()) * convoy::data::kImageBytes) __builtin_trap();
    if (d.test.images.size() != static_cast<size_t>(d.test.size()) * convoy::data::kImageBytes) __builtin_trap();
  });
  return 0;
}
