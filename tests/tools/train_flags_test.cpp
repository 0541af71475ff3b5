// convoy-train's training flags through the real program, each checked by its effect: the
// learning rate of every step in metrics.jsonl (--schedule, --warmup-epochs, --lr), the model
// it trains (--momentum, --no-nesterov, --kernels, --cutout), the loss (--label-smoothing),
// the evaluation (--tta, against convoy-eval --tta), and where checkpoints go
// (--checkpoint-dir). A tiny model on 400 synthetic images keeps each run near a second.
// (The data-parallel flags run under mpirun: tests/dist/train_tool_flags_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "tests/tools/tool_run.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;
using test::json_file;
using test::metrics_records;
using test::run_command;
using test::TempDir;
using test::tool;

constexpr int kStepsPerEpoch = 10;  // 400 images, batch 40

const char* kTinyModel = R"({"name": "tiny", "input": [3, 32, 32], "classes": 10, "layers": [
  {"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "pad": 1, "bias": false},
  {"type": "batchnorm", "relu": true},
  {"type": "maxpool", "kernel": 2, "stride": 2},
  {"type": "avgpool", "global": true},
  {"type": "flatten"},
  {"type": "linear", "out": 10}]})";

class TrainFlags : public ::testing::Test {
 protected:
  TempDir dir{"train_flags"};
  void SetUp() override { std::ofstream(dir / "tiny.json") << kTinyModel; }

  // Trains into dir/name and returns the output folder; the run must succeed.
  std::string train(const std::string& name, const std::string& flags, int epochs = 1) {
    const std::string out = dir / name;
    auto r = run_command(tool("convoy-train") + " --data synthetic:400 --model " + (dir / "tiny.json") +
                         " --batch-size 40 --threads 2 --seed 3 --no-progress --log-every 1 --epochs " +
                         std::to_string(epochs) + " --out " + out + " " + flags);
    EXPECT_EQ(r.status, 0) << flags << "\n" << r.output;
    last_output = r.output;
    return out;
  }
  std::vector<double> step_lrs(const std::string& out) {
    std::vector<double> lrs;
    for (const auto& s : metrics_records(out + "/metrics.jsonl", "step")) lrs.push_back(s["lr"].get<double>());
    return lrs;
  }
  double first_step_loss(const std::string& out) {
    auto steps = metrics_records(out + "/metrics.jsonl", "step");
    EXPECT_FALSE(steps.empty());
    EXPECT_EQ(steps.empty() ? -1 : steps[0]["step"].get<int>(), 1);
    return steps.empty() ? 0 : steps[0]["loss"].get<double>();
  }
  std::string model_bytes(const std::string& out) { return test::file_text(out + "/model.convoy"); }
  std::string last_output;
};

// Warm-up ramps lr * (step + 1) / warm-up steps, then holds the constant lr; cosine falls from
// lr to 0 as lr (1 + cos(pi step / steps)) / 2; one_cycle starts at lr / 25.
TEST_F(TrainFlags, ScheduleAndWarmupSetEachStepsLearningRate) {
  auto out = train("warmup", "--schedule constant --lr 0.05 --warmup-epochs 1", 2);
  auto lrs = step_lrs(out);
  ASSERT_EQ(lrs.size(), 2u * kStepsPerEpoch);
  for (int s = 0; s < 2 * kStepsPerEpoch; ++s) {
    const double expect = s < kStepsPerEpoch ? 0.05 * (s + 1) / kStepsPerEpoch : 0.05;
    EXPECT_NEAR(lrs[s], expect, 1e-7) << "step " << s;
  }
  auto report = json_file(out + "/report.json");
  EXPECT_EQ(report["hyperparameters"]["schedule"]["kind"], "constant");
  EXPECT_EQ(report["hyperparameters"]["schedule"]["warmup_epochs"], 1.0);

  out = train("cosine", "--schedule cosine --lr 0.1", 2);
  lrs = step_lrs(out);
  ASSERT_EQ(lrs.size(), 2u * kStepsPerEpoch);
  const double pi = std::acos(-1.0);
  for (int s = 0; s < 2 * kStepsPerEpoch; ++s)
    EXPECT_NEAR(lrs[s], 0.05 * (1 + std::cos(pi * s / (2 * kStepsPerEpoch))), 1e-7) << "step " << s;

  out = train("one_cycle", "--lr 0.2");  // the default schedule
  lrs = step_lrs(out);
  ASSERT_EQ(lrs.size(), size_t{kStepsPerEpoch});
  EXPECT_NEAR(lrs[0], 0.2 / 25, 1e-7);
  EXPECT_NEAR(*std::max_element(lrs.begin(), lrs.end()), 0.2, 0.2 / 3);
  EXPECT_EQ(json_file(out + "/report.json")["hyperparameters"]["schedule"]["kind"], "one_cycle");
}

// Without momentum, Nesterov's step g + 0 * buf is plain SGD's buf = g: the same model bit for
// bit. With momentum 0.9 the two differ, and both differ from no momentum.
TEST_F(TrainFlags, MomentumAndNoNesterovChangeTheUpdate) {
  const std::string common = "--schedule constant --lr 0.05 --weight-decay 0 ";
  const auto plain0 = model_bytes(train("m0_plain", common + "--momentum 0 --no-nesterov"));
  const auto nest0 = model_bytes(train("m0_nesterov", common + "--momentum 0"));
  const auto plain9 = model_bytes(train("m9_plain", common + "--momentum 0.9 --no-nesterov"));
  const auto nest9 = model_bytes(train("m9_nesterov", common + "--momentum 0.9"));
  EXPECT_EQ(plain0, nest0) << "--no-nesterov changed training without momentum";
  EXPECT_NE(plain9, nest9) << "--no-nesterov had no effect with momentum 0.9";
  EXPECT_NE(nest0, nest9) << "--momentum had no effect";
  auto h = json_file(dir / "m9_plain/report.json")["hyperparameters"];
  EXPECT_EQ(h["nesterov"], false);
  EXPECT_NEAR(h["momentum"].get<double>(), 0.9, 1e-6);
  EXPECT_EQ(json_file(dir / "m9_nesterov/report.json")["hyperparameters"]["nesterov"], true);
}

