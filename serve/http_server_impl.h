// The inside of serve/http_server.h's HttpServer, shared by the files that implement it:
// http_server.cpp (the event loop, reading, dispatching, answering) and
// http_server_admission.cpp (accepting under the connection cap, deadlines, stopping).
// Everything here runs on the event loop thread, except wake() and the answers workers hand
// back through `done`.
#pragma once
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/error.h"
#include "serve/http_connection.h"
#include "serve/http_server.h"
#include "serve/worker_pool.h"

namespace convoy::serve {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;

struct HttpServer::Impl {
  using Phase = HttpConnection::Phase;
  using Io = HttpConnection::Io;

  Impl(const HttpServerOptions& o, HttpHandler h, HttpErrorAnswer e)
      : options(o), handler(std::move(h)), error_answer(std::move(e)) {}

  HttpServerOptions options;
  HttpHandler handler;
  HttpErrorAnswer error_answer;
  int max_connections = 0;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  int port = -1;
  bool accepting = false;
  Clock::time_point accept_paused_until{};
  Clock::duration tick{};

  std::unordered_map<uint64_t, std::unique_ptr<HttpConnection>> connections;
  uint64_t next_id = 2;
  std::unique_ptr<WorkerPool> pool;
  int64_t jobs_out = 0;  // handed to workers, answer not yet taken back (loop thread only)
  std::mutex done_mutex;
  std::vector<std::pair<uint64_t, HttpResponse>> done;

  std::atomic<bool> stop_requested{false};
  bool stop_begun = false;

  struct {
    std::atomic<int64_t> accepted{0}, requests{0}, timed_out{0}, idle_closed{0}, evicted_idle{0}, evicted_slow{0},
        refused{0}, open{0}, peak_open{0};
  } counters;

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
  }
  void watch(int fd, uint64_t id, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) fail("server: epoll_ctl: ", std::strerror(errno));
  }
  void set_accepting(bool on) {
    if (on == accepting || listen_fd < 0) return;
    if (on) watch(listen_fd, kListenId, EPOLLIN);
    else ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    accepting = on;
  }

  void loop();
  void accept_all(Clock::time_point now);
  bool make_room(Clock::time_point now);
  void add_connection(int fd, Clock::time_point now, bool refuse);
  void on_event(HttpConnection& c, uint32_t events, Clock::time_point now);
  bool pump(HttpConnection& c, Clock::time_point now);
  void dispatch(HttpConnection& c, HttpRequest request, Clock::time_point now);
  void answer(HttpConnection& c, const HttpResponse& response, Clock::time_point now);
  void answer_error(HttpConnection& c, int status, const std::string& message, Clock::time_point now);
  void take_answers(Clock::time_point now);
  void sweep(Clock::time_point now);
  void begin_stop();
  void update_events(HttpConnection& c);
  void close(HttpConnection& c);
};
}  // namespace convoy::serve
