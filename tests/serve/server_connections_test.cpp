// The inference server's connection handling over real sockets on loopback, against the ways
// a client can hold a server up: a request trickled a byte at a time, many slow or idle
// connections, a burst of connections at once, a huge declared body, pipelined requests,
// HTTP/1.0 keep-alive. Each test runs its own server with short timeouts.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "raw_http.h"
#include "serve/server.h"
#include "serve_test_helpers.h"

namespace convoy::serve {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::RawConnection;
using Seconds = std::chrono::duration<double>;

Predictor& shared_predictor() {
  static std::unique_ptr<Predictor> p = Predictor::load(test::saved_test_model(), {});
  return *p;
}

ServerOptions small_server() {
  ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.http_threads = 8;
  so.batching.max_wait = std::chrono::milliseconds(1);
  so.request_timeout = 1000ms;
  so.keep_alive_timeout = 3000ms;
  return so;
}

// An InferenceServer running on its own thread for the life of the object.
struct RunningServer {
  explicit RunningServer(const ServerOptions& so, bool start = true) : server(shared_predictor(), so) {
    port = server.bind();
    if (start) this->start();
  }
  void start() {
    thread = std::thread([this] { server.run(); });
  }
  ~RunningServer() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  InferenceServer server;
  int port = 0;
  std::thread thread;
};

const std::string kPing = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";

// Seconds a fresh connection takes to get /ping answered; a large number when it is not.
double ping_seconds(int port) {
  const auto t0 = std::chrono::steady_clock::now();
  RawConnection c(port);
  if (!c.ok() || !c.send_all(kPing)) return 1e9;
  auto a = c.read_answer(3000ms);
  if (!a || a->status != 200) return 1e9;
  return Seconds(std::chrono::steady_clock::now() - t0).count();
}

TEST(ServerConnections, ARequestTrickledAByteAtATimeRunsOutOfItsDeadline) {
  RunningServer s(small_server());  // 1 s for a whole request
  RawConnection c(s.port);
  ASSERT_TRUE(c.ok());
  const std::string head = "GET /ping HTTP/1.1\r\nHost: t\r\nX-Slow: ";
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send_all(head));
  // One byte every 100 ms: each read gets data well within any per-read timeout.
  bool closed = false;
  while (!closed && Seconds(std::chrono::steady_clock::now() - t0).count() < 5.0) {
    if (!c.send_all("x")) break;
    closed = c.closed_within(100ms);
  }
  const double took = Seconds(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(closed) << "the connection was still open after " << took << " s";
  EXPECT_LT(took, 2.5) << "the request deadline is 1 s";
  EXPECT_NE(c.buffered().find("HTTP/1.1 408 "), std::string::npos) << c.buffered();
  EXPECT_EQ(s.server.http_stats().timed_out, 1);
}

TEST(ServerConnections, PingIsAnsweredWhileSlowAndIdleClientsHoldManyConnections) {
  RunningServer s(small_server());  // 8 worker threads
  // 60 idle keep-alive connections, each after one answered request.
  std::vector<RawConnection> idle;
  for (int i = 0; i < 60; ++i) {
    idle.emplace_back(s.port);
    ASSERT_TRUE(idle.back().send_all(kPing));
    ASSERT_TRUE(idle.back().read_answer()) << "idle client " << i;
  }
  // 60 clients trickling their heads, reconnecting when cut off, until the pings are done.
  std::atomic<bool> done{false};
  std::thread slow([&] {
    std::vector<std::unique_ptr<RawConnection>> conns(60);
    while (!done) {
      for (auto& c : conns) {
        if (!c || !c->send_all("x")) {
          c = std::make_unique<RawConnection>(s.port);
          if (c->ok()) c->send_all("POST /invocations HTTP/1.1\r\nHost: t\r\nX-Slow: ");
        }
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  std::vector<double> times;
  for (int i = 0; i < 20; ++i) times.push_back(ping_seconds(s.port));
  done = true;
  slow.join();
  std::sort(times.begin(), times.end());
  EXPECT_LT(times.back(), 0.5) << "slowest of 20 pings; median " << times[10] << " s";
  // The idle connections are still usable.
  ASSERT_TRUE(idle.front().send_all(kPing));
  auto a = idle.front().read_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200);
}

TEST(ServerConnections, AtTheCapTheLongestIdleConnectionMakesRoom) {
  ServerOptions so = small_server();
  so.max_connections = 16;
  RunningServer s(so);
  std::vector<RawConnection> idle;
  for (int i = 0; i < 16; ++i) {
    idle.emplace_back(s.port);
    ASSERT_TRUE(idle.back().send_all(kPing));
    ASSERT_TRUE(idle.back().read_answer()) << i;
  }
  EXPECT_LT(ping_seconds(s.port), 1.0) << "a 17th connection should be served";
  EXPECT_TRUE(idle.front().closed_within(1000ms)) << "the longest-idle connection should have been closed";
  EXPECT_EQ(idle.front().last_recv_error(), 0) << "closed, not reset";
  ASSERT_TRUE(idle.back().send_all(kPing));
  EXPECT_TRUE(idle.back().read_answer()) << "the most recent idle connection stays";
  const auto st = s.server.http_stats();
  EXPECT_GE(st.evicted_idle, 1);
  EXPECT_LE(st.peak_open, 17);
}

TEST(ServerConnections, AtTheCapTheOldestSlowHeadGoesAndBusyConnectionsStay) {
  ServerOptions so = small_server();
  so.max_connections = 4;
  RunningServer s(so);
  // Four connections still sending their heads: the oldest is answered 503 for a newcomer.
  std::vector<RawConnection> slow;
  for (int i = 0; i < 4; ++i) {
    slow.emplace_back(s.port);
    ASSERT_TRUE(slow.back().send_all("GET /ping HTTP/1.1\r\nX-Slow: "));
    std::this_thread::sleep_for(20ms);  // distinct start times
  }
  EXPECT_LT(ping_seconds(s.port), 1.0) << "the newcomer should be served";
  ASSERT_TRUE(slow.front().closed_within(1000ms));
  EXPECT_EQ(slow.front().buffered().rfind("HTTP/1.1 503 ", 0), 0u) << slow.front().buffered();
  EXPECT_EQ(s.server.http_stats().evicted_slow, 1);
  slow.clear();

  // Four connections in the middle of their bodies cannot be made to go: the newcomer is
  // answered 503, and the four still get their answers.
  const auto px = test::cifar_pixels(test::sample_jpegs()[0].bytes);
  const std::string image(px.begin(), px.end());
  std::vector<RawConnection> busy;
  for (int i = 0; i < 4; ++i) {
    busy.emplace_back(s.port);
    ASSERT_TRUE(busy.back().send_all("POST /invocations HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
                                     "Content-Length: 3072\r\n\r\n" + image.substr(0, 100)));
  }
  std::this_thread::sleep_for(100ms);
  RawConnection newcomer(s.port);
  ASSERT_TRUE(newcomer.ok());
  auto refused = newcomer.read_answer(2000ms);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_TRUE(newcomer.closed_within(3000ms));
  EXPECT_GE(s.server.http_stats().refused, 1);
  for (auto& c : busy) {
    ASSERT_TRUE(c.send_all(image.substr(100)));
    auto a = c.read_answer();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
  }
}

TEST(ServerConnections, ABurstOfConnectionsWaitsInTheListenBacklog) {
  RunningServer s(small_server(), /*start=*/false);
  // Nothing accepts yet: every connection the backlog holds completes its handshake.
  int somaxconn = 4096;
  std::ifstream("/proc/sys/net/core/somaxconn") >> somaxconn;
  const int kBurst = std::min(200, somaxconn);
  std::vector<int> fds;
  for (int i = 0; i < kBurst; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(s.port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(300ms);  // a dropped SYN is retried after 1 s
  int connected = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    int err = -1;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, 0) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) ++connected;
  }
  EXPECT_EQ(connected, kBurst) << "the listen backlog held only " << connected;
  // Then all of them are answered, none reset.
  s.start();
  int answered = 0;
  for (int fd : fds) {
    ::send(fd, kPing.data(), kPing.size(), MSG_NOSIGNAL);
  }
  for (int fd : fds) {
    std::string got;
    const auto t0 = std::chrono::steady_clock::now();
    while (got.find("\r\n\r\n") == std::string::npos && Seconds(std::chrono::steady_clock::now() - t0).count() < 5) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    if (got.rfind("HTTP/1.1 200 ", 0) == 0) ++answered;
    ::close(fd);
  }
  EXPECT_EQ(answered, kBurst);
}

TEST(ServerConnections, AHugeContentLengthIsRefusedBeforeTheBodyIsRead) {
  RunningServer s(small_server());
  RawConnection c(s.port);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send_all("POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: 100000000000\r\n\r\n"));
  // Keep sending the body until an answer comes (at most 64 MB).
  const std::string chunk(64 * 1024, 'x');
  size_t sent = 0;
  std::optional<test::RawAnswer> answer;
  while (!answer && sent < (64u << 20)) {
    if (!c.send_all(chunk)) break;
    sent += chunk.size();
    answer = c.read_answer(1ms);
  }
  if (!answer) answer = c.read_answer(1000ms);
  ASSERT_TRUE(answer) << "no answer after " << sent << " body bytes";
  EXPECT_EQ(answer->status, 413) << answer->body;
  EXPECT_LT(sent, 8u << 20) << "the answer should come from the head, not after the body";
  EXPECT_EQ(answer->field("Connection"), "close");
  EXPECT_TRUE(json::parse(answer->body).contains("error"));
  EXPECT_TRUE(c.closed_within(4000ms)) << "the connection should close after a short linger";
}

TEST(ServerConnections, PipelinedRequestsAreAnsweredInOrder) {
  RunningServer s(small_server());
  const auto px = test::cifar_pixels(test::sample_jpegs()[0].bytes);
  const std::string image(px.begin(), px.end());
  RawConnection c(s.port);
  ASSERT_TRUE(c.send_all(kPing + "POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: " + std::to_string(image.size()) + "\r\n\r\n" + image +
                         "GET /execution-parameters HTTP/1.1\r\nHost: t\r\n\r\n" + kPing));
  auto first = c.read_answer(), second = c.read_answer(), third = c.read_answer(), fourth = c.read_answer();
  ASSERT_TRUE(first && second && third && fourth) << "every pipelined request should be answered";
  EXPECT_EQ(json::parse(first->body).at("status"), "ok");
  EXPECT_EQ(json::parse(second->body).at("predictions").size(), 1u);
  EXPECT_TRUE(json::parse(third->body).contains("MaxPayloadInMB"));
  EXPECT_EQ(json::parse(fourth->body).at("status"), "ok");
}

TEST(ServerConnections, Http10KeepAliveIsHonouredAndPlainHttp10Closes) {
  RunningServer s(small_server());
  RawConnection c(s.port);
  const std::string ping10 = "GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_TRUE(c.send_all(ping10));
  auto a = c.read_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->field("Connection"), "keep-alive");
  ASSERT_TRUE(c.send_all(ping10)) << "the connection was kept open as advertised";
  a = c.read_answer();
  ASSERT_TRUE(a) << "a second request on the kept connection should be answered";
  EXPECT_EQ(a->status, 200);

  RawConnection plain(s.port);
  ASSERT_TRUE(plain.send_all("GET /ping HTTP/1.0\r\n\r\n"));
  a = plain.read_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->field("Connection"), "close");
  EXPECT_TRUE(plain.closed_within(3000ms));
}

