#include "serve/http_chunked_body.h"

#include <algorithm>

namespace convoy::serve {

namespace {
constexpr size_t kMaxSizeLine = 1024;  // hex size plus extensions
}

void ChunkedBodyDecoder::fail(int status, std::string message) {
  state_ = State::failed;
  error_ = HttpError{status, std::move(message)};
}

// line_ holds a chunk-size line without its line end: HEX [; extensions] with optional
// white space before the extensions.
void ChunkedBodyDecoder::end_size_line() {
  std::string_view s = line_;
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  uint64_t size = 0;
  size_t digits = 0;
  for (; digits < s.size(); ++digits) {
    const char c = s[digits];
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else break;
    if (size > (max_body_ >> 4)) return fail(413, "a chunk of the request body is over the limit of " +
                                                      std::to_string(max_body_) + " bytes");
    size = size * 16 + static_cast<uint64_t>(v);
  }
  std::string_view rest = s.substr(digits);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (digits == 0 || (!rest.empty() && rest.front() != ';'))
    return fail(400, "malformed chunk size line in the chunked request body");
  line_.clear();
  if (size == 0) {
    state_ = State::trailer;
    return;
  }
  if (size > max_body_ - body_bytes_)
    return fail(413, "chunked request body is over the limit of " + std::to_string(max_body_) + " bytes");
  chunk_left_ = size;
  state_ = State::data;
}

size_t ChunkedBodyDecoder::feed(std::string_view in, std::string& body) {
  size_t used = 0;
  while (used < in.size() && state_ != State::done && state_ != State::failed) {
    const char c = in[used];
    switch (state_) {
      case State::size_line:
        ++used;
        if (c == '\n') {
          end_size_line();
        } else if (line_.size() >= kMaxSizeLine) {
          fail(400, "chunk size line of the request body is over " + std::to_string(kMaxSizeLine) + " bytes");
        } else {
          line_ += c;
        }
        break;
      case State::data: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, in.size() - used));
        body.append(in.data() + used, n);
        used += n;
        body_bytes_ += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) {
          state_ = State::data_end;
          saw_cr_ = false;
        }
        break;
      }
      case State::data_end:
        ++used;
        if (c == '\r' && !saw_cr_) {
          saw_cr_ = true;
        } else if (c == '\n') {
          state_ = State::size_line;
        } else {
          fail(400, "chunk data of the request body is not followed by CRLF");
        }
        break;
      case State::trailer:
        ++used;
        if (++trailer_bytes_ > max_trailer_) {
          fail(431, "trailer fields of the chunked request body are over " + std::to_string(max_trailer_) + " bytes");
        } else if (c == '\n') {
          const bool empty = line_.empty() || line_ == "\r";
          line_.clear();
          if (empty) state_ = State::done;
        } else {
          line_ += c;
        }
        break;
      case State::done:
      case State::failed:
        break;
    }
  }
  return used;
}

}  // namespace convoy::serve
