#include "train/optimizer.h"

namespace convoy {

SgdOptimizer::SgdOptimizer(Model& model, const SgdOptions& options) : model_(model), options_(options) {
  for (Param* p : model.params()) buffers_.push_back(Tensor::zeros(p->value.shape(), p->value.device()));
}

void SgdOptimizer::step(Context& ctx, float lr) {
  auto params = model_.params();
  descriptors_.resize(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    Param& p = *params[i];
    if (!(buffers_[i].device() == p.value.device())) buffers_[i] = buffers_[i].to(p.value.device());
    // Rank-1 tensors are batch-norm scales/shifts and biases: no decay unless asked.
    bool decay = p.weight_decay && (options_.decay_batchnorm || p.value.shape().rank() > 1);
    descriptors_[i] = {p.value.data(), p.grad.data(), buffers_[i].data(), p.value.numel(), decay ? 1.0f : 0.0f};
  }
  kernels::SgdHyper h;
  h.lr = lr;
  h.momentum = options_.momentum;
  h.weight_decay = options_.weight_decay;
  h.nesterov = options_.nesterov;
  kernels::sgd_update(ctx.exec, h, descriptors_.data(), static_cast<int>(descriptors_.size()));
}

}  // namespace convoy
