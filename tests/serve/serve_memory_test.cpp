// The resident memory of a real convoy-serve under large requests: after rounds of concurrent
// 500-image JSON requests it stays near what one such request needs, instead of climbing
// round after round with memory the allocator keeps but nothing uses.
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <thread>
#include <vector>

#include "serve_process.h"
#include "serve_test_helpers.h"

// AddressSanitizer holds freed memory in its quarantine, so the RSS of a sanitized server
// says nothing about the allocator (and the rounds take minutes there).
#if defined(__SANITIZE_ADDRESS__)
#define CONVOY_SERVE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONVOY_SERVE_TEST_ASAN 1
#endif
#endif

namespace {

// {"instances": [...]} of `count` flat 3072-value images taken in turn from the sample JPEGs.
std::string json_request(int count) {
  const auto& jpegs = convoy::test::sample_jpegs();
  std::string body = "{\"instances\":[";
  for (int i = 0; i < count; ++i) {
    const auto px = convoy::test::cifar_pixels(jpegs[i % jpegs.size()].bytes);
    body += i ? ",[" : "[";
    for (size_t k = 0; k < px.size(); ++k) body += (k ? "," : "") + std::to_string(px[k]);
    body += "]";
  }
  return body + "]}";
}

int post(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120, 0);
  c.set_write_timeout(120, 0);
  auto r = c.Post("/invocations", body, "application/json");
  return r ? r->status : -1;
}

TEST(ServeMemory, ResidentMemoryLevelsOffUnderLargeRequests) {
#ifdef CONVOY_SERVE_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer's quarantine keeps freed memory resident";
#endif
  const std::string body = json_request(500);  // about 5.5 MB, under the 6 MB limit
  convoy::test::ServeProcess serve({"--model", convoy::test::saved_test_model(), "--device", "cpu", "--host",
                                    "127.0.0.1", "--port", "0"});
  ASSERT_GT(serve.port, 0);
  // What one large request at a time needs: the model, its activations for a 256-image
  // pass, one request's body, images and answer.
  ASSERT_EQ(post(serve.port, body), 200);
  ASSERT_EQ(post(serve.port, body), 200);
  const long one_at_a_time = serve.rss_mib();
  ASSERT_GT(one_at_a_time, 0);
  std::vector<long> rounds;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> clients;
    std::vector<int> status(8, 0);
    for (int c = 0; c < 8; ++c) clients.emplace_back([&, c] { status[c] = post(serve.port, body); });
    for (auto& t : clients) t.join();
    for (int s : status) ASSERT_EQ(s, 200);
    rounds.push_back(serve.rss_mib());
  }
  const std::string seen = "RSS after one request at a time " + std::to_string(one_at_a_time) +
                           " MiB, after each round of 8 at once " + std::to_string(rounds[0]) + ", " +
                           std::to_string(rounds[1]) + ", " + std::to_string(rounds[2]) + " MiB";
  // Once the requests are answered their memory is given back: the RSS after a round of 8
  // concurrent requests stays near that of one at a time, and does not climb between rounds.
  for (long r : rounds) EXPECT_LT(r, one_at_a_time + 96) << seen;
  EXPECT_LT(rounds[2], rounds[1] + 32) << seen;
  std::printf("%s\n", seen.c_str());
  EXPECT_EQ(serve.terminate_and_wait(), 0);
}

}  // namespace
