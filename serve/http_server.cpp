#include "serve/http_server.h"

#include <sys/eventfd.h>

#include <algorithm>

#include "serve/http_server_impl.h"
#include "serve/listen_socket.h"

namespace convoy::serve {

namespace {
constexpr size_t kReadBudget = 256 * 1024;  // bytes read from one connection per turn of the loop
constexpr int kFdReserve = 64;              // descriptors kept for everything but connections
}  // namespace

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
