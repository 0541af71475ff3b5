// The tools as a user meets them: --help, bad flags, bad data paths, and train -> eval on a
// small synthetic run. Each failure must be one clear line and a non-zero exit.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/tools/tool_run.h"
#include "train/trainer.h"

namespace {

using Result = convoy::test::ToolResult;
using convoy::test::tool;

Result run(const std::string& cmd) { return convoy::test::run_command(cmd); }

TEST(Cli, TrainHelpListsTheFlags) {
  Result r = run(tool("convoy-train") + " --help");
  EXPECT_EQ(r.status, 0);
  for (const char* flag : {"--data", "--model", "--epochs", "--batch-size", "--lr", "--seed", "--threads", "--out",
                           "--train-batches", "--device"})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
}

TEST(Cli, BadFlagValueIsAnError) {
  Result r = run(tool("convoy-train") + " --epochs zero --data synthetic");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--epochs"), std::string::npos) << r.output;
  r = run(tool("convoy-train") + " --train-batches 6 --data synthetic");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--train-batches"), std::string::npos) << r.output;
}

TEST(Cli, MissingDataPathNamesIt) {
  Result r = run(tool("convoy-train") + " --data /nonexistent/cifar --epochs 1 --no-progress");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("/nonexistent/cifar"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
}

TEST(Cli, UnknownModelAndDeviceAreErrors) {
  Result r = run(tool("convoy-train") + " --data synthetic --model vgg99 --epochs 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("vgg99"), std::string::npos) << r.output;
  r = run(tool("convoy-train") + " --data synthetic --device tpu --epochs 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("tpu"), std::string::npos) << r.output;
}

// The library names its options (kernels, checkpoint_every); the tools name their flags.
TEST(Cli, OptionErrorsNameTheFlag) {
  Result r = run(tool("convoy-train") + " --data synthetic:200 --epochs 1 --no-progress --kernels fastest");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("convoy-train: error: --kernels 'fastest': use own or vendor"), std::string::npos) << r.output;
  r = run(tool("convoy-train") + " --data synthetic:200 --epochs 1 --no-progress --checkpoint-every -3");
  EXPECT_EQ(r.status, 2);  // a command line CLI11 refuses is a usage error
  EXPECT_NE(r.output.find("--checkpoint-every: -3 must be >= 0"), std::string::npos) << r.output;
}

TEST(Cli, ModelWithWrongClassCountIsAnError) {
  auto path = std::filesystem::temp_directory_path() / ("convoy_cli_q5_" + std::to_string(::getpid()) + ".json");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(R"({"name": "five", "layers": [{"type": "flatten"}, {"type": "linear", "out": 5}]})", f);
    std::fclose(f);
  }
  Result r = run(tool("convoy-train") + " --data synthetic --epochs 1 --no-progress --model " + path.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("has 5 outputs but the data"), std::string::npos) << r.output;
  std::filesystem::remove(path);
}

TEST(Cli, SyntheticTrainThenEval) {
  auto dir = std::filesystem::temp_directory_path() / ("convoy_cli_" + std::to_string(::getpid()));
  // 2,000 synthetic images: the plumbing is what is under test (the sanitizer build runs this too).
  Result r = run(tool("convoy-train") +
                 " --data synthetic:2000 --epochs 1 --batch-size 100 --threads 2 --no-progress --out " + dir.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epoch=1 train_loss="), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("data=synthetic"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[synthetic data]"), std::string::npos) << r.output;
  ASSERT_TRUE(std::filesystem::exists(dir / "model.convoy"));
  ASSERT_TRUE(std::filesystem::exists(dir / "report.json"));
  // convoy-train trains the library's recipe (train/trainer.h): what a program embedding convoy
  // gets from TrainOptions{}, with the two flags given here.
  std::ifstream report_file(dir / "report.json");
  std::stringstream report_text;
  report_text << report_file.rdbuf();
  nlohmann::json recorded = nlohmann::json::parse(report_text.str()).at("hyperparameters");
  recorded.erase("threads");
  recorded.erase("kernels");
  convoy::TrainOptions library;
  library.epochs = 1;
  library.batch_size = 100;
  EXPECT_EQ(recorded, convoy::recipe_json(library));
  r = run(tool("convoy-eval") + " --data synthetic:2000 --threads 2 --model " + (dir / "model.convoy").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("test_acc="), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;
  r = run(tool("convoy-eval") + " --data synthetic:2000 --threads 2 --model " + (dir / "model.convoy").string() +
          " --json /nonexistent-folder/eval.json");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("/nonexistent-folder/eval.json"), std::string::npos) << r.output;
  r = run(tool("convoy-eval") + " --data synthetic --model " + (dir / "report.json").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not a convoy model file"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
