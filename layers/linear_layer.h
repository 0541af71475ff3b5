// Fully connected: y (N, out) = x (N, in) W^T + b, weight (out, in) as in PyTorch.
// Accepts (N, C, H, W) input and treats it as (N, C*H*W).
#pragma once
#include "layers/layer.h"

namespace convoy {

struct LinearConfig {
  int in_features = 0, out_features = 0;
  bool bias = true;
};

class LinearLayer final : public Layer {
 public:
  explicit LinearLayer(const LinearConfig& cfg);
  std::string_view type() const override { return "linear"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<Param*> params() override;
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  const LinearConfig& config() const { return cfg_; }

 private:
  LinearConfig cfg_;
  Param weight_, bias_;
};

}  // namespace convoy
