// Conv2d: weight (out, in, k, k), optional bias (out). NCHW in and out.
#pragma once
#include "kernels/conv2d.h"
#include "layers/layer.h"

namespace convoy {

struct Conv2dConfig {
  int in_channels = 0, out_channels = 0;
  int kernel = 3, stride = 1, pad = 0;
  bool bias = true;
};

class Conv2dLayer final : public Layer {
 public:
  explicit Conv2dLayer(const Conv2dConfig& cfg);
  std::string_view type() const override { return "conv2d"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<Param*> params() override;
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  const Conv2dConfig& config() const { return cfg_; }

 private:
  kernels::Conv2dShape shape_for(const Shape& in) const;
  Conv2dConfig cfg_;
  Param weight_, bias_;
};

}  // namespace convoy
