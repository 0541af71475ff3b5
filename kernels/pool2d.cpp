#include "kernels/pool2d.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void pool2d_forward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, float* y) {
  CONVOY_DISPATCH(pool2d_forward, kind, s, x, y);
}
void pool2d_backward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, const float* dy,
                     float* dx) {
  CONVOY_DISPATCH(pool2d_backward, kind, s, x, dy, dx);
}

}  // namespace convoy::kernels
