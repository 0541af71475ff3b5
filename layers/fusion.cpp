#include "layers/fusion.h"

#include "engine/error.h"
#include "layers/batchnorm_layer.h"
#include "layers/pool_layers.h"

namespace convoy {
namespace {

struct BnMaxPool {
  BatchNormLayer* bn = nullptr;
  PoolLayer* pool = nullptr;
};

BnMaxPool as_bn_max_pool(Layer& first, Layer& second) {
  auto* bn = dynamic_cast<BatchNormLayer*>(&first);
  auto* pool = dynamic_cast<PoolLayer*>(&second);
  if (!bn || !pool || pool->config().kind != kernels::PoolKind::max) return {};
  return {bn, pool};
}

}  // namespace

bool fuses_with_next(const Context& ctx, Layer& first, Layer& second, const Shape& in) {
  if (!ctx.fuse_layers) return false;
  const BnMaxPool p = as_bn_max_pool(first, second);
  return p.bn && p.bn->fusable_with_max_pool(ctx, in);
}

void fused_forward(Context& ctx, Layer& first, Layer& second, const Tensor& x, Tensor& y, Saved& first_saved,
                   Saved& second_saved) {
  const BnMaxPool p = as_bn_max_pool(first, second);
  if (!p.bn) fail("fused_forward: ", first.type(), " then ", second.type(), " is not a fused pair");
  p.bn->forward_max_pooled(ctx, p.pool->shape_for(x.shape()), x, y, first_saved, second_saved);
}

void fused_backward(Context& ctx, Layer& first, Layer& second, const Tensor& dy, const Saved& first_saved,
                    const Saved& second_saved, Tensor* dx) {
  const BnMaxPool p = as_bn_max_pool(first, second);
  if (!p.bn) fail("fused_backward: ", first.type(), " then ", second.type(), " is not a fused pair");
  p.bn->backward_max_pooled(ctx, p.pool->shape_for(first_saved.x.shape()), dy, first_saved, second_saved, dx);
}

}  // namespace convoy
