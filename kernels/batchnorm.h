// Batch normalisation over (N, C, HW): per channel c, statistics over N*HW values.
// Training: y = gamma * (x - mean) * invstd + beta with the batch's mean and biased
// variance; saves mean and invstd for backward; running_mean/var are updated as
// running = (1 - momentum) * running + momentum * batch (running_var takes the unbiased
// variance), as PyTorch does. Inference uses the running statistics.
// backward assigns dx and ADDS into dgamma, dbeta.
// `relu` fuses a ReLU after the normalisation (forward), and its mask (from y) in backward.
#pragma once
#include "kernels/exec.h"

namespace convoy::kernels {

struct BatchNormShape {
  int N = 0, C = 0, HW = 0;
};

struct BatchNormTrainArgs {
  const float* x = nullptr;      // (N, C, HW)
  const float* gamma = nullptr;  // (C)
  const float* beta = nullptr;   // (C)
  float* y = nullptr;            // (N, C, HW)
  float* save_mean = nullptr;    // (C) out
  float* save_invstd = nullptr;  // (C) out
  float* running_mean = nullptr; // (C) in/out
  float* running_var = nullptr;  // (C) in/out
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool relu = false;
};

struct BatchNormBackwardArgs {
  const float* x = nullptr;       // (N, C, HW)
  const float* y = nullptr;       // (N, C, HW) forward output; read only when relu
  const float* dy = nullptr;      // (N, C, HW)
  const float* gamma = nullptr;   // (C)
  const float* beta = nullptr;    // (C)
  const float* save_mean = nullptr;
  const float* save_invstd = nullptr;
  float* dx = nullptr;            // (N, C, HW) assigned
  float* dgamma = nullptr;        // (C) +=
  float* dbeta = nullptr;         // (C) +=
  bool relu = false;
};

void batchnorm_forward_train(const Exec& exec, const BatchNormShape& s, const BatchNormTrainArgs& a);
void batchnorm_forward_infer(const Exec& exec, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var, float eps,
                             bool relu, float* y);
void batchnorm_backward(const Exec& exec, const BatchNormShape& s, const BatchNormBackwardArgs& a);

namespace cpu {
void batchnorm_forward_train_reference(const BatchNormShape& s, const BatchNormTrainArgs& a);
void batchnorm_forward_infer_reference(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                       const float* running_mean, const float* running_var, float eps, bool relu,
                                       float* y);
void batchnorm_backward_reference(const BatchNormShape& s, const BatchNormBackwardArgs& a);
void batchnorm_forward_train(const BatchNormShape& s, const BatchNormTrainArgs& a);
void batchnorm_forward_infer(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, float eps, bool relu, float* y);
void batchnorm_backward(const BatchNormShape& s, const BatchNormBackwardArgs& a);
}  // namespace cpu

namespace cuda {
void batchnorm_forward_train(const Exec& exec, const BatchNormShape& s, const BatchNormTrainArgs& a);
void batchnorm_forward_infer(const Exec& exec, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var, float eps,
                             bool relu, float* y);
void batchnorm_backward(const Exec& exec, const BatchNormShape& s, const BatchNormBackwardArgs& a);
}  // namespace cuda

}  // namespace convoy::kernels
