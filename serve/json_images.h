// The application/json reader of serve/request_decode.h: a streaming (SAX) pass over the body
// that writes image bytes straight into the output and keeps nothing else, so a request can
// make it do no more work or allocation than its size and the image limit allow.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace convoy::serve::detail {

struct JsonImages {
  std::vector<uint8_t> images;  // (count, 3, 32, 32) CHW
  int64_t count = 0;
  int status = 0;               // 0: success; else 400 or 413
  std::string error;
};

// A body holds one or more records, one after another (JSON Lines; batch transform joins the
// records of a mini-batch with newlines), their images appended in order. A record is
//   {"instances": [IMAGE, ...]}   (other keys ignored)
//   [IMAGE, ...]                  a bare list of images
//   IMAGE                         one image on its own
// IMAGE is 32x32x3 HWC nested or 3072 flat CHW. A bare array is one image when its first
// number sits at an odd depth (1: flat, 3: nested) and a list of images when even (2, 4).
// Errors in a body of several records name the record's line.
JsonImages read_json_images(std::string_view body, int64_t max_images);

}  // namespace convoy::serve::detail
