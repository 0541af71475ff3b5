// BatchNormLayer's fused path with the max pooling after it (kernels/bn_relu_maxpool.h).
#include "engine/error.h"
#include "kernels/bn_relu_maxpool.h"
#include "layers/batchnorm_layer.h"

namespace convoy {

bool BatchNormLayer::fusable_with_max_pool(const Context& ctx, const Shape& in) const {
  return cfg_.relu && !synced(ctx) && in.rank() == 4 && in[1] == cfg_.channels && in[0] * in[2] * in[3] >= 2;
}

void BatchNormLayer::forward_max_pooled(Context& ctx, const kernels::Pool2dShape& pool, const Tensor& x, Tensor& y,
                                        Saved& saved, Saved& pool_saved) {
  if (!fusable_with_max_pool(ctx, x.shape()))
    fail("batchnorm ", prefix_, ": cannot run fused with the max pooling after it (needs a fused ReLU, local "
         "statistics and a 4-D input with more than one value per channel)");
  const Device dev = x.device();
  ensure_shape(y, {pool.N, pool.C, pool.P(), pool.Q()}, dev);
  saved.x = x;
  saved.y = Tensor();
  saved.extra.resize(2);
  ensure_shape(saved.extra[0], {cfg_.channels}, dev);
  ensure_shape(saved.extra[1], {cfg_.channels}, dev);
  saved.fused_with_next = true;
  pool_saved.x = Tensor();
  pool_saved.y = y;
  pool_saved.extra.resize(1);
  ensure_shape(pool_saved.extra[0], y.shape(), dev, DType::i32);
  kernels::BnReluMaxPoolTrainArgs a;
  a.x = x.data();
  a.gamma = gamma_.value.data();
  a.beta = beta_.value.data();
  a.y = y.data();
  a.argmax = pool_saved.extra[0].data_as<int32_t>();
  a.save_mean = saved.extra[0].data();
  a.save_invstd = saved.extra[1].data();
  a.running_mean = running_mean_.data();
  a.running_var = running_var_.data();
  a.eps = cfg_.eps;
  a.momentum = cfg_.momentum;
  kernels::bn_relu_maxpool_forward_train(ctx.exec, pool, a);
}

void BatchNormLayer::backward_max_pooled(Context& ctx, const kernels::Pool2dShape& pool, const Tensor& dy,
                                         const Saved& saved, const Saved& pool_saved, Tensor* dx) {
  if (!saved.fused_with_next || saved.extra.size() != 2 || pool_saved.extra.size() != 1)
    fail("batchnorm ", prefix_, ": fused backward without a fused training forward");
  Tensor scratch;
  Tensor& out = dx ? *dx : scratch;  // the parameter gradients need the pass anyway
  ensure_shape(out, saved.x.shape(), dy.device());
  kernels::BnReluMaxPoolBackwardArgs a;
  a.x = saved.x.data();
  a.y = pool_saved.y.data();
  a.argmax = pool_saved.extra[0].data_as<int32_t>();
  a.dy = dy.data();
  a.gamma = gamma_.value.data();
  a.beta = beta_.value.data();
  a.save_mean = saved.extra[0].data();
  a.save_invstd = saved.extra[1].data();
  a.dx = out.data();
  a.dgamma = gamma_.grad.data();
  a.dbeta = beta_.grad.data();
  kernels::bn_relu_maxpool_backward(ctx.exec, pool, a);
}

}  // namespace convoy
