#include "layers/batchnorm_layer.h"

#include "engine/error.h"
#include "kernels/batchnorm.h"

namespace convoy {
namespace {

kernels::BatchNormShape bn_shape(const Shape& in, int channels, const std::string& where) {
  if ((in.rank() != 4 && in.rank() != 2) || in[1] != channels)
    fail("batchnorm ", where, ": expects input (N, ", channels, ", ...), got ", in.to_string());
  kernels::BatchNormShape s;
  s.N = static_cast<int>(in[0]);
  s.C = channels;
  s.HW = in.rank() == 4 ? static_cast<int>(in[2] * in[3]) : 1;
  return s;
}

}  // namespace

BatchNormLayer::BatchNormLayer(const BatchNormConfig& cfg) : cfg_(cfg) {
  if (cfg.channels <= 0) fail("batchnorm: channels must be positive, got ", cfg.channels);
  gamma_.name = "weight";
  gamma_.value = Tensor::filled({cfg.channels}, 1.0f);
  gamma_.init = Init::ones;
  beta_.name = "bias";
  beta_.value = Tensor::zeros({cfg.channels});
  beta_.init = Init::zeros;
  running_mean_ = Tensor::zeros({cfg.channels});
  running_var_ = Tensor::filled({cfg.channels}, 1.0f);
}

std::vector<Buffer> BatchNormLayer::buffers() {
  return {{prefix_ + "running_mean", &running_mean_}, {prefix_ + "running_var", &running_var_}};
}

Shape BatchNormLayer::output_shape(const Shape& in) const {
  bn_shape(in, cfg_.channels, prefix_);
  return in;
}

void BatchNormLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  auto s = bn_shape(x.shape(), cfg_.channels, prefix_);
  ensure_shape(y, x.shape(), x.device());
  if (!saved) {
    kernels::batchnorm_forward_infer(ctx.exec, s, x.data(), gamma_.value.data(), beta_.value.data(),
                                     running_mean_.data(), running_var_.data(), cfg_.eps, cfg_.relu, y.data());
    return;
  }
  saved->x = x;
  saved->y = y;
  saved->extra.resize(2);
  ensure_shape(saved->extra[0], {cfg_.channels}, x.device());
  ensure_shape(saved->extra[1], {cfg_.channels}, x.device());
  kernels::BatchNormTrainArgs a;
  a.x = x.data();
  a.gamma = gamma_.value.data();
  a.beta = beta_.value.data();
  a.y = y.data();
  a.save_mean = saved->extra[0].data();
  a.save_invstd = saved->extra[1].data();
  a.running_mean = running_mean_.data();
  a.running_var = running_var_.data();
  a.eps = cfg_.eps;
  a.momentum = cfg_.momentum;
  a.relu = cfg_.relu;
  kernels::batchnorm_forward_train(ctx.exec, s, a);
}

void BatchNormLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  auto s = bn_shape(saved.x.shape(), cfg_.channels, prefix_);
  Tensor scratch;
  Tensor& out = dx ? *dx : scratch;  // batch-norm's parameter gradients need the pass anyway
  ensure_shape(out, saved.x.shape(), dy.device());
  kernels::BatchNormBackwardArgs a;
  a.x = saved.x.data();
  a.y = saved.y.data();
  a.dy = dy.data();
  a.gamma = gamma_.value.data();
  a.beta = beta_.value.data();
  a.save_mean = saved.extra[0].data();
  a.save_invstd = saved.extra[1].data();
  a.dx = out.data();
  a.dgamma = gamma_.grad.data();
  a.dbeta = beta_.grad.data();
  a.relu = cfg_.relu;
  kernels::batchnorm_backward(ctx.exec, s, a);
}

}  // namespace convoy
