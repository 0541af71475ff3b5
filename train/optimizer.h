// SGD with momentum / Nesterov / weight decay over a model's parameters, one fused
// kernel call per step (kernels/sgd.h). Momentum buffers live on the parameters' device.
#pragma once
#include <vector>

#include "kernels/sgd.h"
#include "layers/model.h"

namespace convoy {

struct SgdOptions {
  float momentum = 0.9f;
  float weight_decay = 5e-4f;
  bool nesterov = true;
  bool decay_batchnorm = false;  // weight decay on batch-norm and bias parameters too
};

class SgdOptimizer {
 public:
  SgdOptimizer(Model& model, const SgdOptions& options);
  void step(Context& ctx, float lr);
  std::vector<Tensor>& momentum_buffers() { return buffers_; }

 private:
  Model& model_;
  SgdOptions options_;
  std::vector<Tensor> buffers_;
  std::vector<kernels::SgdTensor> descriptors_;
};

}  // namespace convoy
