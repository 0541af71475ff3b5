#include "serve/http_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace convoy::serve {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kKeptCapacity = 64 * 1024;  // larger buffers are given back once used

void release_if_large(std::string& s) {
  if (s.capacity() > kKeptCapacity) std::string().swap(s);
  else s.clear();
}
}  // namespace

HttpConnection::HttpConnection(int fd, uint64_t id, const HttpLimits& limits, Clock::time_point now)
    : fd_(fd), id_(id), reader_(limits), idle_since_(now), request_started_(now), phase_since_(now) {}

HttpConnection::~HttpConnection() { ::close(fd_); }

uint32_t HttpConnection::wanted_events() const {
  const uint32_t out = has_output() ? static_cast<uint32_t>(EPOLLOUT) : 0u;
  switch (phase_) {
    case Phase::idle:
    case Phase::reading: return EPOLLIN | out;
    case Phase::working: return out;
    case Phase::writing: return EPOLLOUT;
    case Phase::lingering: return EPOLLIN;
  }
  return 0;
}

HttpConnection::Io HttpConnection::read_some(std::string& into, size_t budget) {
  size_t total = 0;
  while (total < budget) {
    const size_t chunk = std::min(kReadChunk, budget - total);
    const size_t old = into.size();
    into.resize(old + chunk);
    const ssize_t n = ::recv(fd_, into.data() + old, chunk, 0);
    if (n > 0) {
      into.resize(old + static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      continue;
    }
    into.resize(old);
    if (n == 0) {
      eof_ = true;
      return Io::closed;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return total > 0 ? Io::ok : Io::blocked;
    return Io::closed;
  }
  return Io::ok;
}

size_t HttpConnection::parse(std::string_view bytes, Clock::time_point now) {
  size_t used = 0;
  while (used < bytes.size() && (phase_ == Phase::idle || phase_ == Phase::reading)) {
    const size_t n = reader_.feed(bytes.substr(used));
    used += n;
    if (phase_ == Phase::idle && reader_.started()) {
      phase_ = Phase::reading;
      request_started_ = phase_since_ = now;
    }
    const auto state = reader_.state();
    if (state == HttpRequestReader::State::complete || state == HttpRequestReader::State::failed || n == 0) break;
  }
  return used;
}

void HttpConnection::start_answer(std::string bytes, bool close_after, Clock::time_point now) {
  if (has_output()) out_.append(bytes);
  else {
    out_ = std::move(bytes);
    out_pos_ = 0;
  }
  phase_ = Phase::writing;
  phase_since_ = now;
  close_after_ = close_after_ || close_after;
}

void HttpConnection::send_interim(std::string_view bytes) { out_.append(bytes); }

HttpConnection::Io HttpConnection::flush() {
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n >= 0) {
      out_pos_ += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::blocked;
    return Io::closed;
  }
  release_if_large(out_);
  out_pos_ = 0;
  return Io::ok;
}

void HttpConnection::finish_answer(Clock::time_point now) {
  phase_ = Phase::idle;
  idle_since_ = phase_since_ = now;
  continue_sent_ = false;
}

void HttpConnection::start_lingering(Clock::time_point now) {
  ::shutdown(fd_, SHUT_WR);
  phase_ = Phase::lingering;
  phase_since_ = now;
  drained_ = 0;
  release_if_large(unparsed_);
}

HttpConnection::Io HttpConnection::drain(size_t budget) {
  char buf[16 * 1024];
  size_t total = 0;
  while (total < budget) {
    const ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, budget - total), 0);
    if (n > 0) {
      total += static_cast<size_t>(n);
      drained_ += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return Io::closed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::blocked;
    return Io::closed;
  }
  return Io::ok;
}

}  // namespace convoy::serve
