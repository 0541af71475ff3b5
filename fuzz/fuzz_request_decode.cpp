// Fuzzes the serving endpoint's request decoder (serve/request_decode.h: decode_request):
// JSON (flat and nested instances), images (JPEG/PNG), CSV and raw records. The input is the
// content type, a newline, then the body. decode_request never throws: it answers decoded
// images or an HTTP error; either answer must be well formed.
#include <cstdint>
#include <string_view>
#include <variant>

#include "serve/request_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view content_type = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);
  convoy::serve::DecodeLimits limits;
  limits.max_body_bytes = 1 << 20;
  limits.max_image_pixels = 1024 * 1024;
  convoy::serve::DecodeResult result = convoy::serve::decode_request(content_type, body, limits);
  if (auto* ok = std::get_if<convoy::serve::DecodedRequest>(&result)) {
    if (ok->count < 0 || ok->images.size() != static_cast<size_t>(ok->count) * 3072) __builtin_trap();
    if (!ok->labels.empty() && ok->labels.size() != static_cast<size_t>(ok->count)) __builtin_trap();
  } else {
    const auto& error = std::get<convoy::serve::RequestError>(result);
    if (error.status != 400 && error.status != 413 && error.status != 415) __builtin_trap();
    if (error.message.empty()) __builtin_trap();
  }
  return 0;
}
