// convoy-train's option checks through the real program: values that cannot train (NaN,
// negative weight decay, a learning rate that diverges at once, a cutout larger than the
// image, a negative seed) are refused with the flag named and a non-zero exit; --force-lr
// lets a large learning rate through; more threads than the machine has are capped with a
// warning rather than started. A tiny model on 200 synthetic images keeps each run short.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/tools/tool_run.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;
using test::run_command;
using test::TempDir;
using test::tool;

const char* kTinyModel = R"({"name": "tiny", "input": [3, 32, 32], "classes": 10, "layers": [
  {"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "pad": 1, "bias": false},
  {"type": "batchnorm", "relu": true},
  {"type": "avgpool", "global": true},
  {"type": "flatten"},
  {"type": "linear", "out": 10}]})";

class OptionValidation : public ::testing::Test {
 protected:
  TempDir dir{"option_validation"};
  void SetUp() override { std::ofstream(dir / "tiny.json") << kTinyModel; }

  test::ToolResult train(const std::string& flags, const std::string& out = "out", const std::string& threads = "1") {
    return run_command(tool("convoy-train") + " --data synthetic:200 --model " + (dir / "tiny.json") +
                       " --epochs 1 --batch-size 50 --no-progress --checkpoint-every 0 --threads " + threads +
                       " --out " + (dir / out) + " " + flags);
  }
  // The run is refused with `status` and a message holding `message`, and writes no model.
  void expect_refused(const std::string& flags, int status, const std::string& message) {
    test::ToolResult r = train(flags);
    EXPECT_EQ(r.status, status) << flags << "\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << flags << "\n" << r.output;
    EXPECT_FALSE(fs::exists(dir / "out/model.convoy")) << flags;
  }
};

TEST_F(OptionValidation, NonFiniteValuesAreRefusedNamingTheFlag) {
  expect_refused("--momentum nan", 1, "convoy-train: error: --momentum nan must lie in [0, 1)");
  expect_refused("--momentum inf", 1, "convoy-train: error: --momentum inf must lie in [0, 1)");
  expect_refused("--weight-decay nan", 1, "convoy-train: error: --weight-decay nan must be a finite number >= 0");
  expect_refused("--warmup-epochs nan --schedule constant", 1, "convoy-train: error: --warmup-epochs nan must be finite");
}

TEST_F(OptionValidation, OutOfRangeValuesAreRefusedNamingTheFlag) {
  expect_refused("--weight-decay -5", 1, "convoy-train: error: --weight-decay -5 must be a finite number >= 0");
  expect_refused("--momentum 1", 1, "convoy-train: error: --momentum 1 must lie in [0, 1)");
  expect_refused("--cutout 33", 1, "convoy-train: error: --cutout 33 must lie in [0, 32]");
  expect_refused("--cutout 1000", 1, "convoy-train: error: --cutout 1000 must lie in [0, 32]");
  expect_refused("--seed -1", 2, "--seed: -1 must be >= 0");
}

TEST_F(OptionValidation, ALargeLearningRateNeedsForceLr) {
  expect_refused("--lr 1000", 1, "convoy-train: error: --lr 1000 is above 10");
  expect_refused("--lr 10.5", 1, "--lr 10.5 is above 10");
  // 10 itself is accepted, and --force-lr lets 1e30 train (where it then diverges).
  test::ToolResult r = train("--lr 10 --schedule constant", "lr10");
  EXPECT_EQ(r.output.find("is above 10"), std::string::npos) << r.output;
  r = train("--lr 1e30 --force-lr --schedule constant", "forced");
  EXPECT_EQ(r.output.find("is above 10"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("training diverged"), std::string::npos) << r.output;
  EXPECT_NE(r.status, 0) << r.output;
}

TEST_F(OptionValidation, MoreThreadsThanTheMachineHasAreCappedWithAWarning) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  test::ToolResult r = train("", "out", "10000");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: 10000 threads asked for, but this machine has " + std::to_string(hardware) +
                          " hardware threads; using " + std::to_string(hardware)),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(fs::exists(dir / "out/model.convoy"));
  const nlohmann::json report = test::json_file(dir / "out/report.json");
  EXPECT_EQ(report["hyperparameters"]["threads"], hardware) << report["hyperparameters"].dump();
  // A negative count is refused by the library too (convoy-eval and convoy-train check it first).
  r = run_command(tool("convoy-eval") + " --data synthetic:200 --threads -5 --model " + (dir / "out/model.convoy"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--threads"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace convoy
