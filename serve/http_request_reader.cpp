#include "serve/http_request_reader.h"

#include <algorithm>
#include <variant>

#include "serve/http_head_parser.h"

namespace convoy::serve {

namespace {
constexpr size_t kFirstBodyReserve = 64 * 1024;  // the body grows with what arrives, not what is declared
}

void HttpRequestReader::fail(HttpError e) {
  state_ = State::failed;
  error_ = std::move(e);
}

size_t HttpRequestReader::feed_head(std::string_view in) {
  size_t used = 0;
  // Empty lines before a request line are skipped (RFC 9112 2.2).
  if (head_bytes_.empty()) {
    while (used < in.size() && (in[used] == '\r' || in[used] == '\n')) ++used;
    if (used > 0) started_ = true;
    if (used == in.size()) return used;
  }
  started_ = true;
  const size_t old_size = head_bytes_.size();
  const size_t room = limits_.max_head_bytes - old_size;
  const size_t take = std::min(room, in.size() - used);
  head_bytes_.append(in.data() + used, take);

  // The head ends at an empty line: "\n\n" or "\n\r\n".
  for (size_t i = old_size >= 2 ? old_size - 2 : 0; i < head_bytes_.size(); ++i) {
    if (head_bytes_[i] != '\n') continue;
    size_t end = 0;
    if (i + 1 < head_bytes_.size() && head_bytes_[i + 1] == '\n') end = i + 2;
    else if (i + 2 < head_bytes_.size() && head_bytes_[i + 1] == '\r' && head_bytes_[i + 2] == '\n') end = i + 3;
    if (end == 0) continue;
    used += end - old_size;
    auto parsed = parse_http_head(std::string_view(head_bytes_).substr(0, i + 1), limits_);
    if (auto* e = std::get_if<HttpError>(&parsed)) {
      fail(std::move(*e));
      return used;
    }
    head_ = std::move(std::get<HttpHead>(parsed));
    if (head_.chunked) {
      chunked_.emplace(limits_.max_body_bytes, limits_.max_head_bytes);
      state_ = State::body;
    } else if (head_.content_length > 0) {
      body_.reserve(static_cast<size_t>(std::min<uint64_t>(head_.content_length, kFirstBodyReserve)));
      state_ = State::body;
    } else {
      state_ = State::complete;
    }
    return used;
  }
  used += take;
  // The request line so far, without a CR that may be the start of its line end (the head
  // parser does not count it either, so the status does not depend on where the bytes split).
  const size_t line_end = head_bytes_.find('\n');
  size_t line_len = line_end == std::string::npos ? head_bytes_.size() : line_end;
  if (line_len > 0 && head_bytes_[line_len - 1] == '\r') --line_len;
  if (line_len > limits_.max_request_line)
    fail({414, "request line is over the limit of " + std::to_string(limits_.max_request_line) + " bytes"});
  else if (head_bytes_.size() >= limits_.max_head_bytes)
    fail({431, "request head is over the limit of " + std::to_string(limits_.max_head_bytes) + " bytes"});
  return used;
}

size_t HttpRequestReader::feed(std::string_view in) {
  switch (state_) {
    case State::head:
      return feed_head(in);
    case State::body: {
      if (chunked_) {
        const size_t used = chunked_->feed(in, body_);
        if (chunked_->failed()) fail(chunked_->error());
        else if (chunked_->done()) state_ = State::complete;
        return used;
      }
      const size_t n = static_cast<size_t>(std::min<uint64_t>(head_.content_length - body_.size(), in.size()));
      if (body_.capacity() < body_.size() + n)  // grow by doubling, but never past the declared length
        body_.reserve(static_cast<size_t>(
            std::min<uint64_t>(head_.content_length, std::max(body_.capacity() * 2, body_.size() + n))));
      body_.append(in.data(), n);
      if (body_.size() == head_.content_length) state_ = State::complete;
      return n;
    }
    case State::complete:
    case State::failed:
      return 0;
  }
  return 0;
}

HttpRequest HttpRequestReader::take() {
  HttpRequest r{std::move(head_), std::move(body_)};
  head_ = HttpHead{};
  body_ = std::string();
  head_bytes_.clear();
  chunked_.reset();
  started_ = false;
  state_ = State::head;
  return r;
}

}  // namespace convoy::serve
