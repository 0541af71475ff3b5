#include "layers/shape_layers.h"

#include "kernels/elementwise.h"

namespace convoy {

void FlattenLayer::forward(Context&, const Tensor& x, Tensor& y, Saved* saved) {
  y = x.reshape(output_shape(x.shape()));  // a view: shares x's storage
  if (saved) saved->x = x;
}

void FlattenLayer::backward(Context&, const Tensor& dy, const Saved& saved, Tensor* dx) {
  if (dx) *dx = dy.reshape(saved.x.shape());
}

void ScaleLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  ensure_shape(y, x.shape(), x.device());
  kernels::scale(ctx.exec, x.numel(), factor_, x.data(), y.data());
  if (saved) saved->x = x;
}

void ScaleLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  if (!dx) return;
  ensure_shape(*dx, dy.shape(), dy.device());
  kernels::scale(ctx.exec, dy.numel(), factor_, dy.data(), dx->data());
}

}  // namespace convoy
