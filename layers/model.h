// Model: a layer graph built from a small JSON config (darknet/cuda-convnet style: the
// architecture apart from the hyper-parameters), plus what a deployed model needs to
// interpret its input and output: class names and the normalisation constants.
// Config format (docs/models.md):
//   {"name": "...", "input": [3, 32, 32], "classes": 10,
//    "layers": [{"type": "conv2d", "out": 32, "kernel": 5, "stride": 1, "pad": 2, "bias": false},
//               {"type": "batchnorm", "relu": true}, {"type": "relu"}, {"type": "gelu"},
//               {"type": "maxpool"|"avgpool", "kernel": 3, "stride": 2, "pad": 1} or {"global": true},
//               {"type": "flatten"}, {"type": "linear", "out": 10, "bias": true},
//               {"type": "scale", "factor": 0.125}, {"type": "residual", "layers": [...]}]}
// Input channels and features are inferred by propagating the input shape.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/sequential.h"

namespace convoy {

class Model {
 public:
  // A built-in name ("quick", "resnet") or a path to a JSON config file.
  static Model from_spec(const std::string& spec);
  static Model from_config(const nlohmann::json& config, const std::string& origin = "config");
  static std::vector<std::string> builtin_names();

  // Parameters from counter-based draws of `seed` (PyTorch's default initialisation).
  void init_params(uint64_t seed);
  void to(Device device);
  Device device() const { return device_; }

  // logits (N, classes). saved == nullptr: inference.
  void forward(Context& ctx, const Tensor& x, Tensor& logits, Saved* saved);
  void backward(Context& ctx, const Tensor& dlogits, const Saved& saved);
  void zero_grad(Context& ctx);
  // Called during backward after each top-level layer's backward (SequentialLayer::BackwardHook).
  void set_backward_hook(SequentialLayer::BackwardHook hook) { net_->set_backward_hook(std::move(hook)); }

  std::vector<Param*> params() { return net_->params(); }
  SequentialLayer& network() { return *net_; }  // the layer graph (for profiling and tools)
  std::vector<Buffer> buffers() { return net_->buffers(); }
  int64_t num_params();

  const nlohmann::json& config() const { return config_; }
  const std::string& name() const { return name_; }
  int num_classes() const { return num_classes_; }
  Shape input_shape(int64_t batch) const { return {batch, input_[0], input_[1], input_[2]}; }
  std::string summary();  // one line per top-level layer with its output shape

  // What a deployed model needs besides its weights.
  std::vector<std::string> class_names;
  float mean[3] = {125.3f, 123.0f, 113.9f};  // normalisation, in [0, 255] units
  float std[3] = {63.0f, 62.1f, 66.7f};

 private:
  nlohmann::json config_;
  std::string name_;
  int num_classes_ = 0;
  int64_t input_[3] = {3, 32, 32};
  std::unique_ptr<SequentialLayer> net_;
  Device device_ = Device::cpu();
};

}  // namespace convoy
