// The tools on a CUDA device, end to end, as a user runs them: convoy-train on real CIFAR-10
// in both input modes, convoy-eval of what it wrote, SIGKILL then --resume ending with the
// same model bit for bit, convoy-serve answering a real JPEG, and two devices under
// mpirun -np 2. On a GPU machine they run on the card; in CI on the emulated device
// (docs/cuda.md), where every copy, launch, stream and event of those runs is checked.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/archive_reader.h"
#include "engine/cuda_backend.h"
#include "serve/predictor.h"
#include "tests/common/test_util.h"
#include "tests/cuda/gpu_test_util.h"
#include "tests/serve/serve_test_helpers.h"
#include "tests/train/train_test_util.h"
#include "train/checkpoint.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::Child;

json read_json(const std::string& path) { return json::parse(test::file_bytes(path)); }

std::vector<std::string> train_args(const std::string& out, std::vector<std::string> extra) {
  std::vector<std::string> a = {test::tool_path("convoy-train"), "--no-progress", "--device", "cuda", "--out", out};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Real CIFAR-10 JPEGs from the archive as an image-folder tree: the first `train` images of
// each class of the training split and the first `test` of the test split.
void write_real_subset(const std::string& dir, int train, int test_images) {
  std::map<std::string, int> taken;
  const auto members = data::detail::read_archive_members(test::test_archive(), [&](const std::string& name) {
    const size_t slash = name.find('/');
    if (slash == std::string::npos) return false;
    const std::string split = name.substr(0, slash), cls = name.substr(slash + 1, name.find('/', slash + 1) - slash - 1);
    const int limit = split == "train" ? train : split == "test" ? test_images : 0;
    return taken[split + "/" + cls]++ < limit;
  });
  for (const auto& m : members) {
    fs::create_directories(fs::path(dir + "/" + m.name).parent_path());
    test::write_bytes(dir + "/" + m.name, std::string(m.bytes.begin(), m.bytes.end()));
  }
}

// quick on real images for two epochs, then convoy-eval of the model it wrote. The subset
// keeps the sanitizer build's run to a minute or two; the GPU check (tools/gpu/gpu-check.sh)
// trains on the whole first batch.
void train_real_and_evaluate(const std::string& name, bool host_input) {
  const std::string dir = test::temp_dir(name), out = dir + "/run";
  write_real_subset(dir + "/data", 500, 100);  // --train-batches 1 keeps 100 of each class
  std::vector<std::string> extra = {"--data", dir + "/data", "--train-batches", "1", "--epochs", "2", "--seed", "7"};
  if (host_input) extra.push_back("--host-input");
  auto [status, output] = test::run_tool(train_args(out, extra), dir + "/train.log");
  ASSERT_EQ(status, 0) << output;
  const std::string device = "cuda:0" + std::string(cuda_backend::emulated() ? " (emulated)" : "");
  EXPECT_NE(output.find("device " + device), std::string::npos) << output;
  const json report = read_json(out + "/report.json");
  const double trained_acc = report.at("final").at("test_acc").get<double>();
  EXPECT_GT(trained_acc, 0.2) << "two epochs of quick on 1,000 real images (chance: 0.1)";

  auto [eval_status, eval_output] =
      test::run_tool({test::tool_path("convoy-eval"), "--device", "cuda", "--model", out + "/model.convoy", "--data",
                      dir + "/data", "--json", dir + "/eval.json"},
                     dir + "/eval.log");
  ASSERT_EQ(eval_status, 0) << eval_output;
  // The same model and test set on the same device: the same answers, up to a near tie
  // decided differently in another batch split.
  EXPECT_NEAR(read_json(dir + "/eval.json").at("test_acc").get<double>(), trained_acc, 2.0 / 1000) << eval_output;
  fs::remove_all(dir);
}

TEST(ToolsOnDevice, TrainOnRealDataWithDeviceInputThenEvaluate) {
  CONVOY_SKIP_WITHOUT_GPU();
  train_real_and_evaluate("device-input", false);
}

TEST(ToolsOnDevice, TrainOnRealDataWithHostInputThenEvaluate) {
  CONVOY_SKIP_WITHOUT_GPU();
  train_real_and_evaluate("host-input", true);
}

TEST(ToolsOnDevice, SigkillThenResumeEndsWithTheSameModelBitForBit) {
  CONVOY_SKIP_WITHOUT_GPU();
  const std::string dir = test::temp_dir("device-resume");
  test::write_bytes(dir + "/tiny.json", test::tiny_model_config().dump());
  test::write_cifar_folder(dir + "/data", 1000, 200, 17);
  const std::vector<std::string> flags = {"--data", dir + "/data", "--train-batches", "1", "--model",
                                          dir + "/tiny.json", "--epochs", "3", "--batch-size", "50", "--seed",
                                          "3", "--checkpoint-every", "7"};
  auto [status, output] = test::run_tool(train_args(dir + "/whole", flags), dir + "/whole.log");
  ASSERT_EQ(status, 0) << output;
  {
    Child child(train_args(dir + "/killed", flags), dir + "/killed.log");
    bool mid_epoch = false;  // a checkpoint inside the second epoch (20 steps per epoch)
    while (!mid_epoch && child.running()) {
      for (const CheckpointFile& c : list_checkpoints(dir + "/killed/checkpoints"))
        mid_epoch = mid_epoch || (c.step > 20 && c.step % 20 != 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(mid_epoch) << "the run ended before a mid-epoch checkpoint:\n" << child.output();
    child.signal(SIGKILL);
    ASSERT_EQ(child.wait(), 128 + SIGKILL);
  }
  std::vector<std::string> resume = flags;
  resume.insert(resume.end(), {"--resume", dir + "/killed"});
  auto [rstatus, routput] = test::run_tool(train_args(dir + "/killed", resume), dir + "/resumed.log");
  ASSERT_EQ(rstatus, 0) << routput;
  EXPECT_NE(routput.find("resuming from"), std::string::npos) << routput;
  EXPECT_TRUE(test::file_bytes(dir + "/killed/model.convoy") == test::file_bytes(dir + "/whole/model.convoy"))
      << "the resumed model differs from the uninterrupted one";
  fs::remove_all(dir);
}

TEST(ToolsOnDevice, ServeAnswersARealJpegAsTheCpuDoes) {
  CONVOY_SKIP_WITHOUT_GPU();
  const std::string dir = test::temp_dir("device-serve"), model = test::saved_test_model();
  Child serve({test::tool_path("convoy-serve"), "--model", model, "--device", "cuda", "--host", "127.0.0.1",
               "--port", "0", "--top-k", "3"},
              dir + "/serve.log");
  int port = -1;
  for (int i = 0; i < 6000 && port < 0 && serve.running(); ++i) {  // ready when it says where it listens
    const std::string log = serve.output();
    const size_t at = log.find("listening on http://");
    if (at != std::string::npos && log.find('\n', at) != std::string::npos)
      port = std::stoi(log.substr(log.find(':', at + 20) + 1));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(port, 0) << serve.output();
  const auto& jpeg = test::sample_jpegs(1).front().bytes;
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(120, 0);
  auto r = client.Post("/invocations", std::string(jpeg.begin(), jpeg.end()), "image/jpeg");
  ASSERT_TRUE(r) << serve.output();
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = json::parse(r->body).at("predictions").at(0);

  serve::PredictorOptions cpu;
  cpu.device = Device::cpu();
  const std::vector<uint8_t> pixels = test::cifar_pixels(jpeg);
  const serve::Prediction want = serve::Predictor::load(model, cpu)->predict(pixels.data(), 1).front();
  const auto got = answer.at("probabilities").get<std::vector<float>>();
  EXPECT_LT(test::rel_error(got, want.probabilities), 1e-5);
  EXPECT_EQ(answer.at("top_k").at(0).at("index").get<int>(), want.top.front().index);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.output();
  fs::remove_all(dir);
}

TEST(ToolsOnDevice, TwoRanksTrainOnTwoDevicesUnderMpirun) {
  CONVOY_SKIP_WITHOUT_GPU();
#ifndef CONVOY_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  if (!fs::exists(CONVOY_MPIEXEC)) GTEST_SKIP() << CONVOY_MPIEXEC << " is not installed on this machine";
  const std::string dir = test::temp_dir("device-mpirun");
  // On the emulated device the job gets two devices; on a one-GPU machine both ranks share it.
  ::setenv("CONVOY_EMULATED_DEVICES", "2", 1);
  // Under AddressSanitizer the ranks run without leak detection, as dist_mpi_np2 does: OpenMPI
  // leaks small blocks in MCA components it has unloaded by exit, which no suppression can name.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string saved_asan = asan ? asan : "";
  ::setenv("ASAN_OPTIONS", (saved_asan + (saved_asan.empty() ? "" : ":") + "detect_leaks=0").c_str(), 1);
  auto [status, output] =
      test::run_tool({CONVOY_MPIEXEC, "-np", "2", "--oversubscribe", "--allow-run-as-root", "-x",
                      "CONVOY_EMULATED_DEVICES", "-x", "ASAN_OPTIONS", test::tool_path("convoy-train"),
                      "--no-progress", "--device", "cuda", "--data", "synthetic:512", "--epochs", "1", "--batch-size",
                      "64", "--threads", "1", "--out", dir + "/run"},
                     dir + "/mpirun.log");
  ::unsetenv("CONVOY_EMULATED_DEVICES");
  if (asan) ::setenv("ASAN_OPTIONS", saved_asan.c_str(), 1);
  else ::unsetenv("ASAN_OPTIONS");
  ASSERT_EQ(status, 0) << output;
  const json report = read_json(dir + "/run/report.json");
  EXPECT_EQ(report.at("distributed").at("world_size").get<int>(), 2) << report.dump(2);
  fs::remove_all(dir);
#endif
}

}  // namespace
}  // namespace convoy
