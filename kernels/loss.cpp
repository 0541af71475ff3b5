#include "kernels/loss.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void softmax_cross_entropy(const Exec& exec, const SoftmaxXentArgs& a) { CONVOY_DISPATCH(softmax_cross_entropy, a); }

}  // namespace convoy::kernels
