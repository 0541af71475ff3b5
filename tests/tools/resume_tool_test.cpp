// convoy-train as SageMaker and a user meet it: a run killed with SIGKILL mid-epoch and
// resumed with --resume ends with a model.convoy bit-identical to an uninterrupted run;
// SIGTERM writes a checkpoint, says how to resume and exits 0, and that resume is exact too;
// resuming with a different option, from nothing, or from a corrupt newest checkpoint is a
// clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "train/checkpoint.h"
#include "tests/train/train_test_util.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;
using test::Child;

constexpr int64_t kStepsPerEpoch = 1000 / 50;  // training images / --batch-size

class ResumeTool : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(test::temp_dir("tool"));
    test::write_bytes(*root_ + "/tiny.json", test::tiny_model_config().dump());
    test::write_cifar_folder(*root_ + "/data", 1000, 200, 17);
    auto [status, output] = test::run_tool(args(*root_ + "/whole"), *root_ + "/whole.log");
    ASSERT_EQ(status, 0) << output;
    reference_ = new std::string(test::file_bytes(*root_ + "/whole/model.convoy"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*root_);
    delete root_;
    delete reference_;
  }

  // convoy-train's command line; `changed` replaces flags' values or adds flags.
  static std::vector<std::string> args(const std::string& out,
                                       const std::vector<std::pair<std::string, std::string>>& changed = {}) {
    std::vector<std::pair<std::string, std::string>> flags = {
        {"--data", *root_ + "/data"}, {"--train-batches", "1"}, {"--model", *root_ + "/tiny.json"},
        {"--epochs", "3"}, {"--batch-size", "50"}, {"--lr", "0.05"}, {"--seed", "3"}, {"--threads", "2"},
        {"--checkpoint-every", "7"}, {"--log-every", "5"}, {"--out", out}};
    for (const auto& [flag, value] : changed) {
      auto it = std::find_if(flags.begin(), flags.end(), [&flag = flag](const auto& f) { return f.first == flag; });
      if (it != flags.end()) it->second = value;
      else flags.emplace_back(flag, value);
    }
    std::vector<std::string> a = {test::tool_path("convoy-train"), "--no-progress"};
    for (const auto& [flag, value] : flags) {
      a.push_back(flag);
      a.push_back(value);
    }
    return a;
  }
  // Waits until `dir` holds a checkpoint for which `wanted` is true; false if the child ended first.
  static bool wait_for_checkpoint(Child& child, const std::string& dir, const std::function<bool(int64_t)>& wanted) {
    while (child.running()) {
      for (const CheckpointFile& c : list_checkpoints(dir))
        if (wanted(c.step)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  // The step records of metrics.jsonl without the timing fields.
  static std::vector<nlohmann::json> step_records(const std::string& path) {
    std::vector<nlohmann::json> out;
    std::istringstream in(test::file_bytes(path));
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json r = nlohmann::json::parse(line);
      r.erase("elapsed_s");
      r.erase("images_per_sec");
      if (r["kind"] == "epoch") {
        r.erase("epoch_s");
        r.erase("elapsed_s");
      }
      out.push_back(r);
    }
    return out;
  }

  static std::string* root_;
  static std::string* reference_;
};
std::string* ResumeTool::root_ = nullptr;
std::string* ResumeTool::reference_ = nullptr;

TEST_F(ResumeTool, SigkillMidEpochThenResumeIsBitIdentical) {
  const std::string out = *root_ + "/killed";
  {
    Child child(args(out), *root_ + "/killed.log");
    // Inside the second epoch, so the resumed run also carries a finished epoch.
    ASSERT_TRUE(wait_for_checkpoint(child, out + "/checkpoints", [](int64_t step) {
      return step > kStepsPerEpoch && step % kStepsPerEpoch != 0;
    })) << "the run ended before a mid-epoch checkpoint appeared:\n" << child.output();
    child.signal(SIGKILL);
    ASSERT_EQ(child.wait(), 128 + SIGKILL);
  }
  ASSERT_FALSE(fs::exists(out + "/model.convoy"));
  auto [status, output] = test::run_tool(args(out, {{"--resume", out}}), *root_ + "/resumed.log");
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("resuming from"), std::string::npos) << output;
  EXPECT_TRUE(test::file_bytes(out + "/model.convoy") == *reference_) << "resumed model.convoy differs";
  // metrics.jsonl: the same records in the same order, none twice (times aside).
  EXPECT_EQ(step_records(out + "/metrics.jsonl"), step_records(*root_ + "/whole/metrics.jsonl"));
  EXPECT_LE(list_checkpoints(out + "/checkpoints").size(), 3u);
}

