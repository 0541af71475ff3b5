#include "serve/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/error.h"
#include "serve/http_connection.h"
#include "serve/listen_socket.h"
#include "serve/worker_pool.h"

namespace convoy::serve {

namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadBudget = 256 * 1024;   // bytes read from one connection per turn of the loop
constexpr int kAcceptsPerTurn = 256;
constexpr int kFdReserve = 64;               // descriptors kept for everything but connections
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

using Phase = HttpConnection::Phase;
using Io = HttpConnection::Io;

}  // namespace

struct HttpServer::Impl {
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

void HttpServer::Impl::update_events(HttpConnection& c) {
  const uint32_t want = c.wanted_events();
  if (want == c.registered) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id();
  ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd(), &ev);
  c.registered = want;
}

void HttpServer::Impl::close(HttpConnection& c) {
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd(), nullptr);
  connections.erase(c.id());  // destroys c, closing its socket
  counters.open = static_cast<int64_t>(connections.size());
}

void HttpServer::Impl::add_connection(int fd, Clock::time_point now, bool refuse) {
  const uint64_t id = next_id++;
  auto c = std::make_unique<HttpConnection>(fd, id, options.limits, now);
  HttpConnection& ref = *c;
  connections.emplace(id, std::move(c));
  counters.open = static_cast<int64_t>(connections.size());
  counters.peak_open = std::max<int64_t>(counters.peak_open, counters.open);
  ref.registered = EPOLLIN;
  watch(fd, id, EPOLLIN);
  if (refuse) {
    ref.framing = ResponseFraming{false, 1, false};
    answer_error(ref, 503, "too many connections: retry shortly", now);
    if (pump(ref, now)) update_events(ref);
  }
}

// At the cap: close a lingering connection, else the longest-idle one, else answer 503 to the
// oldest one still sending its head. False when every connection is busy with a request.
bool HttpServer::Impl::make_room(Clock::time_point now) {
  HttpConnection *lingering = nullptr, *idle = nullptr, *slow = nullptr;
  for (auto& [id, c] : connections) {
    switch (c->phase()) {
      case Phase::lingering:
        if (!lingering) lingering = c.get();
        break;
      case Phase::idle:
        if (!idle || c->idle_since() < idle->idle_since()) idle = c.get();
        break;
      case Phase::reading:
        if (c->reader().state() == HttpRequestReader::State::head &&
            (!slow || c->request_started() < slow->request_started()))
          slow = c.get();
        break;
      default:
        break;
    }
  }
  if (lingering) {
    close(*lingering);
  } else if (idle) {
    ++counters.evicted_idle;
    close(*idle);
  } else if (slow) {
    ++counters.evicted_slow;
    // A best-effort answer: the client is slow, so the connection goes without lingering.
    slow->framing = ResponseFraming{false, 1, false};
    answer_error(*slow, 503, "too many connections: the request head took too long to arrive", now);
    slow->flush();
    close(*slow);
  } else {
    return false;
  }
  return true;
}

void HttpServer::Impl::accept_all(Clock::time_point now) {
  for (int k = 0; k < kAcceptsPerTurn; ++k) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: leave the rest in the backlog for a moment.
        set_accepting(false);
        accept_paused_until = now + kAcceptPause;
      }
      return;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    ++counters.accepted;
    bool refuse = false;
    if (static_cast<int>(connections.size()) >= max_connections && !make_room(now)) {
      // Room for a 503 only within an eighth over the cap; past that the newcomer is just closed.
      if (static_cast<int>(connections.size()) >= max_connections + max_connections / 8 + 1) {
        ++counters.refused;
        ::close(fd);
        continue;
      }
      ++counters.refused;
      refuse = true;
    }
    add_connection(fd, now, refuse);
  }
}

void HttpServer::Impl::answer(HttpConnection& c, const HttpResponse& response, Clock::time_point now) {
  ResponseFraming f = c.framing;
  f.keep_alive = f.keep_alive && !response.close && !stop_begun;
  c.start_answer(http_response_bytes(response, f), !f.keep_alive, now);
}

void HttpServer::Impl::answer_error(HttpConnection& c, int status, const std::string& message, Clock::time_point now) {
  HttpResponse r = error_answer(status, message);
  r.close = true;
  answer(c, r, now);
}

