// Batch-norm + ReLU + max-pool on CUDA (contract: kernels/bn_relu_maxpool.h), composed of the
// batch-norm kernels and the argmax-keeping max pooling, with the normalised activations and
// their gradient in workspace memory (released under the stream rule, kernels/exec.h) rather
// than in tensors the layers keep. Unlike the CPU kernel it still writes and reads the
// activations once each way; one kernel per pass is the fusion still to make on the GPU.
#include "kernels/bn_relu_maxpool.h"
#include "kernels/cuda/pool2d_argmax.h"

namespace convoy::kernels::cuda {

void bn_relu_maxpool_forward_train(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a) {
  const BatchNormShape b{s.N, s.C, s.H * s.W};
  ScratchBuffer act(exec, static_cast<std::size_t>(s.N) * s.C * s.H * s.W * sizeof(float));
  BatchNormTrainArgs t;
  t.x = a.x, t.gamma = a.gamma, t.beta = a.beta, t.y = act.as<float>();
  t.save_mean = a.save_mean, t.save_invstd = a.save_invstd;
  t.running_mean = a.running_mean, t.running_var = a.running_var;
  t.eps = a.eps, t.momentum = a.momentum, t.relu = true;
  kernels::cuda::batchnorm_forward_train(exec, b, t);
  maxpool_forward_argmax(exec, s, act.as<float>(), a.y, a.argmax);
}

void bn_relu_maxpool_backward(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a) {
  const BatchNormShape b{s.N, s.C, s.H * s.W};
  ScratchBuffer dact(exec, static_cast<std::size_t>(s.N) * s.C * s.H * s.W * sizeof(float));
  maxpool_backward_argmax(exec, s, a.y, a.argmax, a.dy, dact.as<float>());
  BatchNormBackwardArgs t;
  t.x = a.x, t.dy = dact.as<float>(), t.gamma = a.gamma, t.beta = a.beta;
  t.save_mean = a.save_mean, t.save_invstd = a.save_invstd;
  t.dx = a.dx, t.dgamma = a.dgamma, t.dbeta = a.dbeta, t.relu = false;  // the mask went with dact
  kernels::cuda::batchnorm_backward(exec, b, t);
}

}  // namespace convoy::kernels::cuda
