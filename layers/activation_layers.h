// Element-wise activations: ReLU (backward reads y) and GELU (exact erf form; backward reads x).
#pragma once
#include "layers/layer.h"

namespace convoy {

class ReluLayer final : public Layer {
 public:
  std::string_view type() const override { return "relu"; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
};

class GeluLayer final : public Layer {
 public:
  std::string_view type() const override { return "gelu"; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
};

}  // namespace convoy
