// HttpServer: an HTTP/1.1 server on one epoll event loop with a pool of worker threads, built
// so that slow, idle or hostile clients cannot starve it.
//
//   - One thread accepts, reads, parses and writes for every connection (non-blocking
//     sockets), so a connection costs a buffer, not a thread. The handler decides on that
//     thread whether to answer at once (cheap routes such as /ping) or to hand the request
//     to a worker (decoding and prediction); so a cheap route never waits behind the work.
//   - Every request has one deadline for its head and body together (request_timeout, from
//     its first byte): a client that sends a byte now and then gets 408 and is closed when it
//     runs out. A connection with no request in progress is closed after idle_timeout.
//   - A declared Content-Length over limits.max_body_bytes is answered 413 as soon as the head
//     is read, before any of the body; chunked bodies are refused as soon as they pass it.
//   - At most max_connections are open. When a new one arrives at the cap, a connection that
//     is only closing (lingering) or else the longest-idle one is closed to make room;
//     failing that, the oldest one still sending its request head is answered 503 and
//     closed; failing that, the newcomer is answered 503.
//   - The listen backlog is `backlog` (SOMAXCONN), so a burst of connections waits in the
//     kernel instead of being reset.
//   - Pipelined requests are answered one at a time, in order: the next is not read until the
//     answer to the one before has been written.
//   - HTTP/1.0 clients that ask for keep-alive get it (and are told so); others are closed
//     after their answer. An answer that closes the connection is followed by a short
//     lingering close (drop what the client still sends), so the client reads the answer
//     instead of a connection reset.
// stop() closes the listening socket and the connections with no complete request, lets the
// requests with the workers finish and be answered, then run() returns.
#pragma once
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "serve/http_message.h"

namespace convoy::serve {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;                   // 0: any free port (see HttpServer::port())
  int backlog = SOMAXCONN;           // pending connections the kernel holds (it caps this at net.core.somaxconn)
  int max_connections = 1024;        // open at once; lowered to what the open-file limit allows
  int workers = 64;                  // threads running handed-off requests (requests in progress at once)
  HttpLimits limits;
  std::chrono::milliseconds request_timeout{5000};  // a whole request (head and body), and writing its answer
  std::chrono::milliseconds idle_timeout{5000};     // a connection with no request in progress
  std::chrono::milliseconds linger_time{2000};      // reading and dropping after an answer that closes
  size_t linger_bytes = 64 * 1024 * 1024;           // ... and at most this much
  int keep_alive_max_requests = 1000;               // requests on one connection before it is closed
};

// What a handler decides for a request, on the event loop: an answer now, or work for a
// worker thread whose result is the answer. Exactly one of the two is set.
struct HttpDispatch {
  std::optional<HttpResponse> now;
  std::function<HttpResponse()> later;
};
// Called on the event loop thread: must not block. It may move the body out of the request.
using HttpHandler = std::function<HttpDispatch(HttpRequest& request)>;
// The answer the server itself gives for a status it decides (400, 408, 413, 500, 503, ...).
using HttpErrorAnswer = std::function<HttpResponse(int status, const std::string& message)>;

struct HttpServerStats {
  int64_t accepted = 0;          // connections accepted
  int64_t requests = 0;          // complete requests dispatched
  int64_t timed_out = 0;         // requests answered 408 (not complete within request_timeout)
  int64_t idle_closed = 0;       // idle connections closed for the idle timeout
  int64_t evicted_idle = 0;      // idle connections closed to make room under the cap
  int64_t evicted_slow = 0;      // connections still sending their head, answered 503 to make room
  int64_t refused = 0;           // new connections answered 503: the cap was reached and nothing could go
  int64_t open = 0;              // connections open now
  int64_t peak_open = 0;         // most connections open at once
};

class HttpServer {
 public:
  HttpServer(const HttpServerOptions& options, HttpHandler handler, HttpErrorAnswer error_answer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Opens the listening socket (a convoy::Error naming host and port when it cannot) and
  // returns the port bound.
  int bind();
  // Serves until stop(), then drains as described above. Binds first if bind() was not called.
  void run();
  // Thread-safe; may come before run() (run() then returns at once).
  void stop();
  bool stopping() const;

  int port() const;
  int max_connections() const;  // after the open-file limit
  HttpServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::serve
