// The fused batch-norm + ReLU + max-pool, the reference: the reference ops in a row
// (batchnorm_forward_train_reference with ReLU, pool2d_forward_reference), so the fused
// kernels are held to exactly what the unfused layers compute. Backward rebuilds the
// normalised activations from x and the saved statistics and runs the reference max-pool
// and batch-norm backward passes.
#include <cmath>
#include <vector>

#include "kernels/bn_relu_maxpool.h"
#include "kernels/cpu/pool2d_check.h"

namespace convoy::kernels::cpu {

namespace {

BatchNormShape bn_shape(const Pool2dShape& s) { return {s.N, s.C, s.H * s.W}; }

// The first maximal element of each window in row-major order, as a plane offset.
void argmax_reference(const Pool2dShape& s, const float* act, int32_t* arg) {
  const int P = s.P(), Q = s.Q();
  for (long plane = 0; plane < static_cast<long>(s.N) * s.C; ++plane) {
    const float* a = act + plane * s.H * s.W;
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q) {
        int best = -1;
        for (int h = std::max(0, p * s.stride_h - s.pad_h); h < std::min(s.H, p * s.stride_h - s.pad_h + s.R); ++h)
          for (int w = std::max(0, q * s.stride_w - s.pad_w); w < std::min(s.W, q * s.stride_w - s.pad_w + s.S); ++w)
            if (best < 0 || a[h * s.W + w] > a[best]) best = h * s.W + w;
        arg[plane * P * Q + p * Q + q] = best;
      }
  }
}

}  // namespace

void bn_relu_maxpool_forward_train_reference(const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a) {
  check_pool2d_shape(s, "bn_relu_maxpool_forward_train_reference");
  std::vector<float> act(static_cast<size_t>(s.N) * s.C * s.H * s.W);
  BatchNormTrainArgs b;
  b.x = a.x, b.gamma = a.gamma, b.beta = a.beta, b.y = act.data();
  b.save_mean = a.save_mean, b.save_invstd = a.save_invstd;
  b.running_mean = a.running_mean, b.running_var = a.running_var;
  b.eps = a.eps, b.momentum = a.momentum, b.relu = true;
  batchnorm_forward_train_reference(bn_shape(s), b);
  pool2d_forward_reference(PoolKind::max, s, act.data(), a.y);
  argmax_reference(s, act.data(), a.argmax);
}

void bn_relu_maxpool_backward_reference(const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a) {
  check_pool2d_shape(s, "bn_relu_maxpool_backward_reference");
  const size_t plane = static_cast<size_t>(s.H) * s.W;
  std::vector<float> act(static_cast<size_t>(s.N) * s.C * plane), dact(act.size());
  for (int n = 0; n < s.N; ++n)
    for (int c = 0; c < s.C; ++c) {
      const double scale = static_cast<double>(a.gamma[c]) * a.save_invstd[c];
      const size_t off = (static_cast<size_t>(n) * s.C + c) * plane;
      for (size_t i = 0; i < plane; ++i) {
        const double v = (a.x[off + i] - static_cast<double>(a.save_mean[c])) * scale + a.beta[c];
        act[off + i] = v > 0 ? static_cast<float>(v) : 0.0f;
      }
    }
  pool2d_backward_reference(PoolKind::max, s, act.data(), a.dy, dact.data());
  BatchNormBackwardArgs b;
  b.x = a.x, b.y = act.data(), b.dy = dact.data(), b.gamma = a.gamma, b.beta = a.beta;
  b.save_mean = a.save_mean, b.save_invstd = a.save_invstd;
  b.dx = a.dx, b.dgamma = a.dgamma, b.dbeta = a.dbeta, b.relu = true;
  batchnorm_backward_reference(bn_shape(s), b);
}

}  // namespace convoy::kernels::cpu
