#include "layers/sequential.h"

#include "engine/error.h"
#include "kernels/elementwise.h"
#include "layers/fusion.h"

namespace convoy {

Shape SequentialLayer::output_shape(const Shape& in) const {
  Shape s = in;
  for (const auto& l : layers_) s = l->output_shape(s);
  return s;
}

std::vector<Param*> SequentialLayer::params() {
  std::vector<Param*> out;
  for (auto& l : layers_)
    for (Param* p : l->params()) out.push_back(p);
  return out;
}

std::vector<Buffer> SequentialLayer::buffers() {
  std::vector<Buffer> out;
  for (auto& l : layers_)
    for (Buffer& b : l->buffers()) out.push_back(b);
  return out;
}

void SequentialLayer::to(Device device) {
  for (auto& l : layers_) l->to(device);
  acts_.clear();
  grads_.clear();
}

void SequentialLayer::name_params(const std::string& prefix) {
  prefix_ = prefix;
  for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->name_params(prefix + std::to_string(i) + ".");
}

void SequentialLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  const std::size_t n = layers_.size();
  if (n == 0) {
    y = x;
    return;
  }
  acts_.resize(n - 1);
  if (saved) saved->children.resize(n);
  const Tensor* in = &x;
  for (std::size_t i = 0; i < n; ++i) {
    if (saved && i + 1 < n && fuses_with_next(ctx, *layers_[i], *layers_[i + 1], in->shape())) {
      Tensor& out = (i + 2 == n) ? y : acts_[i + 1];  // acts_[i] is not needed: the pair's inside stays inside
      fused_forward(ctx, *layers_[i], *layers_[i + 1], *in, out, saved->children[i], saved->children[i + 1]);
      saved->children[i + 1].fused_with_next = false;
      in = &out;
      ++i;
      continue;
    }
    if (saved) saved->children[i].fused_with_next = false;
    Tensor& out = (i + 1 == n) ? y : acts_[i];
    layers_[i]->forward(ctx, *in, out, saved ? &saved->children[i] : nullptr);
    in = &out;
  }
}

void SequentialLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  const std::size_t n = layers_.size();
  if (n == 0) {
    if (dx) *dx = dy;
    return;
  }
  if (saved.children.size() != n) fail("sequential ", prefix_, ": backward without a training forward");
  grads_.resize(n);
  const Tensor* g = &dy;
  for (std::size_t i = n; i-- > 0;) {
    if (i > 0 && saved.children[i - 1].fused_with_next) {  // layers i-1 and i ran as one op
      Tensor* target = (i - 1 == 0) ? dx : &grads_[i - 1];
      fused_backward(ctx, *layers_[i - 1], *layers_[i], *g, saved.children[i - 1], saved.children[i], target);
      if (backward_hook_) {
        backward_hook_(i);
        backward_hook_(i - 1);
      }
      g = target;
      --i;
      continue;
    }
    Tensor* target = (i == 0) ? dx : &grads_[i];
    layers_[i]->backward(ctx, *g, saved.children[i], target);
    if (backward_hook_) backward_hook_(i);
    g = target;
  }
}

Shape ResidualLayer::output_shape(const Shape& in) const {
  Shape out = body_->output_shape(in);
  if (!(out == in))
    fail("residual ", prefix_, ": the body maps ", in.to_string(), " to ", out.to_string(),
         "; a residual body must keep the shape");
  return out;
}

void ResidualLayer::forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) {
  if (saved) saved->children.resize(1);
  body_->forward(ctx, x, body_out_, saved ? &saved->children[0] : nullptr);
  ensure_shape(y, x.shape(), x.device());
  kernels::add(ctx.exec, x.numel(), x.data(), body_out_.data(), y.data());
}

void ResidualLayer::backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) {
  body_->backward(ctx, dy, saved.children[0], &body_dx_);
  if (!dx) return;
  ensure_shape(*dx, dy.shape(), dy.device());
  kernels::add(ctx.exec, dy.numel(), dy.data(), body_dx_.data(), dx->data());
}

}  // namespace convoy
