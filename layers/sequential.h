// Composite layers: Sequential (a chain) and Residual (y = x + body(x)).
// Sequential keeps one activation buffer and one input-gradient buffer per inner
// layer, reused from step to step, so a training step allocates nothing once warm.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace convoy {

class SequentialLayer : public Layer {
 public:
  SequentialLayer() = default;
  explicit SequentialLayer(std::vector<std::unique_ptr<Layer>> layers) : layers_(std::move(layers)) {}
  std::string_view type() const override { return "sequential"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<Param*> params() override;
  std::vector<Buffer> buffers() override;
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  void to(Device device) override;
  void name_params(const std::string& prefix) override;

  void add(std::unique_ptr<Layer> layer) { layers_.push_back(std::move(layer)); }
  // Called in backward right after layer i's backward, so with layer i's parameter
  // gradients complete (layers n-1 down to 0). Data-parallel training starts a gradient
  // bucket's allreduce from here. Nested bodies (residual) count as part of their layer.
  using BackwardHook = std::function<void(std::size_t layer)>;
  void set_backward_hook(BackwardHook hook) { backward_hook_ = std::move(hook); }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> acts_;   // acts_[i]: output of layer i (i < n-1)
  std::vector<Tensor> grads_;  // grads_[i]: gradient w.r.t. the input of layer i (i > 0)
  BackwardHook backward_hook_;
};

class ResidualLayer final : public Layer {
 public:
  explicit ResidualLayer(std::unique_ptr<SequentialLayer> body) : body_(std::move(body)) {}
  std::string_view type() const override { return "residual"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<Param*> params() override { return body_->params(); }
  std::vector<Buffer> buffers() override { return body_->buffers(); }
  void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) override;
  void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) override;
  void to(Device device) override { body_->to(device); }
  void name_params(const std::string& prefix) override { body_->name_params(prefix); }
  const SequentialLayer& body() const { return *body_; }

 private:
  std::unique_ptr<SequentialLayer> body_;
  Tensor body_out_, body_dx_;
};

}  // namespace convoy
