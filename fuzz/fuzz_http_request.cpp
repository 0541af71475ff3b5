// Fuzzes the HTTP/1.x request reader of the serving endpoint (serve/http_request_reader.h):
// the request line and header fields, Content-Length and chunked bodies, pipelined requests.
// The first input byte picks the size of the pieces the rest is fed in; the stream must read
// the same in those pieces as in one, every request must keep the limits, and every refusal
// must carry one of the reader's statuses and a message.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "serve/http_request_reader.h"

namespace {

using convoy::serve::HttpLimits;
using convoy::serve::HttpRequest;
using convoy::serve::HttpRequestReader;

struct Outcome {
  std::vector<HttpRequest> requests;
  int status = 0;
  std::string message;
  size_t consumed = 0;
};

Outcome read_stream(std::string_view stream, size_t piece, const HttpLimits& limits) {
  HttpRequestReader reader(limits);
  Outcome out;
  std::string buffer;
  size_t pos = 0;
  while (true) {
    const size_t used = reader.feed(buffer);
    if (used > buffer.size()) __builtin_trap();
    out.consumed += used;
    buffer.erase(0, used);
    if (reader.state() == HttpRequestReader::State::complete) {
      out.requests.push_back(reader.take());
    } else if (reader.state() == HttpRequestReader::State::failed) {
      out.status = reader.error().status;
      out.message = reader.error().message;
      return out;
    } else if (used == 0) {
      if (pos >= stream.size()) return out;
      const size_t n = std::min(piece, stream.size() - pos);
      buffer.append(stream.substr(pos, n));
      pos += n;
    }
  }
}

bool same(const HttpRequest& a, const HttpRequest& b) {
  return a.head.method == b.head.method && a.head.target == b.head.target && a.head.path == b.head.path &&
         a.head.minor_version == b.head.minor_version && a.head.fields == b.head.fields &&
         a.head.chunked == b.head.chunked && a.head.content_length == b.head.content_length &&
         a.head.keep_alive == b.head.keep_alive && a.head.expect_continue == b.head.expect_continue &&
         a.body == b.body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = data[0] % 64 + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  HttpLimits limits;  // small, so that inputs of a few KB reach every limit
  limits.max_request_line = 256;
  limits.max_head_bytes = 1024;
  limits.max_header_fields = 16;
  limits.max_body_bytes = 4096;

  const Outcome whole = read_stream(stream, stream.size() + 1, limits);
  const Outcome pieces = read_stream(stream, piece, limits);
  if (whole.requests.size() != pieces.requests.size() || whole.status != pieces.status ||
      whole.message != pieces.message)
    __builtin_trap();
  for (size_t i = 0; i < whole.requests.size(); ++i)
    if (!same(whole.requests[i], pieces.requests[i])) __builtin_trap();
  if (whole.status == 0 && whole.consumed != pieces.consumed) __builtin_trap();
  if (whole.consumed > stream.size()) __builtin_trap();
  for (const HttpRequest& r : whole.requests) {
    if (r.body.size() > limits.max_body_bytes) __builtin_trap();
    if (!r.head.chunked && r.body.size() != r.head.content_length) __builtin_trap();
    if (r.head.method.empty() || r.head.target.empty() || r.head.fields.size() > limits.max_header_fields) __builtin_trap();
  }
  if (whole.status != 0) {
    static const int allowed[] = {400, 413, 414, 417, 431, 501, 505};
    if (std::find(std::begin(allowed), std::end(allowed), whole.status) == std::end(allowed)) __builtin_trap();
    if (whole.message.empty()) __builtin_trap();
  }
  return 0;
}
