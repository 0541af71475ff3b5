#include "kernels/sgd.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void sgd_update(const Exec& exec, const SgdHyper& h, const SgdTensor* tensors, int count) {
  CONVOY_DISPATCH(sgd_update, h, tensors, count);
}

}  // namespace convoy::kernels
