// Softmax cross-entropy with label smoothing, over logits (N, K) and int32 labels (N).
// Target distribution: (1 - smoothing) on the label plus smoothing / K on every class.
//   loss[i]  = -sum_k t_ik * log softmax(z_i)_k                       (N) out
//   dlogits  = grad_scale * (softmax(z_i) - t_i)                     (N, K) out, may be null
// grad_scale is usually 1/N (the mean over the batch). Log-sum-exp is max-shifted.
#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace convoy::kernels {

struct SoftmaxXentArgs {
  int N = 0, K = 0;
  const float* logits = nullptr;    // (N, K)
  const int32_t* labels = nullptr;  // (N), each in [0, K)
  float smoothing = 0.0f;
  float grad_scale = 1.0f;
  float* loss = nullptr;            // (N)
  float* dlogits = nullptr;         // (N, K) or null
};

void softmax_cross_entropy(const Exec& exec, const SoftmaxXentArgs& a);

namespace cpu {
void softmax_cross_entropy_reference(const SoftmaxXentArgs& a);  // double precision
void softmax_cross_entropy(const SoftmaxXentArgs& a);
}  // namespace cpu

namespace cuda {
void softmax_cross_entropy(const Exec& exec, const SoftmaxXentArgs& a);
}

}  // namespace convoy::kernels
