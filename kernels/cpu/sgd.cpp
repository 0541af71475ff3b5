// SGD with momentum / Nesterov / coupled weight decay (torch.optim.SGD, dampening 0).
// The reference runs in double per element. The fast version opens one parallel region for
// the whole parameter list and splits each tensor statically among the threads (`nowait`:
// tensors are disjoint, so no thread waits between them); the per-element body is a short
// FMA chain that vectorises.
// A null momentum_buf is allowed only when momentum == 0 (there is nothing to remember).
#include <cstdint>

#include "engine/error.h"
#include "kernels/sgd.h"

namespace convoy::kernels::cpu {

namespace {

void check(const SgdHyper& h, const SgdTensor* tensors, int count, const char* where) {
  for (int t = 0; t < count; ++t) {
    const SgdTensor& p = tensors[t];
    if (p.n < 0) fail(where, ": tensor ", t, " has negative size ", p.n);
    if (p.n > 0 && (!p.param || !p.grad)) fail(where, ": tensor ", t, " has no param or grad pointer");
    if (p.n > 0 && !p.momentum_buf && h.momentum != 0.0f)
      fail(where, ": tensor ", t, " has no momentum buffer but momentum is ", h.momentum);
  }
}

}  // namespace

void sgd_update_reference(const SgdHyper& h, const SgdTensor* tensors, int count) {
  check(h, tensors, count, "sgd_update_reference");
  for (int t = 0; t < count; ++t) {
    const SgdTensor& p = tensors[t];
    const double wd = static_cast<double>(h.weight_decay) * p.weight_decay_scale;
    for (int64_t i = 0; i < p.n; ++i) {
      const double g = p.grad[i] + wd * p.param[i];
      const double buf = (p.momentum_buf ? h.momentum * static_cast<double>(p.momentum_buf[i]) : 0.0) + g;
      if (p.momentum_buf) p.momentum_buf[i] = static_cast<float>(buf);
      const double step = h.nesterov ? g + h.momentum * buf : buf;
      p.param[i] = static_cast<float>(p.param[i] - h.lr * step);
    }
  }
}

void sgd_update(const SgdHyper& h, const SgdTensor* tensors, int count) {
  check(h, tensors, count, "sgd_update");
  int64_t total = 0;
  for (int t = 0; t < count; ++t) total += tensors[t].n;
  const float lr = h.lr, mu = h.momentum;
  const bool nesterov = h.nesterov;
#pragma omp parallel if (total > (1 << 15))
  for (int t = 0; t < count; ++t) {
    const SgdTensor& p = tensors[t];
    float* __restrict w = p.param;
    const float* __restrict grad = p.grad;
    float* __restrict buf = p.momentum_buf;
    const float wd = h.weight_decay * p.weight_decay_scale;
    const int64_t n = p.n;
    if (buf) {
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < n; ++i) {
        const float g = grad[i] + wd * w[i];
        const float b = mu * buf[i] + g;
        buf[i] = b;
        w[i] -= lr * (nesterov ? g + mu * b : b);
      }
    } else {
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < n; ++i) w[i] -= lr * (grad[i] + wd * w[i]);
    }
  }
}

}  // namespace convoy::kernels::cpu
