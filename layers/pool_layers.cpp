#include "layers/pool_layers.h"

#include "engine/error.h"

namespace convoy {

PoolLayer::PoolLayer(const PoolConfig& cfg) : cfg_(cfg) {
  if (!cfg.global && (cfg.kernel <= 0 || cfg.stride <= 0 || cfg.pad < 0 || cfg.pad * 2 >= cfg.kernel + 1))
    fail("pool: bad configuration (kernel ", cfg.kernel, ", stride ", cfg.stride, ", pad ", cfg.pad,
         "); pad must be at most half the kernel");
}

kernels::Pool2dShape PoolLayer::shape_for(const Shape& in) const {
  if (in.rank() != 4) fail(type(), " ", prefix_, ": expects input (N, C, H, W), got ", in.to_string());
  kernels::Pool2dShape s;
  s.N = static_cast<int>(in[0]);
  s.C = static_cast<int>(in[1]);
  s.H = static_cast<int>(in[2]);
  s.W = static_cast<int>(in[3]);
  if (cfg_.global) {
    s.R = s.stride_h = s.H;
    s.S = s.stride_w = s.W;
    s.pad_h = s.pad_w = 0;
  } else {
    s.R = s.S = cfg_.kernel;
    s.stride_h = s.stride_w = cfg_.stride;
    s.pad_h = s.pad_w = cfg_.pad;
    if (s.H + 2 * s.pad_h < s.R || s.W + 2 * s.pad_w < s.S)
      fail(type(), " ", prefix_, ": input ", in.to_string(), " is smaller than the pooling window");
  }
  return s;
}

Shape PoolLayer::output_shape(const Shape& in) const {
  auto s = shape_for(in);
  return {s.N, s.C, s.P(), s.Q()};
}

void PoolLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  auto s = shape_for(x.shape());
  ensure_shape(y, {s.N, s.C, s.P(), s.Q()}, x.device());
  kernels::pool2d_forward(ctx.exec, cfg_.kind, s, x.data(), y.data());
  if (saved) saved->x = x;
}

void PoolLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  if (!dx) return;
  auto s = shape_for(saved.x.shape());
  ensure_shape(*dx, saved.x.shape(), dy.device());
  kernels::pool2d_backward(ctx.exec, cfg_.kind, s, saved.x.data(), dy.data(), dx->data());
}

}  // namespace convoy
