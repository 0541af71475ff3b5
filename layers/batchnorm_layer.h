// BatchNorm2d over (N, C, H, W) (or (N, C) after a linear layer), with an optional
// fused ReLU. Training uses batch statistics and updates the running averages;
// inference uses the running averages.
// With ctx.sync_batchnorm and a collective of more than one rank (--sync-bn), training
// uses the statistics of the GLOBAL batch: forward allreduces each channel's count, mean
// and variance, backward the sums of dy and dy * xhat (as PyTorch's SyncBatchNorm);
// parameter gradients stay local (the gradient allreduce averages them). Without it the
// statistics are local to the rank, the default.
#pragma once
#include "kernels/batchnorm.h"
#include "kernels/pool2d.h"
#include "layers/layer.h"

namespace convoy {

struct BatchNormConfig {
  int channels = 0;
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool relu = false;  // fuse a ReLU after the normalisation
};

class BatchNormLayer final : public Layer {
 public:
  explicit BatchNormLayer(const BatchNormConfig& cfg);
  std::string_view type() const override { return "batchnorm"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<Param*> params() override { return {&gamma_, &beta_}; }
  std::vector<Buffer> buffers() override;
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  const BatchNormConfig& config() const { return cfg_; }

  // Training forward and backward together with the max pooling `pool` that follows (the
  // fused op of kernels/bn_relu_maxpool.h; layers/fusion.h decides when): y is the pooled
  // output; this layer's Saved keeps x and the statistics, the pool's keeps y and the argmax.
  // Only for a ReLU-fused layer on local statistics (fusable_with_max_pool).
  bool fusable_with_max_pool(const Context& ctx, const Shape& in) const;
  void forward_max_pooled(Context& ctx, const kernels::Pool2dShape& pool, const Tensor& x, Tensor& y, Saved& saved,
                          Saved& pool_saved);
  void backward_max_pooled(Context& ctx, const kernels::Pool2dShape& pool, const Tensor& dy, const Saved& saved,
                           const Saved& pool_saved, Tensor* dx);

 private:
  bool synced(const Context& ctx) const;
  void forward_synced(Context& ctx, const Tensor& x, Tensor& y, Saved& saved);
  void backward_synced(Context& ctx, const Tensor& dy, const Saved& saved, Tensor& dx);
  // The backward kernel's arguments for this layer; dgamma/dbeta say where the sums go.
  kernels::BatchNormBackwardArgs backward_args(const Tensor& dy, const Saved& saved, Tensor& dx, float* dgamma,
                                               float* dbeta);

  BatchNormConfig cfg_;
  Param gamma_, beta_;
  Tensor running_mean_, running_var_;
  Tensor sync_grad_, sync_term_;  // synced backward: masked dy and the x term, reused per step
};

}  // namespace convoy
