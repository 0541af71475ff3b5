// Batch-norm + ReLU + max pooling in one op, the fast CPU path (contract: kernels/bn_relu_maxpool.h).
// Blocking: one OpenMP task (static schedule) per channel, as the batch-norm kernels; a
// channel's N planes of H x W are visited twice back to back, the second time in reverse
// order so that it starts on the planes the first visit left in cache.
//   forward:  pass 1 gathers the channel's statistics (bn::train_channel, the same sums as
//             batchnorm_forward_train); pass 2 normalises one plane at a time into a
//             thread-local H x W buffer (L1) and max-pools it from there, writing only the
//             pooled plane and its argmax: the normalised activations never reach memory.
//   backward: the gradient is nonzero only at the P*Q window maxima, so pass 1 sums
//             g = dy * [y > 0] and g * (x[argmax] - mean) over the pooled outputs alone; pass 2
//             writes dx = f2 * (x - mean) + f3 densely and adds f1 * g at each argmax.
// Against the two layers this reads x three times and writes dx once, where they wrote and
// re-read the activations and their gradient (about 4x the bytes for the quick model's first
// block). Sums are in float per plane, then in double, in a fixed order: results depend on
// the inputs only.
#include <algorithm>
#include <cstdint>

#include "kernels/bn_relu_maxpool.h"
#include "kernels/cpu/batchnorm_channel.h"
#include "kernels/cpu/pool2d_check.h"
#include "kernels/cpu/pool2d_internal.h"
#include "kernels/cpu/thread_scratch.h"

namespace convoy::kernels::cpu {

void bn_relu_maxpool_forward_train(const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a) {
  check_pool2d_shape(s, "bn_relu_maxpool_forward_train");
  const BatchNormShape b{s.N, s.C, s.H * s.W};
  bn::check_train_shape(b, "bn_relu_maxpool_forward_train");
  BatchNormTrainArgs t;
  t.x = a.x, t.gamma = a.gamma, t.beta = a.beta;
  t.save_mean = a.save_mean, t.save_invstd = a.save_invstd;
  t.running_mean = a.running_mean, t.running_var = a.running_var;
  t.eps = a.eps, t.momentum = a.momentum, t.relu = true;
  const int P = s.P(), Q = s.Q();
  const Spans rows = spans(P, s.stride_h, s.pad_h, s.R, s.H), cols = spans(Q, s.stride_w, s.pad_w, s.S, s.W);
  const int64_t in_plane = static_cast<int64_t>(s.H) * s.W, out_plane = static_cast<int64_t>(P) * Q;
  const int64_t total = static_cast<int64_t>(s.N) * s.C * in_plane;
#pragma omp parallel for schedule(static) if (total > bn::kParallelMin)
  for (int c = 0; c < s.C; ++c) {
    const bn::Affine f = bn::train_channel(b, t, c);
    float* act = thread_scratch_as<float>(ScratchSlot::fused_activations, in_plane);
    for (int n = s.N - 1; n >= 0; --n) {
      const int64_t i = static_cast<int64_t>(n) * s.C + c;
      bn::affine(a.x + i * in_plane, act, static_cast<int>(in_plane), f.scale, f.shift, true);
      max_pool_plane_argmax(s, rows, cols, act, a.y + i * out_plane, a.argmax + i * out_plane);
    }
  }
}

void bn_relu_maxpool_backward(const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a) {
  check_pool2d_shape(s, "bn_relu_maxpool_backward");
  const BatchNormShape b{s.N, s.C, s.H * s.W};
  bn::check_train_shape(b, "bn_relu_maxpool_backward");
  const int64_t in_plane = static_cast<int64_t>(s.H) * s.W, out_plane = static_cast<int64_t>(s.P()) * s.Q();
  const double count = static_cast<double>(s.N) * in_plane;
  const int64_t total = static_cast<int64_t>(s.N) * s.C * in_plane;
#pragma omp parallel for schedule(static) if (total > bn::kParallelMin)
  for (int c = 0; c < s.C; ++c) {
    const float mean = a.save_mean[c];
    const double invstd = a.save_invstd[c];
    double sg = 0, sgx = 0;
    for (int n = 0; n < s.N; ++n) {
      const int64_t i = static_cast<int64_t>(n) * s.C + c;
      const float* __restrict x = a.x + i * in_plane;
      const float* __restrict y = a.y + i * out_plane;
      const float* __restrict dy = a.dy + i * out_plane;
      const int32_t* __restrict arg = a.argmax + i * out_plane;
      float g_sum = 0.0f, gx_sum = 0.0f;
      for (int64_t o = 0; o < out_plane; ++o) {
        const float g = y[o] > 0.0f ? dy[o] : 0.0f;
        g_sum += g;
        gx_sum += g * (x[arg[o]] - mean);
      }
      sg += g_sum;
      sgx += gx_sum;
    }
    const bn::BackwardCoefficients coef =
        bn::backward_channel(a.gamma[c], invstd, sg, sgx, count, a.dgamma[c], a.dbeta[c]);
    const float f1 = coef.f1, f2 = coef.f2, f3 = coef.f3;  // locals: clang refuses bindings in omp simd
    for (int n = s.N - 1; n >= 0; --n) {
      const int64_t i = static_cast<int64_t>(n) * s.C + c;
      const float* __restrict x = a.x + i * in_plane;
      float* __restrict dx = a.dx + i * in_plane;
#pragma omp simd
      for (int64_t e = 0; e < in_plane; ++e) dx[e] = f2 * (x[e] - mean) + f3;
      const float* y = a.y + i * out_plane;
      const float* dy = a.dy + i * out_plane;
      const int32_t* arg = a.argmax + i * out_plane;
      for (int64_t o = 0; o < out_plane; ++o)
        if (y[o] > 0.0f) dx[arg[o]] += f1 * dy[o];
    }
  }
}

}  // namespace convoy::kernels::cpu
