// Layers that only reshape or rescale: Flatten ((N, C, H, W) -> (N, C*H*W), no copy) and
// Scale (y = factor * x, e.g. the 0.125 logit scale of airbench-style ResNets).
#pragma once
#include "layers/layer.h"

namespace convoy {

class FlattenLayer final : public Layer {
 public:
  std::string_view type() const override { return "flatten"; }
  Shape output_shape(const Shape& in) const override { return {in[0], in.numel() / in[0]}; }
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
};

class ScaleLayer final : public Layer {
 public:
  explicit ScaleLayer(float factor) : factor_(factor) {}
  std::string_view type() const override { return "scale"; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  float factor() const { return factor_; }

 private:
  float factor_;
};

}  // namespace convoy
