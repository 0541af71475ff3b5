#include "kernels/bn_relu_maxpool.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void bn_relu_maxpool_forward_train(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a) {
  CONVOY_DISPATCH(bn_relu_maxpool_forward_train, s, a);
}
void bn_relu_maxpool_backward(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a) {
  CONVOY_DISPATCH(bn_relu_maxpool_backward, s, a);
}

}  // namespace convoy::kernels
