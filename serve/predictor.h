// Predictor: the inference API. It owns one trained model on one device and turns CIFAR-format
// images into class probabilities and the top-k classes. convoy-serve, convoy-predict and
// programs that embed convoy all predict through it.
//
// Contract:
//   - Input: `count` images of 3 x 32 x 32 uint8, channel-planar (CHW, red plane first), the
//     layout of a CIFAR-10 binary record without its label byte. Images are normalised with
//     the model's own constants (Model::mean / Model::std) inside predict().
//   - Output: one Prediction per image, in input order. Probabilities are the softmax of the
//     logits (they sum to 1); `top` holds the k most probable classes, most probable first
//     (ties: the lower class index first).
//   - Thread safety: predict() may be called from any number of threads; calls are serialised
//     on the model (the model keeps its activation buffers between calls), so throughput comes
//     from larger batches (serve/micro_batcher.h), not from concurrent calls.
//   - The same model, device and thread count give the same answer for an image whatever
//     batch it is predicted in, up to float rounding (about 1e-6).
//   - Errors (missing or corrupt model file, no CUDA device) are convoy::Error.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/device.h"
#include "layers/model.h"

namespace convoy::serve {

struct ClassScore {
  int index = 0;        // class index, in [0, num_classes)
  std::string name;     // the model's class name (the index as text when the model has none)
  float probability = 0.0f;
};

struct Prediction {
  std::vector<float> probabilities;  // (num_classes), sums to 1
  std::vector<ClassScore> top;       // (min(top_k, num_classes)), most probable first
};

struct PredictorOptions {
  Device device = Device::cpu();
  int top_k = 5;              // classes listed per image
  int max_forward_batch = 256;  // larger requests are run in equal chunks of at most this many images
};

class Predictor {
 public:
  // Loads `path`: a .convoy model file, or a folder holding model.convoy (the way SageMaker
  // extracts model.tar.gz into /opt/ml/model). Moves the model to options.device.
  static std::unique_ptr<Predictor> load(const std::string& path, const PredictorOptions& options = {});
  Predictor(Model model, const PredictorOptions& options = {});

  // `images`: count x 3072 bytes as described above. count == 0 gives an empty answer.
  std::vector<Prediction> predict(const uint8_t* images, int64_t count);

  int num_classes() const { return num_classes_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  Device device() const { return options_.device; }
  int top_k() const { return options_.top_k; }
  const std::string& model_name() const { return model_.name(); }

 private:
  std::mutex mutex_;  // one forward pass at a time
  Model model_;
  PredictorOptions options_;
  int num_classes_ = 0;
  std::vector<std::string> class_names_;
};

// `path` itself when it is a file, `path`/model.convoy when it is a folder.
std::string resolve_model_path(const std::string& path);

}  // namespace convoy::serve
