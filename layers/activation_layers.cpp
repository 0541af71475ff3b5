#include "layers/activation_layers.h"

#include "kernels/activation.h"

namespace convoy {

void ReluLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  ensure_shape(y, x.shape(), x.device());
  kernels::relu_forward(ctx.exec, x.numel(), x.data(), y.data());
  if (saved) saved->y = y;
}

void ReluLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  if (!dx) return;
  ensure_shape(*dx, saved.y.shape(), dy.device());
  kernels::relu_backward(ctx.exec, dy.numel(), saved.y.data(), dy.data(), dx->data());
}

void GeluLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  ensure_shape(y, x.shape(), x.device());
  kernels::gelu_forward(ctx.exec, x.numel(), x.data(), y.data());
  if (saved) saved->x = x;
}

void GeluLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  if (!dx) return;
  ensure_shape(*dx, saved.x.shape(), dy.device());
  kernels::gelu_backward(ctx.exec, dy.numel(), saved.x.data(), dy.data(), dx->data());
}

}  // namespace convoy
