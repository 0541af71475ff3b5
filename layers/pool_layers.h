// Max and average pooling. `global` pools the whole plane (kernel = input size), as the
// head of a ResNet does.
#pragma once
#include "kernels/pool2d.h"
#include "layers/layer.h"

namespace convoy {

struct PoolConfig {
  kernels::PoolKind kind = kernels::PoolKind::max;
  int kernel = 2, stride = 2, pad = 0;
  bool global = false;
};

class PoolLayer final : public Layer {
 public:
  explicit PoolLayer(const PoolConfig& cfg);
  std::string_view type() const override { return cfg_.kind == kernels::PoolKind::max ? "maxpool" : "avgpool"; }
  Shape output_shape(const Shape& in) const override;
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  const PoolConfig& config() const { return cfg_; }
  kernels::Pool2dShape shape_for(const Shape& in) const;  // fails naming the layer on a bad input

 private:
  PoolConfig cfg_;
};

}  // namespace convoy
