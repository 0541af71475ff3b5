#include "kernels/conv2d.h"
#include "kernels/dispatch.h"

namespace convoy::kernels {

void conv2d_forward(const Exec& exec, const Conv2dShape& s, const float* x, const float* w, const float* bias,
                    float* y) {
  CONVOY_DISPATCH(conv2d_forward, s, x, w, bias, y);
}
void conv2d_backward_data(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  CONVOY_DISPATCH(conv2d_backward_data, s, dy, w, dx);
}
void conv2d_backward_weights(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                             float* dbias) {
  CONVOY_DISPATCH(conv2d_backward_weights, s, x, dy, dw, dbias);
}

}  // namespace convoy::kernels
