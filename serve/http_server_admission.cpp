// HttpServer (serve/http_server.h): who gets in and who has to go. Accepting under the
// connection cap (making room by closing the longest-idle connection, or answering 503),
// the deadlines of every phase, and closing up on stop().
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "serve/http_server_impl.h"

namespace convoy::serve {

namespace {
constexpr int kAcceptsPerTurn = 256;
constexpr auto kAcceptPause = std::chrono::milliseconds(100);  // after running out of descriptors
}  // namespace

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

}  // namespace convoy::serve
