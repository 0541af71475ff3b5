// One client connection of serve/http_server.h: its socket, the request being read, the
// answer being written, and the phase that decides which deadline applies to it. The server's
// event loop owns every HttpConnection and calls into it from that one thread only.
//
//   idle       no byte of a request yet (new, or between keep-alive requests): closed after
//              the idle timeout, and the first to go when the connection cap is reached
//   reading    part of a request has arrived: the whole of it (head and body) must arrive
//              within the request timeout, counted from its first byte, else 408
//   working    a complete request is with a worker; nothing is read until it is answered
//              (pipelined requests wait in the socket and are answered in order)
//   writing    the answer is being sent: it must be taken within the request timeout
//   lingering  after an answer that closes the connection: the write side is shut and what
//              the client still sends is read and dropped for a short while, so that the
//              client reads the answer instead of a reset
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/http_message.h"
#include "serve/http_request_reader.h"
#include "serve/http_response_bytes.h"

namespace convoy::serve {

using Clock = std::chrono::steady_clock;

class HttpConnection {
 public:
  enum class Phase { idle, reading, working, writing, lingering };
  enum class Io { ok, blocked, closed };  // closed: the peer hung up or the socket failed

  HttpConnection(int fd, uint64_t id, const HttpLimits& limits, Clock::time_point now);
  ~HttpConnection();  // closes the socket
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  int fd() const { return fd_; }
  uint64_t id() const { return id_; }
  Phase phase() const { return phase_; }
  // The event mask the connection needs from epoll in its phase.
  uint32_t wanted_events() const;

  // Reads up to `budget` bytes into `into` (appended). Io::closed at end of stream or error;
  // eof() then tells which.
  Io read_some(std::string& into, size_t budget);
  bool eof() const { return eof_; }

  // Feeds bytes to the request reader while the phase is idle or reading; returns how many
  // were used (the rest belong to a later, pipelined request). Stops when a request is
  // complete or has failed: see reader().
  size_t parse(std::string_view bytes, Clock::time_point now);
  HttpRequestReader& reader() { return reader_; }
  Clock::time_point request_started() const { return request_started_; }
  Clock::time_point idle_since() const { return idle_since_; }
  Clock::time_point phase_deadline_base() const { return phase_since_; }

  // Bytes received but not yet parsed (a pipelined request that came with the last one).
  std::string& unparsed() { return unparsed_; }

  void start_working() { phase_ = Phase::working; }
  // Queues an answer; the connection is in the writing phase until flush() has sent it.
  void start_answer(std::string bytes, bool close_after, Clock::time_point now);
  // Queues bytes to go out ahead of anything else, without changing the phase (100 Continue).
  void send_interim(std::string_view bytes);
  // Writes what the socket takes. Io::ok when everything queued has gone.
  Io flush();
  bool has_output() const { return out_pos_ < out_.size(); }
  bool close_after() const { return close_after_; }
  void set_close_after() { close_after_ = true; }
  bool continue_sent() const { return continue_sent_; }
  void mark_continue_sent() { continue_sent_ = true; }

  // After an answer has gone: back to idle for the next request.
  void finish_answer(Clock::time_point now);
  // After an answer that closes: shut the write side and drop what arrives for a while.
  void start_lingering(Clock::time_point now);
  // Lingering: reads and drops up to `budget` bytes; Io::closed when the peer is done.
  Io drain(size_t budget);
  size_t drained() const { return drained_; }

  int requests_served() const { return requests_; }
  void count_request() { ++requests_; }

  ResponseFraming framing;   // of the request being answered
  uint32_t registered = 0;   // the event mask epoll holds for this connection

 private:
  int fd_;
  uint64_t id_;
  Phase phase_ = Phase::idle;
  HttpRequestReader reader_;
  std::string unparsed_;
  std::string out_;
  size_t out_pos_ = 0;
  bool close_after_ = false;
  bool continue_sent_ = false;
  bool eof_ = false;
  int requests_ = 0;
  size_t drained_ = 0;
  Clock::time_point idle_since_, request_started_, phase_since_;
};

}  // namespace convoy::serve
