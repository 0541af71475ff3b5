// The HTTP/1.x request reader (serve/http_request_reader.h) on byte strings: what it reads from
// a request, what it refuses and with which status, that pipelined requests come out one at a
// time, and that a stream fed byte by byte reads as it does in one piece.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "serve/http_request_reader.h"

namespace convoy::serve {
namespace {

using State = HttpRequestReader::State;

// Every request (or the error) a stream holds, fed in pieces of `piece` bytes.
struct Outcome {
  std::vector<HttpRequest> requests;
  int error_status = 0;
  std::string error;
  size_t consumed = 0;
};

Outcome read_all(std::string_view stream, size_t piece, HttpLimits limits = {}) {
  HttpRequestReader reader(limits);
  Outcome out;
  std::string buffer;  // handed over, not yet used: what a connection keeps for the reader
  size_t pos = 0;
  while (true) {
    const size_t used = reader.feed(buffer);
    out.consumed += used;
    buffer.erase(0, used);
    if (reader.state() == State::complete) {
      out.requests.push_back(reader.take());
    } else if (reader.state() == State::failed) {
      out.error_status = reader.error().status;
      out.error = reader.error().message;
      return out;
    } else if (used == 0) {
      if (pos >= stream.size()) return out;
      const size_t n = std::min(piece, stream.size() - pos);
      buffer.append(stream.substr(pos, n));
      pos += n;
    }
  }
}

HttpRequest read_one(std::string_view stream) {
  Outcome o = read_all(stream, stream.size());
  EXPECT_EQ(o.error_status, 0) << o.error;
  EXPECT_EQ(o.requests.size(), 1u);
  return o.requests.empty() ? HttpRequest{} : o.requests.front();
}

int status_of(std::string_view stream, HttpLimits limits = {}) { return read_all(stream, stream.size(), limits).error_status; }

TEST(HttpRequestReader, ReadsARequestLineFieldsAndBody) {
  const HttpRequest r = read_one(
      "POST /invocations?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type:  image/jpeg \r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.head.method, "POST");
  EXPECT_EQ(r.head.target, "/invocations?x=1");
  EXPECT_EQ(r.head.path, "/invocations");
  EXPECT_EQ(r.head.minor_version, 1);
  EXPECT_EQ(r.head.field("content-type"), "image/jpeg");
  EXPECT_EQ(r.head.field("Accept"), "");
  EXPECT_EQ(r.body, "hello");
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(read_one("GET http://example.com:8080/ping?a HTTP/1.1\r\n\r\n").head.path, "/ping");
  EXPECT_EQ(read_one("GET http://example.com HTTP/1.1\r\n\r\n").head.path, "/");
}

TEST(HttpRequestReader, KeepAliveFollowsTheVersionAndConnectionField) {
  EXPECT_TRUE(read_one("GET / HTTP/1.1\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(read_one("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(read_one("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(read_one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(read_one("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(read_one("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx").head.expect_continue);
}

TEST(HttpRequestReader, ChunkedBodiesAreDecoded) {
  const HttpRequest r = read_one(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-T: 1\r\n\r\n");
  EXPECT_EQ(r.body, "hello world!");
}

TEST(HttpRequestReader, PipelinedRequestsComeOutOneAtATimeInOrder) {
  const std::string stream =
      "\r\nGET /ping HTTP/1.1\r\n\r\nPOST /invocations HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nGET /last HTTP/1.0\n\n";
  for (size_t piece : {stream.size(), size_t(1), size_t(7)}) {
    const Outcome o = read_all(stream, piece);
    ASSERT_EQ(o.error_status, 0) << o.error;
    ASSERT_EQ(o.requests.size(), 4u) << "piece " << piece;
    EXPECT_EQ(o.requests[0].head.path, "/ping");
    EXPECT_EQ(o.requests[1].body, "abc");
    EXPECT_EQ(o.requests[2].body, "hi");
    EXPECT_EQ(o.requests[3].head.path, "/last");
    EXPECT_EQ(o.consumed, stream.size());
  }
}

TEST(HttpRequestReader, AnOversizedBodyIsRefusedFromItsHeadBeforeAnyOfItIsRead) {
  HttpLimits limits;
  limits.max_body_bytes = 1000;
  const std::string head = "POST /invocations HTTP/1.1\r\nContent-Length: 100000000000\r\n\r\n";
  HttpRequestReader reader(limits);
  const std::string stream = head + std::string(4096, 'x');
  const size_t used = reader.feed(stream);
  ASSERT_EQ(reader.state(), State::failed);
  EXPECT_EQ(reader.error().status, 413);
  EXPECT_EQ(used, head.size()) << "no body byte may be consumed";
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", limits), 413);
  // Chunked: refused as soon as a chunk would pass the limit.
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n", limits), 413);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string("1f4\r\n") +
                          std::string(500, 'a') + "\r\n1f5\r\n", limits),
            413);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n", limits), 413);
}

TEST(HttpRequestReader, HeadsOverTheLimitsAreRefused) {
  HttpLimits limits;
  limits.max_request_line = 100;
  limits.max_head_bytes = 400;
  limits.max_header_fields = 5;
  EXPECT_EQ(status_of("GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n", limits), 414);
  EXPECT_EQ(status_of("GET /" + std::string(200, 'a'), limits), 414) << "known before the line ends";
  // A line of exactly the limit, its CR arriving before its LF (found by fuzz_http_request:
  // fed in pieces, the CR was counted and the line refused).
  const std::string at_limit = "GET /" + std::string(limits.max_request_line - 14, 'a') + " HTTP/1.1\r\n\r\n";
  for (size_t piece : {at_limit.size(), size_t(1), size_t(101)}) {
    const Outcome o = read_all(at_limit, piece, limits);
    EXPECT_EQ(o.error_status, 0) << "pieces of " << piece << ": " << o.error;
    EXPECT_EQ(o.requests.size(), 1u) << "pieces of " << piece;
  }
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 6; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
  EXPECT_EQ(status_of(many + "\r\n", limits), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX: " + std::string(500, 'v'), limits), 431) << "known before the head ends";
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX: " + std::string(500, 'v') + "\r\n\r\n", limits), 431);
}

TEST(HttpRequestReader, AmbiguousOrMalformedRequestsAreRefused) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"GET / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length : 3\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET / FTP/1.1\r\n\r\n", 400},
      {"G\x7f" "T / HTTP/1.1\r\n\r\n", 400},
      {"GET /a\x80 HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417},
  };
  for (const auto& [stream, status] : cases) {
    const Outcome o = read_all(stream, stream.size());
    EXPECT_EQ(o.error_status, status) << stream;
    if (o.error_status) EXPECT_FALSE(o.error.empty());
    EXPECT_EQ(read_all(stream, 1).error_status, status) << "byte by byte: " << stream;
  }
}

TEST(HttpRequestReader, ByteByByteReadsAsOnePiece) {
  const std::vector<std::string> streams = {
      "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /ping HTTP/1.1\nHost: x\n\n",
      "\n\r\n\r\nPOST /i HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nbody",
      "POST /i HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
      "POST /i HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n",
  };
  for (const auto& s : streams) {
    const Outcome whole = read_all(s, s.size());
    ASSERT_EQ(whole.error_status, 0) << whole.error;
    ASSERT_EQ(whole.requests.size(), 1u) << s;
    for (size_t piece = 1; piece < 9; ++piece) {
      const Outcome parts = read_all(s, piece);
      ASSERT_EQ(parts.requests.size(), 1u) << s << " in pieces of " << piece;
      EXPECT_EQ(parts.requests[0].body, whole.requests[0].body);
      EXPECT_EQ(parts.requests[0].head.target, whole.requests[0].head.target);
      EXPECT_EQ(parts.requests[0].head.fields, whole.requests[0].head.fields);
      EXPECT_EQ(parts.consumed, s.size());
    }
  }
}

TEST(HttpRequestReader, StartedOnceAnyByteOfARequestArrives) {
  HttpRequestReader reader{HttpLimits{}};
  EXPECT_FALSE(reader.started());
  reader.feed("\r\n");
  EXPECT_TRUE(reader.started()) << "empty lines before a request count toward its deadline";
  reader.feed("GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(reader.state(), State::complete);
  reader.take();
  EXPECT_FALSE(reader.started());
  EXPECT_EQ(reader.state(), State::head);
}

}  // namespace
}  // namespace convoy::serve
