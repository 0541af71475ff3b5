// The inference server over real HTTP on loopback: every content type with real CIFAR-10 test
// images gives the answers convoy-predict gives for the same images; bad requests get their
// status and leave the server answering; micro-batching shares passes under load.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "serve/server.h"
#include "serve_test_helpers.h"

namespace convoy::serve {
namespace {

using nlohmann::json;

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// The probabilities of every image of an answer, in order.
std::vector<std::vector<double>> probabilities(const json& predictions) {
  std::vector<std::vector<double>> out;
  for (const auto& p : predictions) out.push_back(p.at("probabilities").get<std::vector<double>>());
  return out;
}

void expect_close(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), 10u) << what;
    ASSERT_EQ(b[i].size(), 10u) << what;
    for (size_t k = 0; k < a[i].size(); ++k) EXPECT_NEAR(a[i][k], b[i][k], 2e-5) << what << " image " << i << " class " << k;
  }
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PredictorOptions po;
    po.top_k = 3;
    predictor_ = Predictor::load(test::saved_test_model(), po).release();
    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.http_threads = 24;
    so.batching.max_batch = 64;
    so.batching.max_wait = std::chrono::milliseconds(20);
    so.request_timeout = std::chrono::milliseconds(500);
    so.keep_alive_timeout = std::chrono::seconds(1);
    server_ = new InferenceServer(*predictor_, so);
    port_ = server_->bind();
    thread_ = new std::thread([] { server_->run(); });
  }
  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete predictor_;
  }
  static httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }
  static void expect_alive() {
    auto r = client().Get("/ping");
    ASSERT_TRUE(r) << "server stopped answering";
    EXPECT_EQ(r->status, 200);
  }
  static json post_ok(const std::string& body, const std::string& type) {
    auto r = client().Post("/invocations", body, type.c_str());
    EXPECT_TRUE(r) << type;
    if (!r) return json::array();
    EXPECT_EQ(r->status, 200) << type << ": " << r->body;
    return json::parse(r->body).at("predictions");
  }

  static Predictor* predictor_;
  static InferenceServer* server_;
  static std::thread* thread_;
  static int port_;
};
Predictor* ServerTest::predictor_ = nullptr;
InferenceServer* ServerTest::server_ = nullptr;
std::thread* ServerTest::thread_ = nullptr;
int ServerTest::port_ = 0;

