// Fuzzes the JPEG/PNG decoder that image-folder sources use (data/image_decode.h): any bytes
// either decode to one 3x32x32 CIFAR image or throw convoy::Error.
#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "data/image_decode.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> out(convoy::data::kImageBytes);
  convoy::fuzz::expect_parse_or_error(
      [&] { convoy::data::detail::decode_to_cifar("fuzz.img", data, size, out.data()); });
  return 0;
}
