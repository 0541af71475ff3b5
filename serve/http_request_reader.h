// Reading HTTP/1.x requests off a byte stream in whatever pieces it arrives: the head (up to
// limits.max_head_bytes, parsed by serve/http_head_parser.h), then a Content-Length or chunked
// body (serve/http_chunked_body.h). No I/O: the connection feeds it bytes and learns how many
// it used, so what follows a request (the next, pipelined one) stays with the caller.
// Feeding a stream in one piece or byte by byte gives the same requests and the same errors
// (fuzz/fuzz_http_request.cpp checks it).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "serve/http_chunked_body.h"
#include "serve/http_message.h"

namespace convoy::serve {

class HttpRequestReader {
 public:
  enum class State {
    head,      // reading the request line and fields
    body,      // head() is ready; reading the body
    complete,  // take() the request
    failed,    // error() says what to answer; the stream cannot be read further
  };

  explicit HttpRequestReader(const HttpLimits& limits) : limits_(limits) {}

  // Consumes a prefix of `in` and returns its length. Returns early when the head has just
  // been read (state() == body: the caller may look at head(), e.g. to answer
  // "Expect: 100-continue", before feeding the rest), and when the request is complete or
  // has failed.
  size_t feed(std::string_view in);

  State state() const { return state_; }
  // True once any byte of the current request has been consumed (empty lines before a
  // request line included): the request's deadline runs from then.
  bool started() const { return started_; }
  const HttpHead& head() const { return head_; }
  const HttpError& error() const { return error_; }

  // The complete request; the reader then waits for the next one.
  HttpRequest take();

 private:
  size_t feed_head(std::string_view in);
  void fail(HttpError e);

  HttpLimits limits_;
  State state_ = State::head;
  bool started_ = false;
  std::string head_bytes_;  // the head read so far
  HttpHead head_;
  std::string body_;
  std::optional<ChunkedBodyDecoder> chunked_;
  HttpError error_;
};

}  // namespace convoy::serve