void HttpServer::Impl::dispatch(HttpConnection& c, HttpRequest request, Clock::time_point now) {
  c.count_request();
  ++counters.requests;
  c.framing.minor_version = request.head.minor_version;
  c.framing.head_only = request.head.method == "HEAD";
  c.framing.keep_alive = request.head.keep_alive && c.requests_served() < options.keep_alive_max_requests;
  HttpDispatch d;
  try {
    d = handler(request);
  } catch (const std::exception& e) {
    d.now = error_answer(500, std::string("internal error: ") + e.what());
  }
  if (d.now || !d.later) {
    answer(c, d.now ? *d.now : error_answer(500, "internal error: the request was not handled"), now);
    return;
  }
  c.start_working();
  ++jobs_out;
  try {
    pool->submit([this, id = c.id(), job = std::move(d.later)] {
      HttpResponse r;
      try {
        r = job();
      } catch (const std::exception& e) {
        r = error_answer(500, std::string("internal error: ") + e.what());
      } catch (...) {
        r = error_answer(500, "internal error");
      }
      {
        std::lock_guard<std::mutex> lock(done_mutex);
        done.emplace_back(id, std::move(r));
      }
      wake();
    });
  } catch (const Error&) {
    --jobs_out;
    answer_error(c, 503, "the server is shutting down", now);
  }
}

// Drives a connection as far as it goes without waiting: writes what it can, parses what it
// has read, dispatches complete requests, answers failed ones. False when it was closed.
bool HttpServer::Impl::pump(HttpConnection& c, Clock::time_point now) {
  while (true) {
    switch (c.phase()) {
      case Phase::working:
      case Phase::lingering:
        return true;
      case Phase::writing: {
        const Io io = c.flush();
        if (io == Io::closed) {
          close(c);
          return false;
        }
        if (io == Io::blocked) return true;
        if (c.close_after()) {
          c.start_lingering(now);
          return true;
        }
        c.finish_answer(now);
        break;
      }
      case Phase::idle:
      case Phase::reading: {
        if (c.has_output() && c.flush() == Io::closed) {
          close(c);
          return false;
        }
        if (c.unparsed().empty()) {
          if (c.eof()) {  // the client is done and no request is pending
            close(c);
            return false;
          }
          return true;
        }
        std::string bytes = std::move(c.unparsed());
        c.unparsed().clear();
        const size_t used = c.parse(bytes, now);
        c.unparsed().assign(bytes, used, std::string::npos);
        auto& reader = c.reader();
        if (reader.state() == HttpRequestReader::State::failed) {
          c.unparsed().clear();
          c.framing.minor_version = 1;
          c.framing.head_only = false;
          answer_error(c, reader.error().status, reader.error().message, now);
        } else if (reader.state() == HttpRequestReader::State::complete) {
          dispatch(c, reader.take(), now);
        } else if (reader.state() == HttpRequestReader::State::body && reader.head().expect_continue &&
                   !c.continue_sent()) {
          c.send_interim(http_continue_bytes());
          c.mark_continue_sent();
        }
        break;
      }
    }
  }
}

void HttpServer::Impl::on_event(HttpConnection& c, uint32_t events, Clock::time_point now) {
  if (events & EPOLLERR) return close(c);
  switch (c.phase()) {
    case Phase::idle:
    case Phase::reading:
      if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) {
        if (c.read_some(c.unparsed(), kReadBudget) == Io::closed && !c.eof()) return close(c);
      }
      break;
    case Phase::working:
      if ((events & EPOLLHUP) && !c.has_output()) return close(c);  // the client is gone
      break;
    case Phase::writing:
      break;
    case Phase::lingering: {
      const Io io = c.drain(kReadBudget);
      if (io == Io::closed || c.drained() >= options.linger_bytes) return close(c);
      return update_events(c);
    }
  }
  if (pump(c, now)) update_events(c);
}

void HttpServer::Impl::take_answers(Clock::time_point now) {
  std::vector<std::pair<uint64_t, HttpResponse>> answers;
  {
    std::lock_guard<std::mutex> lock(done_mutex);
    answers.swap(done);
  }
  for (auto& [id, response] : answers) {
    --jobs_out;
    auto it = connections.find(id);
    if (it == connections.end()) continue;  // the client went away meanwhile
    HttpConnection& c = *it->second;
    answer(c, response, now);
    if (pump(c, now)) update_events(c);
  }
}

void HttpServer::Impl::sweep(Clock::time_point now) {
  if (!accepting && !stop_begun && now >= accept_paused_until) set_accepting(true);
  std::vector<uint64_t> expired;
  for (auto& [id, c] : connections) {
    switch (c->phase()) {
      case Phase::idle:
        if (now - c->idle_since() >= options.idle_timeout) expired.push_back(id);
        break;
      case Phase::reading:
        if (now - c->request_started() >= options.request_timeout) expired.push_back(id);
        break;
      case Phase::writing:
        if (now - c->phase_deadline_base() >= options.request_timeout) expired.push_back(id);
        break;
      case Phase::lingering:
        if (now - c->phase_deadline_base() >= options.linger_time) expired.push_back(id);
        break;
      case Phase::working:
        break;
    }
  }
  for (uint64_t id : expired) {
    auto it = connections.find(id);
    if (it == connections.end()) continue;
    HttpConnection& c = *it->second;
    if (c.phase() == Phase::reading) {
      ++counters.timed_out;
      c.framing.minor_version = 1;
      c.framing.head_only = false;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.request_timeout).count();
      answer_error(c, 408, "the request did not arrive whole within " + std::to_string(ms) + " ms", now);
      if (pump(c, now)) update_events(c);
    } else {
      if (c.phase() == Phase::idle) ++counters.idle_closed;
      close(c);
    }
  }
}

