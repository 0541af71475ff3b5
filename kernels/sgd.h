// SGD with momentum, Nesterov and (coupled, L2) weight decay, PyTorch's torch.optim.SGD
// semantics with dampening 0:
//   g = grad + weight_decay * param
//   buf = momentum * buf + g            (buf starts at zero)
//   step = nesterov ? g + momentum * buf : buf
//   param -= lr * step
// The multi-tensor form updates a list of parameters in one pass (one launch on CUDA).
#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace convoy::kernels {

// The kernel's arguments, all set by the caller (train/optimizer.h holds the recipe's values).
struct SgdHyper {
  float lr = 0.0f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

struct SgdTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* momentum_buf = nullptr;
  int64_t n = 0;
  float weight_decay_scale = 1.0f;  // 0 exempts a tensor (e.g. batch-norm) from weight decay
};

void sgd_update(const Exec& exec, const SgdHyper& h, const SgdTensor* tensors, int count);

namespace cpu {
void sgd_update_reference(const SgdHyper& h, const SgdTensor* tensors, int count);
void sgd_update(const SgdHyper& h, const SgdTensor* tensors, int count);
}  // namespace cpu

namespace cuda {
void sgd_update(const Exec& exec, const SgdHyper& h, const SgdTensor* tensors, int count);
}

}  // namespace convoy::kernels