TEST_F(ServerTest, PingAndExecutionParameters) {
  auto r = client().Get("/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = client().Get("/execution-parameters");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json j = json::parse(r->body);
  EXPECT_GE(j.at("MaxConcurrentTransforms").get<int>(), 1);
  EXPECT_EQ(j.at("BatchStrategy"), "MULTI_RECORD");
  EXPECT_EQ(j.at("MaxPayloadInMB"), 6);
}

TEST_F(ServerTest, EveryContentTypeGivesTheSameAnswers) {
  const auto& jpegs = test::sample_jpegs();
  std::vector<std::vector<uint8_t>> pixels;
  for (const auto& m : jpegs) pixels.push_back(test::cifar_pixels(m.bytes));
  const size_t n = pixels.size();

  // One request per image for the image types.
  json by_jpeg = json::array(), by_png = json::array(), by_ximage = json::array();
  for (size_t i = 0; i < n; ++i) {
    by_jpeg.push_back(post_ok(as_string(jpegs[i].bytes), "image/jpeg").at(0));
    by_ximage.push_back(post_ok(as_string(jpegs[i].bytes), "application/x-image").at(0));
    by_png.push_back(post_ok(test::png_bytes(test::chw_to_hwc(pixels[i].data()), 32, 32), "image/png").at(0));
  }
  // All images in one request for the batch types.
  std::string records, csv;
  for (size_t i = 0; i < n; ++i) {
    records += std::string(1, static_cast<char>(i % 10)) + as_string(pixels[i]);
    csv += test::csv_line(pixels[i]);
  }
  const json by_json = post_ok(test::json_instances(pixels), "application/json");
  const json by_octet = post_ok(records, "application/octet-stream");
  const json by_csv = post_ok(csv, "text/csv");

  // The reference: the predictor called directly, all images in one pass.
  std::vector<uint8_t> all;
  for (const auto& p : pixels) all.insert(all.end(), p.begin(), p.end());
  std::vector<std::vector<double>> direct;
  for (const auto& p : predictor_->predict(all.data(), static_cast<int64_t>(n)))
    direct.emplace_back(p.probabilities.begin(), p.probabilities.end());

  expect_close(probabilities(by_jpeg), direct, "image/jpeg");
  expect_close(probabilities(by_ximage), direct, "application/x-image");
  expect_close(probabilities(by_png), direct, "image/png");
  expect_close(probabilities(by_json), direct, "application/json");
  expect_close(probabilities(by_octet), direct, "application/octet-stream");
  expect_close(probabilities(by_csv), direct, "text/csv");
  // The answer's shape: top-3, most probable first, named.
  const json& first = by_jpeg.at(0);
  ASSERT_EQ(first.at("top_k").size(), 3u);
  EXPECT_EQ(first.at("label"), first.at("top_k")[0].at("label"));
  EXPECT_GE(first.at("top_k")[0].at("probability").get<double>(), first.at("top_k")[1].at("probability").get<double>());

  // JSON lines on request.
  httplib::Headers accept = {{"Accept", "application/jsonlines"}};
  auto r = client().Post("/invocations", accept, records, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(std::count(r->body.begin(), r->body.end(), '\n'), static_cast<long>(n));
}

TEST_F(ServerTest, BadRequestsGetTheirStatusAndTheServerKeepsAnswering) {
  const std::string jpeg = as_string(test::sample_jpegs()[1].bytes);
  struct Case {
    std::string type, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"application/json", "{\"instances\": [[1, 2, 3]", 400},
      {"application/json", "{\"instances\": [[[1, 2, 3]]]}", 400},           // wrong image size
      {"image/jpeg", jpeg.substr(0, jpeg.size() * 2 / 3), 400},               // truncated JPEG
      {"image/jpeg", "", 400},                                                 // empty body
      {"application/octet-stream", std::string(3072 * 2 + 1, '\x11'), 400},   // odd length
      {"text/plain", "hello", 415},
      {"application/octet-stream", std::string(7 * 1024 * 1024, '\x22'), 413},  // 7 MB
      // Not UTF-8: the parser's message quotes the bytes it stopped at, and the answer holds it.
      {"application/json", jpeg, 400},                                         // a JPEG sent as JSON
      {"application/json", "{\"instances\": [\"\xff\xfe\"]}", 400},              // a string that is not UTF-8
      {"application/json", "{\"inst\xe9nces\": [[1]]}", 400},                    // a Latin-1 key
      {"application/json", "\xff\xd8\xff", 400},
  };
  for (const auto& c : cases) {
    auto r = client().Post("/invocations", c.body, c.type.c_str());
    ASSERT_TRUE(r) << c.type;
    EXPECT_EQ(r->status, c.status) << c.type << " " << c.body.size() << " bytes: " << r->body;
    EXPECT_TRUE(json::parse(r->body).contains("error")) << r->body;
    expect_alive();
  }
  auto r = client().Get("/invocations");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = client().Post("/ping", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = client().Delete("/execution-parameters");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = client().Get("/models/cifar");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json::parse(r->body).contains("error"));
  expect_alive();
}

TEST_F(ServerTest, SlowClientIsDroppedWhileOthersAreServed) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                           "Content-Length: 3072\r\n\r\n0123456789";
  ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  const auto start = std::chrono::steady_clock::now();
  expect_alive();  // served while the slow client stalls
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string reply;
  char buf[4096];
  ssize_t got;
  double answered = -1;
  while ((got = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    if (answered < 0) answered = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    reply.append(buf, got);
  }
  const double closed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  // Answered 408 when the 0.5 s request deadline runs out, then closed.
  EXPECT_EQ(got, 0) << "the server should close the stalled connection";
  EXPECT_GE(answered, 0.3);
  EXPECT_LT(answered, 3.0) << "the request timeout is 0.5 s";
  EXPECT_LT(closed, 5.0);
  EXPECT_NE(reply.find(" 408 "), std::string::npos) << reply;
  expect_alive();
}

TEST_F(ServerTest, ConcurrentRequestsShareForwardPasses) {
  const auto before = server_->stats();
  const auto& jpegs = test::sample_jpegs();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  const int kClients = 16, kEach = 4;
  for (int t = 0; t < kClients; ++t)
    clients.emplace_back([&, t] {
      auto c = client();
      for (int i = 0; i < kEach; ++i) {
        auto r = c.Post("/invocations", as_string(jpegs[(t + i) % jpegs.size()].bytes), "image/jpeg");
        if (r && r->status == 200) ++ok;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kEach);
  const auto after = server_->stats();
  const int64_t images = after.images - before.images, passes = after.passes - before.passes;
  EXPECT_EQ(images, kClients * kEach);
  EXPECT_LT(passes, images) << "16 concurrent clients with a 20 ms window should share passes";
}

}  // namespace
}  // namespace convoy::serve
