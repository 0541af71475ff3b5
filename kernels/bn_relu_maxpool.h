// Batch normalisation (training statistics) + ReLU + max pooling as one op, NCHW:
//   x (N, C, H, W) -> y (N, C, P, Q) = maxpool(relu(batchnorm(x))).
// The normalised activations (N, C, H, W) are never stored: forward keeps instead, for each
// pooled output, the plane offset h*W + w of its window's first maximal element in row-major
// order (`argmax`, the element max-pool backward routes to, kernels/pool2d.h). Backward needs
// x, y, argmax and dy: an output's gradient passes the ReLU exactly when y > 0 there.
// Against batchnorm_forward_train (relu) followed by pool2d_forward (max) the memory traffic
// of a training step drops by the normalised activations' write and three reads of them.
// The contract is that of the two ops in a row (same statistics, running averages, y, dx,
// dgamma, dbeta), up to float rounding: sums run in another order. backward assigns dx and
// ADDS into dgamma, dbeta.
#pragma once
#include <cstdint>

#include "kernels/batchnorm.h"
#include "kernels/exec.h"
#include "kernels/pool2d.h"

namespace convoy::kernels {

struct BnReluMaxPoolTrainArgs {
  const float* x = nullptr;       // (N, C, H, W)
  const float* gamma = nullptr;   // (C)
  const float* beta = nullptr;    // (C)
  float* y = nullptr;             // (N, C, P, Q)
  int32_t* argmax = nullptr;      // (N, C, P, Q) out: plane offset of each window's maximum
  float* save_mean = nullptr;     // (C) out
  float* save_invstd = nullptr;   // (C) out
  float* running_mean = nullptr;  // (C) in/out
  float* running_var = nullptr;   // (C) in/out
  float eps = 1e-5f;
  float momentum = 0.1f;
};

struct BnReluMaxPoolBackwardArgs {
  const float* x = nullptr;          // (N, C, H, W) forward input
  const float* y = nullptr;          // (N, C, P, Q) forward output
  const int32_t* argmax = nullptr;   // (N, C, P, Q) from forward
  const float* dy = nullptr;         // (N, C, P, Q)
  const float* gamma = nullptr;      // (C)
  const float* beta = nullptr;       // (C) (the reference recomputes the activations)
  const float* save_mean = nullptr;  // (C)
  const float* save_invstd = nullptr;
  float* dx = nullptr;               // (N, C, H, W) assigned
  float* dgamma = nullptr;           // (C) +=
  float* dbeta = nullptr;            // (C) +=
};

// `s` is the pooling shape (N, C, H, W, window, stride, pad); the batch-norm runs over (N, C, H*W).
void bn_relu_maxpool_forward_train(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a);
void bn_relu_maxpool_backward(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a);

namespace cpu {
// The reference: the reference batch-norm and max pooling in a row, the argmax recomputed.
void bn_relu_maxpool_forward_train_reference(const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a);
void bn_relu_maxpool_backward_reference(const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a);
void bn_relu_maxpool_forward_train(const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a);
void bn_relu_maxpool_backward(const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a);
}  // namespace cpu

namespace cuda {
void bn_relu_maxpool_forward_train(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a);
void bn_relu_maxpool_backward(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a);
}  // namespace cuda

}  // namespace convoy::kernels
