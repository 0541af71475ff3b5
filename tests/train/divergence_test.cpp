// A diverged run is never saved as a success: convoy-train with a learning rate that blows the
// weights up ends non-zero, naming the epoch and step, writes no model.convoy or report.json,
// and every checkpoint it leaves is finite. A model file holding a NaN weight, or a zero
// normalisation std, is refused by the loader that eval, predict and serve share, naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "engine/error.h"
#include "engine/model_file.h"
#include "train/checkpoint.h"
#include "train/model_io.h"
#include "train_test_util.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> train_args(const std::string& root, const std::string& out, const std::string& lr) {
  return {test::tool_path("convoy-train"), "--no-progress", "--data", root + "/data", "--train-batches", "1",
          "--model", root + "/tiny.json", "--epochs", "2", "--batch-size", "50", "--lr", lr, "--schedule",
          "constant", "--seed", "3", "--threads", "1", "--checkpoint-every", "1", "--keep-checkpoints", "100",
          "--force-lr", "--out", out};
}

TEST(Divergence, HugeLearningRateFailsAndSavesNothingNonFinite) {
  const std::string root = test::temp_dir("diverge");
  test::write_bytes(root + "/tiny.json", test::tiny_model_config().dump());
  test::write_cifar_folder(root + "/data", 1000, 200, 17);
  const std::string out = root + "/out";
  auto [status, output] = test::run_tool(train_args(root, out, "1e6"), root + "/train.log");
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("training diverged at epoch 1 step "), std::string::npos) << output;
  EXPECT_NE(output.find("lower --lr"), std::string::npos) << output;
  EXPECT_NE(output.find("model.convoy was not written"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(out + "/model.convoy"));
  EXPECT_FALSE(fs::exists(out + "/report.json"));
  // Every checkpoint left behind holds finite numbers only (weights, statistics, momentum).
  const std::vector<CheckpointFile> left = list_checkpoints(out + "/checkpoints");
  EXPECT_FALSE(left.empty()) << "no checkpoint before the divergence: the check below checks nothing\n" << output;
  for (const CheckpointFile& c : left) {
    ModelFile mf = read_model_file(c.path);
    for (const NamedTensor& t : mf.tensors)
      for (float v : t.tensor.to_vector()) ASSERT_TRUE(std::isfinite(v)) << c.path << " " << t.name;
  }
  fs::remove_all(root);
}

class ModelLoadGuard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("load_guard");
    model_ = std::make_unique<Model>(Model::from_config(test::tiny_model_config()));
    model_->class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    model_->init_params(5);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  std::unique_ptr<Model> model_;
};

TEST_F(ModelLoadGuard, AFiniteModelLoads) {
  save_model(dir_ + "/good.convoy", *model_);
  EXPECT_NO_THROW(load_model(dir_ + "/good.convoy"));
}

TEST_F(ModelLoadGuard, ANanWeightIsRefusedNamingTheFileAndTheTensor) {
  Param* p = model_->params().back();
  p->value.data()[3] = std::nanf("");
  const std::string path = dir_ + "/nan.convoy";
  save_model(path, *model_);
  try {
    load_model(path);
    FAIL() << "a model with a NaN weight was loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("'" + p->name + "': element 3 is nan"), std::string::npos) << what;
    EXPECT_NE(what.find("non-finite"), std::string::npos) << what;
  }
}

TEST_F(ModelLoadGuard, AZeroOrNegativeStdIsRefusedNamingTheFile) {
  for (float bad : {0.0f, -2.0f}) {
    model_->std[1] = bad;
    const std::string path = dir_ + "/std.convoy";
    save_model(path, *model_);
    try {
      load_model(path);
      FAIL() << "a model with std " << bad << " was loaded";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find("std of channel 1"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace convoy
