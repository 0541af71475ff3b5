// Fuzzes the CIFAR-10 binary batch reader (data/sources.h: parse_cifar_batch) and the
// batches.meta.txt class-name parser that travels with it.
#include <cstdint>
#include <string>

#include "data/source_parts.h"
#include "data/sources.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  convoy::fuzz::expect_parse_or_error([&] {
    convoy::data::Dataset d = convoy::data::parse_cifar_batch("fuzz.bin", data, size);
    if (d.images.size() != static_cast<size_t>(d.size()) * convoy::data::kImageBytes) __builtin_trap();
    for (int32_t label : d.labels)
      if (label < 0 || label > 9) __builtin_trap();
  });
  convoy::fuzz::expect_parse_or_error([&] {
    auto names = convoy::data::detail::parse_class_names(
        "batches.meta.txt", std::string(reinterpret_cast<const char*>(data), size));
    if (names.size() != 10) __builtin_trap();
  });
  return 0;
}
