// Model files that fuzz_model_file found escaping the loader's contract (docs/fuzzing.md):
// each must be refused with a convoy::Error that names the file, never another exception,
// a sanitizer report or a huge allocation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/model_file.h"
#include "layers/model.h"
#include "train/model_io.h"

namespace convoy {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("convoy_fuzzreg_" + std::to_string(::getpid()) + name)).string();
}

// A tiny real model: its header and tensors, to be damaged one field at a time.
struct SavedModel {
  nlohmann::json header;
  std::vector<NamedTensor> tensors;
};

SavedModel tiny_model() {
  auto config = nlohmann::json::parse(R"({"name": "tiny", "input": [3, 8, 8], "classes": 4, "layers": [
      {"type": "conv2d", "out": 2, "kernel": 3, "pad": 1}, {"type": "batchnorm", "relu": true},
      {"type": "avgpool", "global": true}, {"type": "flatten"}, {"type": "linear", "out": 4}]})");
  Model model = Model::from_config(config, "tiny");
  model.init_params(3);
  model.class_names = {"a", "b", "c", "d"};
  const std::string path = temp_path("tiny.convoy");
  save_model(path, model);
  ModelFile mf = read_model_file(path);
  std::filesystem::remove(path);
  return {mf.header, mf.tensors};
}

// Writes `header` (valid checksums) with the tiny model's tensors and loads it.
void expect_refused(const nlohmann::json& header, const std::vector<NamedTensor>& tensors, const std::string& what) {
  const std::string path = temp_path("bad.convoy");
  write_model_file(path, header, tensors);
  try {
    load_model(path);
    ADD_FAILURE() << what << ": loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << what << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw a non-convoy exception: " << e.what();
  }
  std::filesystem::remove(path);
}

TEST(FuzzRegressionModelFile, TheUndamagedModelLoads) {
  SavedModel m = tiny_model();
  const std::string path = temp_path("good.convoy");
  write_model_file(path, m.header, m.tensors);
  Model loaded = load_model(path);
  EXPECT_EQ(loaded.num_classes(), 4);
  EXPECT_EQ(loaded.class_names[3], "d");
  std::filesystem::remove(path);
}

TEST(FuzzRegressionModelFile, FieldsOfTheWrongJsonTypeAreConvoyErrors) {
  SavedModel m = tiny_model();
  auto damaged = [&](auto change) {
    nlohmann::json h = m.header;
    change(h);
    return h;
  };
  expect_refused(damaged([](auto& h) { h["classes"] = {1, 2, 3, 4}; }), m.tensors, "numeric class names");
  expect_refused(damaged([](auto& h) { h["classes"] = "abcd"; }), m.tensors, "class names not a list");
  expect_refused(damaged([](auto& h) { h["normalization"]["mean"] = "grey"; }), m.tensors, "mean not a list");
  expect_refused(damaged([](auto& h) { h["normalization"] = 7; }), m.tensors, "normalization not an object");
  expect_refused(damaged([](auto& h) { h["config"]["name"] = 12; }), m.tensors, "numeric model name");
  expect_refused(damaged([](auto& h) { h["config"]["input"][1] = "eight"; }), m.tensors, "input size not a number");
  expect_refused(damaged([](auto& h) { h["config"]["classes"] = "four"; }), m.tensors, "classes not a number");
  expect_refused(damaged([](auto& h) { h["config"]["layers"][1]["eps"] = "small"; }), m.tensors, "eps not a number");
  expect_refused(damaged([](auto& h) { h["config"] = {{"layers", {1, 2}}}; }), m.tensors, "layers not objects");
}

// fuzz/regressions/model_file/harness-short-header-length: 16 bytes, a valid magic and version
// and a header length of 4.4 MB. It broke the fuzz harness (which read past the input while
// recomputing the checksum); the loader itself must refuse it as truncated, naming the file.
TEST(FuzzRegressionModelFile, AShortFileClaimingALongHeaderIsTruncated) {
  const std::string path = temp_path("short.convoy");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const unsigned char bytes[] = {'C', 'O', 'N', 'V', 'O', 'Y', 'M', 'F', 1, 0, 0, 0, 0xbd, 0x04, 0x43, 0x00};
    ASSERT_EQ(std::fwrite(bytes, 1, sizeof bytes, f), sizeof bytes);
    std::fclose(f);
  }
  try {
    load_model(path);
    ADD_FAILURE() << "a 16-byte file loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("truncated in the header"), std::string::npos) << what;
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace convoy
