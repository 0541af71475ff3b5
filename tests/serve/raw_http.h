// A client at the socket level for the serve tests, for what an HTTP library will not do:
// send a request a byte at a time, pipeline, hold a connection idle, send HTTP/1.0, read the
// answers to pipelined requests one by one.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace convoy::test {

struct RawAnswer {
  int status = 0;
  std::string head;  // status line and fields
  std::string body;
  std::string field(const std::string& name) const {  // case-insensitive, first match
    std::string lower_head = head, lower_name = name;
    for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = lower_head.find("\r\n" + lower_name + ":");
    if (at == std::string::npos) return {};
    const size_t start = head.find_first_not_of(' ', at + 3 + name.size());
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port (blocking); fd() < 0 when that failed.
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    const int on = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  RawConnection(RawConnection&& o) noexcept : fd_(o.fd_), buffer_(std::move(o.buffer_)) { o.fd_ = -1; }

  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

  bool send_all(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Waits up to `timeout` for bytes; appends them to the buffer. False at end of stream,
  // on an error or when nothing came.
  bool receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      last_recv_error_ = n < 0 ? errno : 0;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  // The next whole answer (Content-Length framed), or nothing within `timeout`.
  std::optional<RawAnswer> read_answer(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto a = take_answer()) return a;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() < 0 || !receive(std::max(left, std::chrono::milliseconds(0)))) return std::nullopt;
    }
  }

  // True when the server closes the connection (end of stream, or a reset) within `timeout`;
  // bytes that arrive meanwhile are kept.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        last_recv_error_ = n < 0 ? errno : 0;
        return true;
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
    return false;
  }

  const std::string& buffered() const { return buffer_; }
  std::string take_buffered() { return std::exchange(buffer_, std::string()); }
  int last_recv_error() const { return last_recv_error_; }  // ECONNRESET after a reset

 private:
  std::optional<RawAnswer> take_answer() {
    const size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    RawAnswer a;
    a.head = buffer_.substr(0, end + 2);
    if (a.head.rfind("HTTP/1.", 0) != 0 || a.head.size() < 12) return std::nullopt;
    a.status = std::stoi(a.head.substr(9, 3));
    const std::string length = a.field("Content-Length");
    const size_t n = length.empty() ? 0 : std::stoul(length);
    if (buffer_.size() < end + 4 + n) return std::nullopt;
    a.body = buffer_.substr(end + 4, n);
    buffer_.erase(0, end + 4 + n);
    return a;
  }

  int fd_ = -1;
  int last_recv_error_ = 0;
  std::string buffer_;
};

}  // namespace convoy::test