TEST_F(ResumeTool, SigtermWritesACheckpointExitsZeroAndResumesExactly) {
  const std::string out = *root_ + "/stopped";
  {
    Child child(args(out), *root_ + "/stopped.log");
    ASSERT_TRUE(wait_for_checkpoint(child, out + "/checkpoints", [](int64_t step) { return step >= 14; }))
        << child.output();
    child.signal(SIGTERM);
    EXPECT_EQ(child.wait(), 0) << child.output();
    const std::string log = child.output();
    EXPECT_NE(log.find("SIGTERM"), std::string::npos) << log;
    EXPECT_NE(log.find("--resume " + out + "/checkpoints"), std::string::npos) << log;
  }
  ASSERT_FALSE(fs::exists(out + "/model.convoy"));
  ASSERT_FALSE(list_checkpoints(out + "/checkpoints").empty());
  auto [status, output] = test::run_tool(args(out, {{"--resume", out + "/checkpoints"}}), *root_ + "/r2.log");
  ASSERT_EQ(status, 0) << output;
  EXPECT_TRUE(test::file_bytes(out + "/model.convoy") == *reference_) << "model.convoy after SIGTERM + resume differs";
}

TEST_F(ResumeTool, SigintCheckpointsAndExits130) {
  const std::string out = *root_ + "/interrupted";
  Child child(args(out), *root_ + "/interrupted.log");
  ASSERT_TRUE(wait_for_checkpoint(child, out + "/checkpoints", [](int64_t step) { return step >= 7; }))
      << child.output();
  child.signal(SIGINT);
  EXPECT_EQ(child.wait(), 130) << child.output();
  EXPECT_NE(child.output().find("SIGINT"), std::string::npos) << child.output();
  EXPECT_FALSE(fs::exists(out + "/model.convoy"));
  const auto left = list_checkpoints(out + "/checkpoints");
  ASSERT_FALSE(left.empty());
  // The stop's checkpoint is the newest one, and the message names it.
  EXPECT_NE(child.output().find("checkpoint " + left.back().path), std::string::npos) << child.output();
}

TEST_F(ResumeTool, ResumeRefusesOtherOptionsNoCheckpointAndACorruptNewest) {
  const std::string src = *root_ + "/whole/checkpoints";
  ASSERT_EQ(list_checkpoints(src).size(), 3u);  // --keep-checkpoints default
  // A different batch size is refused by name.
  auto [st1, out1] = test::run_tool(args(*root_ + "/other", {{"--resume", src}, {"--batch-size", "25"}}),
                                    *root_ + "/other.log");
  EXPECT_EQ(st1, 1) << out1;
  EXPECT_NE(out1.find("--batch-size"), std::string::npos) << out1;
  // Nothing to resume from.
  fs::create_directories(*root_ + "/empty");
  auto [st2, out2] = test::run_tool(args(*root_ + "/e", {{"--resume", *root_ + "/empty"}}), *root_ + "/e.log");
  EXPECT_EQ(st2, 1) << out2;
  EXPECT_NE(out2.find("no checkpoint"), std::string::npos) << out2;
  // A corrupt newest checkpoint is reported, with the previous one named, and not used.
  const std::string copy = *root_ + "/corrupt";
  fs::copy(src, copy);
  const auto all = list_checkpoints(copy);
  std::string bytes = test::file_bytes(all.back().path);
  bytes[bytes.size() / 2] ^= 0x01;
  test::write_bytes(all.back().path, bytes);
  auto [st3, out3] = test::run_tool(args(*root_ + "/c", {{"--resume", copy}}), *root_ + "/c.log");
  EXPECT_EQ(st3, 1) << out3;
  EXPECT_NE(out3.find(all.back().path), std::string::npos) << out3;
  EXPECT_NE(out3.find(all[all.size() - 2].path), std::string::npos) << out3;
  EXPECT_FALSE(fs::exists(*root_ + "/c/model.convoy"));
}

}  // namespace
}  // namespace convoy
