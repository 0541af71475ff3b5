// The inputs of offline prediction (convoy-predict), read into CIFAR-format images:
//   - a CIFAR-10 binary batch file (3073-byte records: label, image; e.g. test_batch.bin),
//     with its labels;
//   - a folder of JPEG/PNG images (searched recursively, taken in sorted path order, other
//     files skipped), each resized to 32x32 as the endpoint does; names kept per image;
//   - a JSON-lines file (.jsonl / .json): each non-blank line is {"instances": [IMAGE, ...]} or
//     one IMAGE (32x32x3 HWC nested or 3072 flat CHW, as in serve/request_decode.h).
// Errors name the file (and line) and what is wrong.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace convoy::serve {

struct PredictInputs {
  std::vector<uint8_t> images;     // (count, 3, 32, 32) CHW
  int64_t count = 0;
  std::vector<int> labels;         // (count) for a CIFAR batch file, else empty
  std::vector<std::string> names;  // (count) file names for a folder, else empty
  std::string kind;                // "cifar-batch", "image-folder" or "jsonlines"
};

PredictInputs read_predict_inputs(const std::string& path);

}  // namespace convoy::serve
