// An output folder belongs to one run: convoy-train refuses a folder that holds another run's
// model.convoy, report.json, metrics.jsonl or checkpoints (leaving them byte for byte), unless
// --overwrite replaces that run or --resume continues it; after --overwrite every file in the
// folder is the new run's (report.json and the checkpoints carry its run id).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <tuple>

#include "train/checkpoint.h"
#include "train_test_util.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;

class RunFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::temp_dir("run_folder");
    test::write_bytes(root_ + "/tiny.json", test::tiny_model_config().dump());
    test::write_cifar_folder(root_ + "/data", 400, 100, 17);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::pair<int, std::string> train(const std::string& out, const std::string& seed,
                                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a = {test::tool_path("convoy-train"), "--no-progress", "--data", root_ + "/data",
                                  "--train-batches", "1", "--model", root_ + "/tiny.json", "--epochs", "2",
                                  "--batch-size", "50", "--lr", "0.05", "--seed", seed, "--threads", "1",
                                  "--checkpoint-every", "3", "--out", out};
    a.insert(a.end(), extra.begin(), extra.end());
    return test::run_tool(a, root_ + "/train.log");
  }
  std::map<std::string, std::string> folder_bytes(const std::string& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) files[e.path().string()] = test::file_bytes(e.path().string());
    return files;
  }
  std::string root_;
};

TEST_F(RunFolder, AnotherRunsFolderIsRefusedAndLeftAsItWas) {
  const std::string out = root_ + "/a";
  auto [status, output] = train(out, "1");
  ASSERT_EQ(status, 0) << output;
  const auto before = folder_bytes(out);
  ASSERT_TRUE(before.count(out + "/model.convoy"));
  std::tie(status, output) = train(out, "2");
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("convoy-train: error: --out " + out + " already holds another run"), std::string::npos)
      << output;
  EXPECT_NE(output.find("--overwrite"), std::string::npos) << output;
  EXPECT_EQ(folder_bytes(out), before) << "a refused run changed the folder";

  // Only metrics.jsonl left by a failed run, or only checkpoints in a shared checkpoint folder,
  // make a folder another run's too.
  fs::create_directories(root_ + "/b");
  test::write_bytes(root_ + "/b/metrics.jsonl", "{}\n");
  std::tie(status, output) = train(root_ + "/b", "2");
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("metrics.jsonl"), std::string::npos) << output;
  std::tie(status, output) = train(root_ + "/c", "2", {"--checkpoint-dir", out + "/checkpoints"});
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("checkpoint-"), std::string::npos) << output;
  EXPECT_EQ(folder_bytes(out), before);
  // --overwrite and --resume contradict each other.
  std::tie(status, output) = train(out, "1", {"--overwrite", "--resume", out});
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("--overwrite cannot be combined with resume"), std::string::npos) << output;
}

TEST_F(RunFolder, OverwriteLeavesOnlyTheNewRunsFiles) {
  const std::string out = root_ + "/a";
  auto [status, output] = train(out, "1", {"--keep-checkpoints", "10"});
  ASSERT_EQ(status, 0) << output;
  const std::string old_id = nlohmann::json::parse(test::file_bytes(out + "/report.json")).value("run_id", "");
  ASSERT_EQ(old_id.size(), 16u);
  // A checkpoint at a step the new run never reaches: it must go too.
  fs::copy_file(list_checkpoints(out + "/checkpoints").back().path, checkpoint_path(out + "/checkpoints", 999999));
  std::tie(status, output) = train(out, "2", {"--overwrite"});
  ASSERT_EQ(status, 0) << output;
  const nlohmann::json report = nlohmann::json::parse(test::file_bytes(out + "/report.json"));
  const std::string new_id = report.value("run_id", "");
  EXPECT_EQ(new_id.size(), 16u);
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(report["hyperparameters"]["seed"], 2);
  EXPECT_EQ(report["epochs"].size(), 2u);
  const auto checkpoints = list_checkpoints(out + "/checkpoints");
  ASSERT_FALSE(checkpoints.empty());
  for (const CheckpointFile& c : checkpoints)
    EXPECT_EQ(checkpoint_run_id(c.path), std::optional<std::string>(new_id)) << c.path;
  // metrics.jsonl holds the new run's two epochs, not the old run's as well.
  int epochs = 0;
  std::istringstream lines(test::file_bytes(out + "/metrics.jsonl"));
  for (std::string line; std::getline(lines, line);)
    epochs += nlohmann::json::parse(line).value("kind", "") == "epoch" ? 1 : 0;
  EXPECT_EQ(epochs, 2);
}

}  // namespace
}  // namespace convoy