void HttpServer::Impl::begin_stop() {
  stop_begun = true;
  set_accepting(false);
  if (listen_fd >= 0) ::close(listen_fd);
  listen_fd = -1;
  std::vector<HttpConnection*> idle;
  for (auto& [id, c] : connections) {
    if (c->phase() == Phase::idle || c->phase() == Phase::reading) idle.push_back(c.get());
    else if (c->phase() == Phase::writing) c->set_close_after();
  }
  for (HttpConnection* c : idle) close(*c);
}

void HttpServer::Impl::loop() {
  std::vector<epoll_event> events(256);
  auto next_sweep = Clock::now() + tick;
  while (true) {
    if (stop_requested && !stop_begun) begin_stop();
    if (stop_begun && connections.empty() && jobs_out == 0) return;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_sweep - Clock::now()).count();
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::max<int64_t>(0, wait) + 1));
    if (n < 0 && errno != EINTR) fail("server: epoll_wait: ", std::strerror(errno));
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        if (accepting) accept_all(now);
      } else if (id == kWakeId) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(wake_fd, &count, sizeof count);
      } else if (auto it = connections.find(id); it != connections.end()) {
        on_event(*it->second, events[i].events, now);
      }
    }
    take_answers(now);
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + tick;
    }
  }
}

HttpServer::HttpServer(const HttpServerOptions& options, HttpHandler handler, HttpErrorAnswer error_answer)
    : impl_(std::make_unique<Impl>(options, std::move(handler), std::move(error_answer))) {
  auto& o = impl_->options;
  if (o.max_connections < 1) fail("server: the connection cap is ", o.max_connections, "; it must be at least 1");
  if (o.workers < 1) fail("server: ", o.workers, " worker threads; at least 1 is needed");
  if (o.request_timeout.count() <= 0 || o.idle_timeout.count() <= 0)
    fail("server: the request and idle timeouts must be positive");
  // Each connection holds a descriptor; an eighth more may be open while being refused.
  const long needed = static_cast<long>(o.max_connections) + o.max_connections / 8 + 1 + kFdReserve;
  const long limit = raise_open_file_limit(needed);
  impl_->max_connections =
      limit >= needed ? o.max_connections : std::max(1, static_cast<int>((limit - kFdReserve) * 8 / 9));
  const auto shortest = std::min({o.request_timeout, o.idle_timeout, o.linger_time});
  impl_->tick = std::clamp<Clock::duration>(shortest / 10, std::chrono::milliseconds(5), std::chrono::milliseconds(100));
  impl_->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0) fail("server: cannot create the event loop: ", std::strerror(errno));
  impl_->watch(impl_->wake_fd, kWakeId, EPOLLIN);
}

HttpServer::~HttpServer() {
  if (impl_->pool) impl_->pool->stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  impl_->connections.clear();
  ::close(impl_->wake_fd);
  ::close(impl_->epoll_fd);
}

int HttpServer::bind() {
  if (impl_->listen_fd < 0 && !impl_->stop_begun) {
    impl_->listen_fd = open_listen_socket(impl_->options.host, impl_->options.port, impl_->options.backlog);
    impl_->port = bound_port(impl_->listen_fd);
  }
  return impl_->port;
}

void HttpServer::run() {
  if (impl_->stop_requested) return;
  bind();
  impl_->pool = std::make_unique<WorkerPool>(impl_->options.workers);
  impl_->set_accepting(true);
  impl_->loop();
  impl_->pool->stop();
}

void HttpServer::stop() {
  impl_->stop_requested = true;
  impl_->wake();
}

bool HttpServer::stopping() const { return impl_->stop_requested; }
int HttpServer::port() const { return impl_->port; }
int HttpServer::max_connections() const { return impl_->max_connections; }

HttpServerStats HttpServer::stats() const {
  const auto& c = impl_->counters;
  HttpServerStats s;
  s.accepted = c.accepted;
  s.requests = c.requests;
  s.timed_out = c.timed_out;
  s.idle_closed = c.idle_closed;
  s.evicted_idle = c.evicted_idle;
  s.evicted_slow = c.evicted_slow;
  s.refused = c.refused;
  s.open = c.open;
  s.peak_open = c.peak_open;
  return s;
}

}  // namespace convoy::serve
