#include "layers/batchnorm_layer.h"

#include <cmath>

#include "engine/collective.h"
#include "engine/error.h"
#include "kernels/activation.h"
#include "kernels/batchnorm.h"
#include "kernels/elementwise.h"

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
  if (synced(ctx)) {
    forward_synced(ctx, x, y, *saved);
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

kernels::BatchNormBackwardArgs BatchNormLayer::backward_args(const Tensor& dy, const Saved& saved, Tensor& dx,
                                                             float* dgamma, float* dbeta) {
  kernels::BatchNormBackwardArgs a;
  a.x = saved.x.data();
  a.y = saved.y.data();
  a.dy = dy.data();
  a.gamma = gamma_.value.data();
  a.beta = beta_.value.data();
  a.save_mean = saved.extra[0].data();
  a.save_invstd = saved.extra[1].data();
  a.dx = dx.data();
  a.dgamma = dgamma;
  a.dbeta = dbeta;
  a.relu = cfg_.relu;
  return a;
}

void BatchNormLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  auto s = bn_shape(saved.x.shape(), cfg_.channels, prefix_);
  Tensor scratch;
  Tensor& out = dx ? *dx : scratch;  // batch-norm's parameter gradients need the pass anyway
  ensure_shape(out, saved.x.shape(), dy.device());
  if (saved.extra.size() == 3) {  // the forward used global statistics
    backward_synced(ctx, dy, saved, out);
    return;
  }
  kernels::batchnorm_backward(ctx.exec, s, backward_args(dy, saved, out, gamma_.grad.data(), beta_.grad.data()));
}

// ---- synchronised batch-norm (--sync-bn) ------------------------------------------
// Per-channel vectors (C floats) are combined on the host between the kernel calls, with
// explicit copies; the heavy passes are the same dispatching kernels as the local path.

bool BatchNormLayer::synced(const Context& ctx) const {
  return ctx.sync_batchnorm && ctx.collective && ctx.collective->world_size() > 1;
}

namespace {

Tensor on_device(const std::vector<float>& v, Device device) {
  Tensor t = Tensor::from_vector({static_cast<int64_t>(v.size())}, v);
  return device.is_cpu() ? t : t.to(device);
}

}  // namespace

void BatchNormLayer::forward_synced(Context& ctx, const Tensor& x, Tensor& y, Saved& saved) {
  auto s = bn_shape(x.shape(), cfg_.channels, prefix_);
  const int C = cfg_.channels;
  const Device dev = x.device();
  saved.x = x;
  saved.y = y;
  saved.extra.resize(3);
  ensure_shape(saved.extra[0], {C}, dev);
  ensure_shape(saved.extra[1], {C}, dev);
  // Local mean and invstd from the training kernel (momentum 0 leaves the running
  // statistics alone); its y is overwritten below.
  kernels::BatchNormTrainArgs a;
  a.x = x.data();
  a.gamma = gamma_.value.data();
  a.beta = beta_.value.data();
  a.y = y.data();
  a.save_mean = saved.extra[0].data();
  a.save_invstd = saved.extra[1].data();
  a.running_mean = running_mean_.data();
  a.running_var = running_var_.data();
  a.eps = cfg_.eps;
  a.momentum = 0.0f;
  a.relu = false;
  kernels::batchnorm_forward_train(ctx.exec, s, a);

  // Allreduce, in double, [n*mean, n*(var + mean^2), n] per channel: the sums of x and x^2 over
  // every rank's batch, whatever each rank's batch size. In double the global variance
  // S2/M - mu^2 keeps ~1e-16 * mean^2/var of relative error, far below the float32 rounding
  // of the local statistics (packed as float32, as before, a channel whose mean^2 is 1e4
  // times its variance lost four digits in that subtraction).
  const std::vector<float> mean = saved.extra[0].to_vector(), invstd = saved.extra[1].to_vector();
  const double n = static_cast<double>(s.N) * s.HW;
  std::vector<double> stats(2 * C + 1);
  for (int c = 0; c < C; ++c) {
    const double var = std::max(1.0 / (double(invstd[c]) * invstd[c]) - cfg_.eps, 0.0);
    stats[c] = n * mean[c];
    stats[C + c] = n * (var + double(mean[c]) * mean[c]);
  }
  stats[2 * C] = n;
  ctx.collective->allreduce_sum_host(stats);
  const double M = stats[2 * C];
  std::vector<float> gmean(C), gvar(C), ginvstd(C), rmean = running_mean_.to_vector(), rvar = running_var_.to_vector();
  const double m = cfg_.momentum;
  for (int c = 0; c < C; ++c) {
    const double mu = stats[c] / M;
    const double var = std::max(0.0, stats[C + c] / M - mu * mu);
    gmean[c] = static_cast<float>(mu);
    gvar[c] = static_cast<float>(var);
    ginvstd[c] = static_cast<float>(1.0 / std::sqrt(var + cfg_.eps));
    rmean[c] = static_cast<float>((1 - m) * rmean[c] + m * mu);
    rvar[c] = static_cast<float>((1 - m) * rvar[c] + m * var * (M > 1 ? M / (M - 1) : 1.0));
  }
  saved.extra[0].copy_from(Tensor::from_vector({C}, gmean));
  saved.extra[1].copy_from(Tensor::from_vector({C}, ginvstd));
  saved.extra[2] = Tensor::from_vector({1}, {static_cast<float>(M)});  // global count, on the host
  running_mean_.copy_from(Tensor::from_vector({C}, rmean));
  running_var_.copy_from(Tensor::from_vector({C}, rvar));
  Tensor var_dev = on_device(gvar, dev);
  kernels::batchnorm_forward_infer(ctx.exec, s, x.data(), gamma_.value.data(), beta_.value.data(),
                                   saved.extra[0].data(), var_dev.data(), cfg_.eps, cfg_.relu, y.data());
}

