// The embedding example of docs/embedding.md, as a test: it sees convoy only through
// <convoy/convoy.h> and convoy::convoy, trains a small model on real CIFAR-10 images with a
// callback, saves it, loads it back through the Predictor, and checks the answers.
//   consumer CIFAR_DATA SCRATCH_DIR
// Exit status 0 when every check holds; each failed check prints one line.
#include <convoy/convoy.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

int argmax(const std::vector<float>& p) { return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin()); }

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer CIFAR_DATA SCRATCH_DIR\n");
    return 2;
  }
  std::fprintf(stderr, "consumer: convoy %s\n", CONVOY_VERSION_STRING);
  check(CONVOY_VERSION >= 100, "CONVOY_VERSION is 0.1.0 or later");
  convoy::set_num_threads(2);

  // Real data: the first training batch (10000 images) and the test set.
  convoy::data::LoadOptions load;
  load.train_batches = 1;
  convoy::data::CifarData data = convoy::data::load_cifar(argv[1], load);
  check(data.train.size() == 10000 && data.test.size() == 10000, "10000 train and 10000 test images");

  // A small network from a JSON config, trained for one epoch with a metrics callback.
  nlohmann::json config = nlohmann::json::parse(R"({
    "name": "consumer-small", "input": [3, 32, 32], "classes": 10,
    "layers": [
      {"type": "conv2d", "out": 16, "kernel": 3, "stride": 1, "pad": 1, "bias": false},
      {"type": "batchnorm", "relu": true},
      {"type": "maxpool", "kernel": 2, "stride": 2},
      {"type": "conv2d", "out": 32, "kernel": 3, "stride": 1, "pad": 1, "bias": false},
      {"type": "batchnorm", "relu": true},
      {"type": "maxpool", "kernel": 2, "stride": 2},
      {"type": "avgpool", "global": true},
      {"type": "flatten"},
      {"type": "linear", "out": 10}]})");
  convoy::Model model = convoy::Model::from_config(config, "consumer config");
  model.class_names = data.train.class_names;
  model.init_params(7);
  convoy::Context ctx = convoy::Context::make(convoy::Device::cpu());
  convoy::TrainOptions options;
  options.epochs = 2;
  options.batch_size = 64;
  options.seed = 7;
  options.progress = false;
  std::vector<convoy::EpochMetrics> seen;
  convoy::TrainCallbacks callbacks;
  callbacks.on_epoch = [&](const convoy::EpochMetrics& m) {
    std::fprintf(stderr, "consumer: %s\n", m.to_line().c_str());
    seen.push_back(m);
  };
  std::vector<convoy::EpochMetrics> history = convoy::train_model(model, ctx, data, options, callbacks);
  check(seen.size() == 2 && history.size() == 2, "on_epoch called once per epoch");
  check(!history.empty() && history.back().test_acc > 0.25,
        "test accuracy after 2 epochs above 25% (chance is 10%)");

  // Save, then load through the inference API and predict on the first 500 test records.
  std::filesystem::create_directories(argv[2]);
  const std::string path = std::string(argv[2]) + "/model.convoy";
  convoy::save_model(path, model);
  std::unique_ptr<convoy::serve::Predictor> predictor = convoy::serve::Predictor::load(path);
  check(predictor->num_classes() == 10 && predictor->class_names() == data.train.class_names,
        "the loaded model keeps its classes");
  // Every 20th test record: 500 images of all classes (the test set is sorted by class).
  const int64_t n = 500, stride = data.test.size() / n;
  std::vector<uint8_t> records(n * convoy::data::kImageBytes);
  std::vector<int32_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(data.test.image(i * stride), convoy::data::kImageBytes, records.begin() + i * convoy::data::kImageBytes);
    labels[i] = data.test.labels[i * stride];
  }
  std::vector<convoy::serve::Prediction> predictions = predictor->predict(records.data(), n);
  check(static_cast<int64_t>(predictions.size()) == n, "one prediction per image");

  // The same images through the in-memory model: same classes, same probabilities.
  convoy::Tensor x(model.input_shape(n));
  for (int64_t i = 0; i < n * convoy::data::kImageBytes; ++i) {
    int c = static_cast<int>((i / 1024) % 3);
    x.data()[i] = (records[i] - model.mean[c]) / model.std[c];
  }
  std::vector<std::vector<float>> direct = convoy::predict_probabilities(model, ctx, x);
  int correct = 0, agree = 0;
  float max_diff = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto& p = predictions[i].probabilities;
    correct += predictions[i].top.at(0).index == labels[i];
    agree += argmax(p) == argmax(direct[i]) && predictions[i].top.at(0).index == argmax(p);
    for (size_t k = 0; k < p.size(); ++k) max_diff = std::max(max_diff, std::abs(p[k] - direct[i][k]));
  }
  const double accuracy = static_cast<double>(correct) / n;
  std::fprintf(stderr, "consumer: predictor accuracy %.3f on %lld real test images, max |p - p_direct| %.2g\n",
               accuracy, static_cast<long long>(n), max_diff);
  check(accuracy > 0.25, "predictor accuracy above 25% on 500 real test images of all classes");
  check(!history.empty() && std::abs(accuracy - history.back().test_acc) < 0.08,
        "the predictor's accuracy on the sample is within 0.08 of the trainer's on the whole test set");
  check(agree == n && max_diff < 1e-4f, "the predictor and the in-memory model agree");

  if (failures) return 1;
  std::fprintf(stderr, "consumer: all checks passed\n");
  return 0;
} catch (const convoy::Error& e) {
  std::fprintf(stderr, "consumer: error: %s\n", e.what());
  return 1;
}
