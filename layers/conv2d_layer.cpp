#include "layers/conv2d_layer.h"

#include "engine/error.h"

namespace convoy {

Conv2dLayer::Conv2dLayer(const Conv2dConfig& cfg) : cfg_(cfg) {
  if (cfg.in_channels <= 0 || cfg.out_channels <= 0 || cfg.kernel <= 0 || cfg.stride <= 0 || cfg.pad < 0)
    fail("conv2d: bad configuration (in ", cfg.in_channels, ", out ", cfg.out_channels, ", kernel ", cfg.kernel,
         ", stride ", cfg.stride, ", pad ", cfg.pad, ")");
  weight_.name = "weight";
  weight_.value = Tensor({cfg.out_channels, cfg.in_channels, cfg.kernel, cfg.kernel});
  weight_.fan_in = int64_t{cfg.in_channels} * cfg.kernel * cfg.kernel;
  if (cfg.bias) {
    bias_.name = "bias";
    bias_.value = Tensor({cfg.out_channels});
    bias_.fan_in = weight_.fan_in;
  }
}

std::vector<Param*> Conv2dLayer::params() {
  if (cfg_.bias) return {&weight_, &bias_};
  return {&weight_};
}

kernels::Conv2dShape Conv2dLayer::shape_for(const Shape& in) const {
  if (in.rank() != 4 || in[1] != cfg_.in_channels)
    fail("conv2d ", prefix_, ": expects input (N, ", cfg_.in_channels, ", H, W), got ", in.to_string());
  kernels::Conv2dShape s;
  s.N = static_cast<int>(in[0]);
  s.C = cfg_.in_channels;
  s.H = static_cast<int>(in[2]);
  s.W = static_cast<int>(in[3]);
  s.K = cfg_.out_channels;
  s.R = s.S = cfg_.kernel;
  s.stride_h = s.stride_w = cfg_.stride;
  s.pad_h = s.pad_w = cfg_.pad;
  if (s.H + 2 * s.pad_h < s.R || s.W + 2 * s.pad_w < s.S)
    fail("conv2d ", prefix_, ": input ", in.to_string(), " is smaller than the ", cfg_.kernel, "x", cfg_.kernel,
         " window");
  return s;
}

Shape Conv2dLayer::output_shape(const Shape& in) const {
  auto s = shape_for(in);
  return {s.N, s.K, s.P(), s.Q()};
}

void Conv2dLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  auto s = shape_for(x.shape());
  ensure_shape(y, {s.N, s.K, s.P(), s.Q()}, x.device());
  kernels::conv2d_forward(ctx.exec, s, x.data(), weight_.value.data(), cfg_.bias ? bias_.value.data() : nullptr,
                          y.data());
  if (saved) saved->x = x;
}

void Conv2dLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  auto s = shape_for(saved.x.shape());
  kernels::conv2d_backward_weights(ctx.exec, s, saved.x.data(), dy.data(), weight_.grad.data(),
                                   cfg_.bias ? bias_.grad.data() : nullptr);
  if (dx) {
    ensure_shape(*dx, saved.x.shape(), dy.device());
    kernels::conv2d_backward_data(ctx.exec, s, dy.data(), weight_.value.data(), dx->data());
  }
}

}  // namespace convoy
