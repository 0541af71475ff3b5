// Decoding a chunked request body (RFC 9112 7.1) incrementally, in whatever pieces the socket
// delivers it: chunk sizes in hex (extensions ignored), the data, then trailer fields (read
// and dropped). Bounded: the decoded body by max_body (413 as soon as it would pass it, before
// the rest is read), a chunk-size line by 1 KiB and the trailer section by max_trailer (431).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/http_message.h"

namespace convoy::serve {

class ChunkedBodyDecoder {
 public:
  ChunkedBodyDecoder(size_t max_body, size_t max_trailer) : max_body_(max_body), max_trailer_(max_trailer) {}

  // Consumes a prefix of `in`, appending decoded data to `body`; returns the bytes consumed.
  // Stops at the end of the body (done()) or at the first error (failed()), so bytes after
  // the body (a pipelined request) are left unconsumed.
  size_t feed(std::string_view in, std::string& body);

  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }
  const HttpError& error() const { return error_; }

 private:
  enum class State { size_line, data, data_end, trailer, done, failed };
  void fail(int status, std::string message);
  void end_size_line();

  size_t max_body_, max_trailer_;
  State state_ = State::size_line;
  std::string line_;          // the chunk-size or trailer line read so far
  uint64_t chunk_left_ = 0;   // data bytes of the current chunk still to come
  size_t body_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  bool saw_cr_ = false;       // data_end: the CR of the CRLF after a chunk's data was read
  HttpError error_;
};

}  // namespace convoy::serve
