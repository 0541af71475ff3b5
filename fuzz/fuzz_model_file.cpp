// Fuzzes the model loader (train/model_io.h: load_model, over engine/model_file.h): the
// container (magic, version, header JSON, CRCs, tensor index), the model config it carries,
// and the match between the config's parameters and the stored tensors. A model that loads
// must also run: one forward pass on one image.
// The header checksum would turn away almost every mutation of the header, so the target
// rewrites it to match before loading (when the input is long enough to have one); inputs
// whose header the fuzzer left intact test the checksum itself.
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/context.h"
#include "engine/crc32.h"
#include "engine/model_file.h"
#include "fuzz/fuzz_util.h"
#include "train/model_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static convoy::fuzz::InputFile file(".convoy");
  std::vector<uint8_t> bytes(data, data + size);
  // size >= 20 first: `size - 20` on a 16..19-byte input wraps around and let a claimed header
  // length past the input through (the harness read out of bounds; found by CI's fuzz run).
  if (size >= 20 && std::memcmp(data, "CONVOYMF", 8) == 0) {
    uint32_t header_length;
    std::memcpy(&header_length, data + 12, 4);
    if (header_length <= size - 20 && size % 2 == 0) {  // odd sizes keep the stored checksum
      uint32_t crc = convoy::crc32(data + 8, 8 + size_t{header_length});
      std::memcpy(bytes.data() + 16 + header_length, &crc, 4);
    }
  }
  const std::string& path = file.write(bytes.data(), bytes.size());
  convoy::fuzz::expect_parse_or_error([&] {
    convoy::Model model = convoy::load_model(path);
    convoy::Context ctx = convoy::Context::make(convoy::Device::cpu());
    convoy::Tensor x = convoy::Tensor::filled(model.input_shape(1), 0.5f);
    convoy::Tensor logits;
    model.forward(ctx, x, logits, nullptr);
    if (logits.numel() != model.num_classes()) __builtin_trap();
  });
  return 0;
}
