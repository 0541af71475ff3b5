#include "kernels/batchnorm.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void batchnorm_forward_train(const Exec& exec, const BatchNormShape& s, const BatchNormTrainArgs& a) {
  CONVOY_DISPATCH(batchnorm_forward_train, s, a);
}
void batchnorm_forward_infer(const Exec& exec, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var, float eps,
                             bool relu, float* y) {
  CONVOY_DISPATCH(batchnorm_forward_infer, s, x, gamma, beta, running_mean, running_var, eps, relu, y);
}
void batchnorm_backward(const Exec& exec, const BatchNormShape& s, const BatchNormBackwardArgs& a) {
  CONVOY_DISPATCH(batchnorm_backward, s, a);
}

}  // namespace convoy::kernels
