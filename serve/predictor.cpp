#include "serve/predictor.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "data/dataset.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/tensor.h"
#include "train/evaluate.h"
#include "train/model_io.h"

namespace convoy::serve {

std::string resolve_model_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path inside = fs::path(path) / "model.convoy";
    if (!fs::exists(inside, ec))
      fail("model folder ", path, " holds no model.convoy: pass the model file itself, or the folder convoy-train wrote");
    return inside.string();
  }
  if (!fs::exists(path, ec)) fail("model ", path, " does not exist: pass a model.convoy written by convoy-train");
  return path;
}

std::unique_ptr<Predictor> Predictor::load(const std::string& path, const PredictorOptions& options) {
  return std::make_unique<Predictor>(load_model(resolve_model_path(path)), options);
}

Predictor::Predictor(Model model, const PredictorOptions& options) : model_(std::move(model)), options_(options) {
  if (options_.top_k < 1) fail("predictor: top-k is ", options_.top_k, ", must be at least 1");
  if (options_.max_forward_batch < 1)
    fail("predictor: max forward batch is ", options_.max_forward_batch, ", must be at least 1");
  const Shape in = model_.input_shape(1);
  if (in[1] != data::kImageChannels || in[2] != data::kImageSide || in[3] != data::kImageSide)
    fail("model ", model_.name(), " takes input ", in.to_string(), "; the predictor feeds CIFAR images (1, 3, 32, 32)");
  num_classes_ = model_.num_classes();
  class_names_ = model_.class_names;
  for (int k = static_cast<int>(class_names_.size()); k < num_classes_; ++k) class_names_.push_back(std::to_string(k));
  class_names_.resize(num_classes_);
  require_usable(options_.device);
  model_.to(options_.device);
}

std::vector<Prediction> Predictor::predict(const uint8_t* images, int64_t count) {
  std::vector<Prediction> out;
  if (count <= 0) return out;
  out.reserve(count);
  float scale[3], bias[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / model_.std[c];
    bias[c] = -model_.mean[c] * scale[c];
  }
  const int plane = data::kImageSide * data::kImageSide;
  const int top_k = std::min(options_.top_k, num_classes_);
  std::lock_guard<std::mutex> lock(mutex_);
  Context ctx = Context::make(options_.device);
  // Equal chunks (500 images: 250 + 250, not 256 + 244): every pass of a request has the same
  // shapes, so the model's activation buffers are not reallocated between its passes.
  const int64_t passes = (count + options_.max_forward_batch - 1) / options_.max_forward_batch;
  const int64_t chunk = (count + passes - 1) / passes;
  for (int64_t first = 0; first < count; first += chunk) {
    const int64_t n = std::min<int64_t>(chunk, count - first);
    // x: (n, 3, 32, 32) normalised, on the host first.
    Tensor x(Shape{n, data::kImageChannels, data::kImageSide, data::kImageSide});
    float* dst = x.data();
    const uint8_t* src = images + first * data::kImageBytes;
    for (int64_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < plane; ++p, ++dst, ++src) *dst = static_cast<float>(*src) * scale[c] + bias[c];
    const Tensor input = options_.device.is_cpu() ? x : x.to(options_.device);
    std::vector<std::vector<float>> probs = predict_probabilities(model_, ctx, input);
    for (auto& p : probs) {
      Prediction pred;
      std::vector<int> order(num_classes_);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
      for (int k = 0; k < top_k; ++k) pred.top.push_back({order[k], class_names_[order[k]], p[order[k]]});
      pred.probabilities = std::move(p);
      out.push_back(std::move(pred));
    }
  }
  return out;
}

}  // namespace convoy::serve