void BatchNormLayer::backward_synced(Context& ctx, const Tensor& dy, const Saved& saved, Tensor& dx) {
  auto s = bn_shape(saved.x.shape(), cfg_.channels, prefix_);
  const int C = cfg_.channels;
  const Device dev = dy.device();
  // Local sums of g and g * xhat (xhat with the global statistics) from the backward
  // kernel, into zeroed vectors; its dx (local means) is replaced below.
  Tensor sums = Tensor::zeros({2 * C}, dev);
  kernels::batchnorm_backward(ctx.exec, s, backward_args(dy, saved, dx, sums.data(), sums.data() + C));
  kernels::add(ctx.exec, C, gamma_.grad.data(), sums.data(), gamma_.grad.data());  // local: DDP averages them
  kernels::add(ctx.exec, C, beta_.grad.data(), sums.data() + C, beta_.grad.data());
  const std::vector<float> local = sums.to_vector();
  std::vector<double> g(local.begin(), local.end());
  ctx.collective->allreduce_sum_host(g);

  // dx = gamma*invstd*(g - sum_g/M - xhat*sum_gxhat/M) = A*g + B*x + D per channel,
  // applied with the inference kernel as a per-channel affine map (mean 0, var 1, eps 0).
  const std::vector<float> mean = saved.extra[0].to_vector(), invstd = saved.extra[1].to_vector(),
                           gamma = gamma_.value.to_vector();
  const double M = saved.extra[2].to_vector()[0];
  std::vector<float> A(C), B(C), D(C), zeros(C, 0.0f), ones(C, 1.0f);
  for (int c = 0; c < C; ++c) {
    const double k = double(gamma[c]) * invstd[c];
    const double mean_gx = g[c] / M, mean_g = g[C + c] / M;
    A[c] = static_cast<float>(k);
    B[c] = static_cast<float>(-k * invstd[c] * mean_gx);
    D[c] = static_cast<float>(-k * mean_g + k * invstd[c] * mean[c] * mean_gx);
  }
  const Tensor tA = on_device(A, dev), tB = on_device(B, dev), tD = on_device(D, dev), t0 = on_device(zeros, dev),
               t1 = on_device(ones, dev);
  const float* grad = dy.data();
  if (cfg_.relu) {
    ensure_shape(sync_grad_, dy.shape(), dev);
    kernels::relu_backward(ctx.exec, dy.numel(), saved.y.data(), dy.data(), sync_grad_.data());
    grad = sync_grad_.data();
  }
  ensure_shape(sync_term_, dy.shape(), dev);
  kernels::batchnorm_forward_infer(ctx.exec, s, grad, tA.data(), tD.data(), t0.data(), t1.data(), 0.0f, false,
                                   dx.data());
  kernels::batchnorm_forward_infer(ctx.exec, s, saved.x.data(), tB.data(), t0.data(), t0.data(), t1.data(), 0.0f,
                                   false, sync_term_.data());
  kernels::add(ctx.exec, dy.numel(), dx.data(), sync_term_.data(), dx.data());
}

}  // namespace convoy