TEST(ServerConnections, ExpectContinueIsAnsweredBeforeTheBody) {
  RunningServer s(small_server());
  const auto px = test::cifar_pixels(test::sample_jpegs()[0].bytes);
  RawConnection c(s.port);
  ASSERT_TRUE(c.send_all("POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
                         "Expect: 100-continue\r\nContent-Length: 3072\r\n\r\n"));
  auto interim = c.read_answer(2000ms);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send_all(std::string(px.begin(), px.end())));
  auto a = c.read_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200);

  RawConnection big(s.port);
  ASSERT_TRUE(big.send_all("POST /invocations HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                           "Content-Length: 7000000\r\n\r\n"));
  a = big.read_answer(2000ms);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 413) << "an oversized body is refused instead of invited";
}

TEST(ServerConnections, HeadIsAnsweredLikeGetWithoutABody) {
  RunningServer s(small_server());
  RawConnection c(s.port);
  ASSERT_TRUE(c.send_all("HEAD /ping HTTP/1.1\r\nHost: t\r\n\r\n"));
  while (c.buffered().find("\r\n\r\n") == std::string::npos && c.receive(2000ms)) {
  }
  EXPECT_FALSE(c.receive(200ms)) << "HEAD must not send a body";
  const std::string head = c.take_buffered();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head;
  EXPECT_EQ(head.find("\r\n\r\n") + 4, head.size()) << head;
  EXPECT_NE(head.find("Content-Length: "), std::string::npos) << head;
  ASSERT_TRUE(c.send_all(kPing));
  auto a = c.read_answer();
  ASSERT_TRUE(a);
  EXPECT_EQ(json::parse(a->body).at("status"), "ok");
}

}  // namespace
}  // namespace convoy::serve
