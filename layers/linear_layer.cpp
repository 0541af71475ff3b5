#include "layers/linear_layer.h"

#include "engine/error.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace convoy {

LinearLayer::LinearLayer(const LinearConfig& cfg) : cfg_(cfg) {
  if (cfg.in_features <= 0 || cfg.out_features <= 0)
    fail("linear: in and out features must be positive, got ", cfg.in_features, " and ", cfg.out_features);
  weight_.name = "weight";
  weight_.value = Tensor({cfg.out_features, cfg.in_features});
  weight_.fan_in = cfg.in_features;
  if (cfg.bias) {
    bias_.name = "bias";
    bias_.value = Tensor({cfg.out_features});
    bias_.fan_in = cfg.in_features;
  }
}

std::vector<Param*> LinearLayer::params() {
  if (cfg_.bias) return {&weight_, &bias_};
  return {&weight_};
}

Shape LinearLayer::output_shape(const Shape& in) const {
  if (in.rank() < 2 || in.numel() / in[0] != cfg_.in_features)
    fail("linear ", prefix_, ": expects ", cfg_.in_features, " features per sample, got input ", in.to_string());
  return {in[0], cfg_.out_features};
}

void LinearLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  Shape out = output_shape(x.shape());
  ensure_shape(y, out, x.device());
  const int N = static_cast<int>(out[0]);
  kernels::GemmArgs g;  // y (N, out) = x (N, in) * W^T (in, out)
  g.trans_a = kernels::Trans::no;
  g.trans_b = kernels::Trans::yes;
  g.M = N;
  g.N = cfg_.out_features;
  g.K = cfg_.in_features;
  g.A = x.data();
  g.lda = cfg_.in_features;
  g.B = weight_.value.data();
  g.ldb = cfg_.in_features;
  g.C = y.data();
  g.ldc = cfg_.out_features;
  kernels::sgemm(ctx.exec, g);
  if (cfg_.bias) kernels::add_bias(ctx.exec, N, cfg_.out_features, bias_.value.data(), y.data());
  if (saved) saved->x = x;
}

void LinearLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  const int N = static_cast<int>(saved.x.dim(0));
  kernels::GemmArgs g;  // dW (out, in) += dy^T (out, N) * x (N, in)
  g.trans_a = kernels::Trans::yes;
  g.trans_b = kernels::Trans::no;
  g.M = cfg_.out_features;
  g.N = cfg_.in_features;
  g.K = N;
  g.A = dy.data();
  g.lda = cfg_.out_features;
  g.B = saved.x.data();
  g.ldb = cfg_.in_features;
  g.beta = 1.0f;
  g.C = weight_.grad.data();
  g.ldc = cfg_.in_features;
  kernels::sgemm(ctx.exec, g);
  if (cfg_.bias) kernels::sum_rows_accumulate(ctx.exec, N, cfg_.out_features, dy.data(), bias_.grad.data());
  if (dx) {
    ensure_shape(*dx, saved.x.shape(), dy.device());
    kernels::GemmArgs d;  // dx (N, in) = dy (N, out) * W (out, in)
    d.M = N;
    d.N = cfg_.in_features;
    d.K = cfg_.out_features;
    d.A = dy.data();
    d.lda = cfg_.out_features;
    d.B = weight_.value.data();
    d.ldb = cfg_.in_features;
    d.C = dx->data();
    d.ldc = cfg_.in_features;
    kernels::sgemm(ctx.exec, d);
  }
}

}  // namespace convoy
