#include "kernels/activation.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void relu_forward(const Exec& exec, int64_t n, const float* x, float* y) { CONVOY_DISPATCH(relu_forward, n, x, y); }
void relu_backward(const Exec& exec, int64_t n, const float* y, const float* dy, float* dx) {
  CONVOY_DISPATCH(relu_backward, n, y, dy, dx);
}
void gelu_forward(const Exec& exec, int64_t n, const float* x, float* y) { CONVOY_DISPATCH(gelu_forward, n, x, y); }
void gelu_backward(const Exec& exec, int64_t n, const float* x, const float* dy, float* dx) {
  CONVOY_DISPATCH(gelu_backward, n, x, dy, dx);
}

}  // namespace convoy::kernels
