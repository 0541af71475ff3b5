#include "kernels/augment.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void augment_normalize(const Exec& exec, const AugmentArgs& a) { CONVOY_DISPATCH(augment_normalize, a); }

}  // namespace convoy::kernels
