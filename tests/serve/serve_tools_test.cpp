// The real convoy-serve and convoy-predict binaries: the endpoint and offline prediction agree
// on the same real images, SAGEMAKER_BIND_TO_PORT is honoured, and SIGTERM drains the
// requests in flight and exits 0.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "serve_process.h"
#include "serve_test_helpers.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using convoy::test::free_port;
using convoy::test::ServeProcess;
using convoy::test::tool;

int run(const std::string& cmd) {
  const int st = std::system((cmd + " 2>/dev/null").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<json> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

void expect_same(const json& a, const json& b, const std::string& what) {
  const auto pa = a.at("probabilities").get<std::vector<double>>(), pb = b.at("probabilities").get<std::vector<double>>();
  ASSERT_EQ(pa.size(), pb.size()) << what;
  for (size_t k = 0; k < pa.size(); ++k) EXPECT_NEAR(pa[k], pb[k], 2e-5) << what << " class " << k;
  EXPECT_EQ(a.at("label"), b.at("label")) << what;
}

TEST(ServeTools, EndpointAndPredictAgreeOnRealImages) {
  const std::string model = convoy::test::saved_test_model();
  const fs::path dir = fs::path(model).parent_path();
  const auto& jpegs = convoy::test::sample_jpegs();
  // A folder of the JPEGs, a CIFAR batch file of their pixels, and a JSON-lines file.
  const fs::path folder = dir / "images";
  fs::create_directories(folder);
  std::string records;
  std::ofstream jsonl(dir / "images.jsonl");
  for (size_t i = 0; i < jpegs.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%03zu.jpg", i);
    std::ofstream(folder / name, std::ios::binary).write(reinterpret_cast<const char*>(jpegs[i].bytes.data()),
                                                         jpegs[i].bytes.size());
    const auto px = convoy::test::cifar_pixels(jpegs[i].bytes);
    records += std::string(1, static_cast<char>(i % 10)) + std::string(px.begin(), px.end());
    jsonl << json::parse(convoy::test::json_instances({px})).at("instances").at(0).dump() << "\n";
  }
  jsonl.close();
  std::ofstream(dir / "batch.bin", std::ios::binary) << records;

  for (const char* input : {"images", "batch.bin", "images.jsonl"}) {
    const std::string out = (dir / (std::string(input) + ".out")).string();
    ASSERT_EQ(run(tool("convoy-predict") + " --model " + dir.string() + " --device cpu --input " +
                  (dir / input).string() + " --out " + out),
              0)
        << input;
  }
  const auto from_folder = read_lines((dir / "images.out").string());
  const auto from_batch = read_lines((dir / "batch.bin.out").string());
  const auto from_jsonl = read_lines((dir / "images.jsonl.out").string());
  ASSERT_EQ(from_folder.size(), jpegs.size());
  ASSERT_EQ(from_batch.size(), jpegs.size());
  ASSERT_EQ(from_jsonl.size(), jpegs.size());
  EXPECT_EQ(from_folder[0].at("file"), "000.jpg");

  // The endpoint, found through SAGEMAKER_BIND_TO_PORT, given the model folder.
  const int port = free_port();
  ServeProcess serve({"--model", dir.string(), "--device", "cpu", "--host", "127.0.0.1", "--max-wait-ms", "1"},
                     std::to_string(port));
  ASSERT_EQ(serve.port, port);
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  for (size_t i = 0; i < jpegs.size(); ++i) {
    auto r = c.Post("/invocations", std::string(jpegs[i].bytes.begin(), jpegs[i].bytes.end()), "image/jpeg");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json answer = json::parse(r->body).at("predictions").at(0);
    expect_same(answer, from_folder[i], "jpeg vs folder " + std::to_string(i));
    expect_same(answer, from_batch[i], "jpeg vs batch file " + std::to_string(i));
    expect_same(answer, from_jsonl[i], "jpeg vs jsonl " + std::to_string(i));
  }
  auto r = c.Post("/invocations", records, "application/octet-stream");
  ASSERT_TRUE(r);
  const json batch = json::parse(r->body).at("predictions");
  ASSERT_EQ(batch.size(), jpegs.size());
  for (size_t i = 0; i < jpegs.size(); ++i) expect_same(batch[i], from_batch[i], "octet vs batch file");
  EXPECT_EQ(serve.terminate_and_wait(), 0);
}

TEST(ServeTools, SigtermDrainsRequestsInFlightAndExitsZero) {
  const std::string model = convoy::test::saved_test_model();
  // A long batching window keeps the requests in flight when SIGTERM arrives.
  ServeProcess serve({"--model", model, "--device", "cpu", "--host", "127.0.0.1", "--port", "0", "--max-wait-ms",
                      "400", "--max-batch", "4096"});
  ASSERT_GT(serve.port, 0);
  const auto px = convoy::test::cifar_pixels(convoy::test::sample_jpegs()[0].bytes);
  const std::string body(px.begin(), px.end());
  std::vector<std::future<int>> answers;
  for (int i = 0; i < 6; ++i)
    answers.push_back(std::async(std::launch::async, [&] {
      httplib::Client c("127.0.0.1", serve.port);
      c.set_read_timeout(30, 0);
      auto r = c.Post("/invocations", body, "application/octet-stream");
      return r ? r->status : -1;
    }));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(serve.terminate_and_wait(), 0);
  const double drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& a : answers) EXPECT_EQ(a.get(), 200);
  EXPECT_LT(drain_s, 15.0);
  httplib::Client after("127.0.0.1", serve.port);
  EXPECT_FALSE(after.Get("/ping")) << "the port should be closed after exit";
}

// The exit status and output (stderr folded in) of a shell command.
std::pair<int, std::string> run_capture(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 512> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(ServeTools, PortsOutOfRangeAreRefused) {
  const std::string model = convoy::test::saved_test_model();
  for (const char* port : {"-1", "-8080", "65536", "100000"}) {
    // `timeout` ends a server that took the port as "unset" and started serving.
    const auto [status, out] =
        run_capture("timeout 10 " + tool("convoy-serve") + " --model " + model + " --host 127.0.0.1 --port " + port);
    EXPECT_NE(status, 0) << "--port " << port << ": " << out;
    EXPECT_NE(status, 124) << "--port " << port << " was taken and served: " << out;
    EXPECT_NE(out.find("--port"), std::string::npos) << out;
    EXPECT_NE(out.find("0 to 65535"), std::string::npos) << out;
  }
}

TEST(ServeTools, BadModelIsAOneLineError) {
  FILE* p = popen((tool("convoy-serve") + " --model /nonexistent/model.convoy --port 0 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 512> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int st = pclose(p);
  EXPECT_EQ(WEXITSTATUS(st), 1) << out;
  EXPECT_NE(out.find("convoy-serve: error:"), std::string::npos) << out;
  EXPECT_NE(out.find("/nonexistent/model.convoy"), std::string::npos) << out;
  EXPECT_NE(run(tool("convoy-predict") + " --model " + convoy::test::saved_test_model() + " --input /nonexistent"), 0);
}

}  // namespace
