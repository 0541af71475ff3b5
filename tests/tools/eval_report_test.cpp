// convoy-eval's confusion matrix and per-class accuracy against counts done by hand: a model
// built so that its prediction is known for every image (nearest red level), on test images
// made for it, where each true class gets a chosen set of predictions.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "layers/model.h"
#include "tests/tools/tool_run.h"
#include "train/model_io.h"

namespace convoy {
namespace {

using test::run_command;
using test::TempDir;
using test::tool;

const std::vector<std::string> kClasses = {"airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"};

// Global average pooling, then a linear layer whose logit k is 2 k r - k^2 for the mean
// normalised red value r: the largest is at the k nearest to r. Normalisation red / 25.5
// makes a solid image of red level round(25.5 j) predict class j.
void write_nearest_red_model(const std::string& path) {
  Model m = Model::from_config(nlohmann::json::parse(R"({"name": "nearest-red", "input": [3, 32, 32],
    "classes": 10, "layers": [{"type": "avgpool", "global": true}, {"type": "flatten"},
    {"type": "linear", "out": 10}]})"));
  auto params = m.params();
  ASSERT_EQ(params.size(), 2u);
  float* w = params[0]->value.data();  // (10, 3)
  float* b = params[1]->value.data();
  for (int k = 0; k < 10; ++k) {
    w[k * 3] = 2.0f * k, w[k * 3 + 1] = 0, w[k * 3 + 2] = 0;
    b[k] = -static_cast<float>(k * k);
  }
  for (int c = 0; c < 3; ++c) m.mean[c] = 0;
  m.std[0] = 25.5f, m.std[1] = m.std[2] = 1;
  m.class_names = kClasses;
  save_model(path, m);
}

void append_record(std::string& out, int label, int predicted) {
  out.push_back(static_cast<char>(label));
  const int red = static_cast<int>(25.5 * predicted + 0.5);
  out.append(1024, static_cast<char>(red));
  out.append(2048, '\0');
}

// True class i: i + 1 images predicted i, and for even i one more predicted (i + 3) % 10.
TEST(EvalTool, ConfusionMatrixMatchesHandCounts) {
  TempDir dir("eval_confusion");
  write_nearest_red_model(dir / "model.convoy");
  std::string test_batch;
  int expected[10][10] = {};
  for (int i = 0; i < 10; ++i) {
    for (int n = 0; n <= i; ++n) append_record(test_batch, i, i);
    expected[i][i] = i + 1;
    if (i % 2 == 0) {
      append_record(test_batch, i, (i + 3) % 10);
      expected[i][(i + 3) % 10] = 1;
    }
  }
  std::ofstream(dir / "test_batch.bin", std::ios::binary) << test_batch;
  for (int k = 1; k <= 5; ++k) {  // the folder must hold training batches too; one image each
    std::string one;
    append_record(one, k, k);
    std::ofstream(dir / ("data_batch_" + std::to_string(k) + ".bin"), std::ios::binary) << one;
  }
  auto r = run_command(tool("convoy-eval") + " --threads 2 --batch-size 7 --model " + (dir / "model.convoy") +
                       " --data " + dir.path().string() + " --json " + (dir / "eval.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("test_acc=0.9167 "), std::string::npos) << "55 of 60 right\n" << r.output;
  EXPECT_NE(r.output.find("images=60"), std::string::npos) << r.output;

  // The printed matrix: the rows after the heading and the column names.
  const auto at = r.output.find("confusion matrix (rows: true class, columns: predicted)");
  ASSERT_NE(at, std::string::npos) << r.output;
  std::istringstream rows(r.output.substr(at));
  std::string line;
  std::getline(rows, line);  // heading
  std::getline(rows, line);  // column names
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(std::getline(rows, line));
    std::istringstream cells(line);
    std::string name;
    cells >> name;
    EXPECT_EQ(name, kClasses[i].substr(0, 10));
    for (int j = 0; j < 10; ++j) {
      int v = -1;
      cells >> v;
      EXPECT_EQ(v, expected[i][j]) << "printed row " << kClasses[i] << ", column " << kClasses[j];
    }
  }
  const auto j = test::json_file(dir / "eval.json");
  for (int i = 0; i < 10; ++i) {
    for (int k = 0; k < 10; ++k) EXPECT_EQ(j["confusion"][i][k], expected[i][k]) << i << "," << k;
    const double total = i + 1 + (i % 2 == 0);
    EXPECT_NEAR(j["per_class_accuracy"][i].get<double>(), (i + 1) / total, 1e-9) << kClasses[i];
  }
  EXPECT_NEAR(j["test_acc"].get<double>(), 55.0 / 60.0, 1e-9);
}

}  // namespace
}  // namespace convoy