// The first step's loss comes from the same weights and batch whatever the smoothing, and the
// smoothed loss (1 - s) CE + s * mean(-log p) is linear in s: L(0.4) - L(0.2) = L(0.2) - L(0).
TEST_F(TrainFlags, LabelSmoothingChangesTheLossLinearly) {
  const double l0 = first_step_loss(train("s0", "--label-smoothing 0"));
  const double l2 = first_step_loss(train("s2", "--label-smoothing 0.2"));
  const double l4 = first_step_loss(train("s4", "--label-smoothing 0.4"));
  EXPECT_GT(std::fabs(l2 - l0), 1e-3) << "--label-smoothing did not change the loss";
  EXPECT_NEAR(l4 - l2, l2 - l0, 1e-5) << l0 << " " << l2 << " " << l4;
  EXPECT_NEAR(json_file(dir / "s2/report.json")["hyperparameters"]["label_smoothing"].get<double>(), 0.2, 1e-6);
}

// Cutout blanks a square of every training image: the first batch's loss moves, the test
// set (never augmented) is scored on the same first-step weights only through training.
TEST_F(TrainFlags, CutoutChangesWhatTrainingSees) {
  const double plain = first_step_loss(train("c0", "--cutout 0"));
  const double cut = first_step_loss(train("c16", "--cutout 16"));
  EXPECT_GT(std::fabs(plain - cut), 1e-4) << "--cutout 16 did not change the first batch";
  EXPECT_EQ(json_file(dir / "c16/report.json")["hyperparameters"]["cutout"], 16);
}

// --tta leaves training alone (the same train loss and model) but evaluates each test image
// with its mirror image: a different test loss, which convoy-eval --tta reproduces.
TEST_F(TrainFlags, TtaChangesOnlyTheEvaluationAndMatchesConvoyEval) {
  const auto plain = json_file(train("plain", "") + "/report.json");
  const auto tta = json_file(train("tta", "--tta") + "/report.json");
  EXPECT_EQ(tta["hyperparameters"]["tta"], "flip");
  EXPECT_EQ(plain["hyperparameters"]["tta"], "none");
  EXPECT_EQ(plain["epochs"][0]["train_loss"], tta["epochs"][0]["train_loss"]);
  EXPECT_EQ(model_bytes(dir / "plain"), model_bytes(dir / "tta"));
  const double plain_loss = plain["epochs"][0]["test_loss"], tta_loss = tta["epochs"][0]["test_loss"];
  EXPECT_GT(std::fabs(plain_loss - tta_loss), 1e-5) << "--tta did not change the test loss";

  for (bool with_tta : {false, true}) {
    const std::string json = dir / (with_tta ? "eval_tta.json" : "eval.json");
    auto r = run_command(tool("convoy-eval") + " --data synthetic:400 --threads 2 --model " + (dir / "tta") +
                         "/model.convoy --json " + json + (with_tta ? " --tta" : ""));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("tta=flip") != std::string::npos, with_tta) << r.output;
    auto e = json_file(json);
    EXPECT_EQ(e["tta"], with_tta ? "flip" : "none");
    EXPECT_NEAR(e["test_loss"].get<double>(), with_tta ? tta_loss : plain_loss, 1e-6) << "tta " << with_tta;
  }
}

// On the CPU, --kernels vendor means the same kernels as own (kernels/exec.h): the same model
// bit for bit, recorded as asked; anything else is an error naming the flag.
TEST_F(TrainFlags, KernelsFlagIsRecordedAndVendorIsOwnOnTheCpu) {
  const auto own = model_bytes(train("own", "--kernels own"));
  const auto vendor = model_bytes(train("vendor", "--kernels vendor"));
  EXPECT_EQ(own, vendor);
  EXPECT_EQ(json_file(dir / "vendor/report.json")["hyperparameters"]["kernels"], "vendor");
  EXPECT_NE(last_output.find("kernels vendor"), std::string::npos) << last_output;
  auto r = run_command(tool("convoy-train") + " --data synthetic:400 --epochs 1 --no-progress --kernels fast --out " +
                       (dir / "bad"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--kernels 'fast'"), std::string::npos) << r.output;
}

// Checkpoints go to --checkpoint-dir instead of OUT/checkpoints, and a run resumes from there.
TEST_F(TrainFlags, CheckpointDirHoldsTheCheckpointsAndResumesFromThere) {
  const std::string ckpt = dir / "elsewhere";
  const auto out = train("ckpt", "--checkpoint-every 4 --checkpoint-dir " + ckpt);
  EXPECT_FALSE(fs::exists(out + "/checkpoints"));
  int found = 0;
  for (const auto& e : fs::directory_iterator(ckpt)) found += e.path().extension() == ".convoy";
  EXPECT_GE(found, 2) << "expected the step-4, step-8 and epoch-end checkpoints in " << ckpt;
  EXPECT_EQ(json_file(out + "/report.json")["checkpoints"]["dir"], ckpt);
  train("ckpt", "--checkpoint-every 4 --checkpoint-dir " + ckpt + " --resume " + ckpt);
  EXPECT_NE(last_output.find("resuming from " + ckpt), std::string::npos) << last_output;
}

}  // namespace
}  // namespace convoy
