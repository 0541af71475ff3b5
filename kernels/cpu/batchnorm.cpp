// Batch normalisation, the fast CPU path.
// Blocking: one OpenMP task (static schedule) per channel. A channel's N segments of HW
// contiguous floats are visited twice back to back, the second time in reverse segment order
// so that it starts on the segments the first visit left in cache (the segments sit C*HW
// floats apart, a power of two for the usual shapes, so they compete for the same cache sets
// and only the most recent ones survive):
//   forward-train: pass 1 sums (x - k) and (x - k)^2 with the shift k = the channel's first
//                  value (keeps the one-pass variance accurate), pass 2 writes y = a*x + b
//                  (+ ReLU);
//   backward:      pass 1 sums g and g * (x - mean), pass 2 writes dx.
// Inner loops are `omp simd` reductions over contiguous floats, summed in float over chunks
// of kChunk elements and then in double, so the order of additions is fixed at compile
// time: results depend on nothing but the inputs.
#include <cmath>
#include <cstdint>

#include "engine/error.h"
#include "kernels/batchnorm.h"
#include "kernels/cpu/batchnorm_channel.h"

namespace convoy::kernels::cpu {

namespace {

using bn::kChunk;
using bn::kParallelMin;

using bn::check_train_shape;

// sg += sum g, sgx += sum g * (x - mean), g = dy masked by y > 0 when y != nullptr.
void grad_sums(const float* __restrict x, const float* __restrict dy, const float* __restrict y, int len, float mean,
               double& sg, double& sgx) {
  for (int i0 = 0; i0 < len; i0 += kChunk) {
    const int i1 = i0 + kChunk < len ? i0 + kChunk : len;
    float a = 0.0f, b = 0.0f;
    if (y) {
#pragma omp simd reduction(+ : a, b)
      for (int i = i0; i < i1; ++i) {
        const float d = dy[i];  // loaded unconditionally so the select vectorises (no branch)
        const float g = y[i] > 0.0f ? d : 0.0f;
        a += g;
        b += g * (x[i] - mean);
      }
    } else {
#pragma omp simd reduction(+ : a, b)
      for (int i = i0; i < i1; ++i) {
        a += dy[i];
        b += dy[i] * (x[i] - mean);
      }
    }
    sg += a;
    sgx += b;
  }
}

}  // namespace

void batchnorm_forward_train(const BatchNormShape& s, const BatchNormTrainArgs& a) {
  check_train_shape(s, "batchnorm_forward_train");
  const int64_t plane = static_cast<int64_t>(s.C) * s.HW;
  const int64_t total = s.N * plane;
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int c = 0; c < s.C; ++c) {
    const bn::Affine f = bn::train_channel(s, a, c);
    const float* xc = a.x + static_cast<int64_t>(c) * s.HW;
    float* yc = a.y + static_cast<int64_t>(c) * s.HW;
    for (int n = s.N - 1; n >= 0; --n) bn::affine(xc + n * plane, yc + n * plane, s.HW, f.scale, f.shift, a.relu);
  }
}

// One pass; (n, c) segments are independent, so both loops are shared among threads.
void batchnorm_forward_infer(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                             const float* running_mean, const float* running_var, float eps, bool relu, float* y) {
  const int64_t total = static_cast<int64_t>(s.N) * s.C * s.HW;
#pragma omp parallel for collapse(2) schedule(static) if (total > kParallelMin)
  for (int n = 0; n < s.N; ++n)
    for (int c = 0; c < s.C; ++c) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
      const double scale = gamma[c] * invstd;
      const int64_t off = (static_cast<int64_t>(n) * s.C + c) * s.HW;
      bn::affine(x + off, y + off, s.HW, static_cast<float>(scale),
             static_cast<float>(beta[c] - running_mean[c] * scale), relu);
    }
}

// dx = k1 * g + k2 * (x - mean) + k3 with k1 = gamma * invstd, k2 = -k1 * invstd^2 * sum(g (x - mean)) / M,
// k3 = -k1 * sum(g) / M: the formula of the reference, regrouped so the second pass is one FMA chain.
void batchnorm_backward(const BatchNormShape& s, const BatchNormBackwardArgs& a) {
  check_train_shape(s, "batchnorm_backward");
  const int64_t plane = static_cast<int64_t>(s.C) * s.HW;
  const double count = static_cast<double>(s.N) * s.HW;
  const int64_t total = s.N * plane;
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int c = 0; c < s.C; ++c) {
    const int64_t c0 = static_cast<int64_t>(c) * s.HW;
    const float* xc = a.x + c0;
    const float* dyc = a.dy + c0;
    const float* yc = a.relu ? a.y + c0 : nullptr;
    float* dxc = a.dx + c0;
    const float mean = a.save_mean[c];
    const double invstd = a.save_invstd[c];
    double sg = 0, sgx = 0;
    for (int n = 0; n < s.N; ++n)
      grad_sums(xc + n * plane, dyc + n * plane, yc ? yc + n * plane : nullptr, s.HW, mean, sg, sgx);
    const bn::BackwardCoefficients coef =
        bn::backward_channel(a.gamma[c], invstd, sg, sgx, count, a.dgamma[c], a.dbeta[c]);
    const float f1 = coef.f1, f2 = coef.f2, f3 = coef.f3;  // locals: clang refuses bindings in omp simd
    for (int n = s.N - 1; n >= 0; --n) {
      const float* __restrict xs = xc + n * plane;
      const float* __restrict dys = dyc + n * plane;
      float* __restrict dxs = dxc + n * plane;
      if (yc) {
        const float* __restrict ys = yc + n * plane;
#pragma omp simd
        for (int i = 0; i < s.HW; ++i) {
          const float d = dys[i];
          const float g = ys[i] > 0.0f ? d : 0.0f;
          dxs[i] = f1 * g + f2 * (xs[i] - mean) + f3;
        }
      } else {
#pragma omp simd
        for (int i = 0; i < s.HW; ++i) dxs[i] = f1 * dys[i] + f2 * (xs[i] - mean) + f3;
      }
    }
  }
}

}  // namespace convoy::kernels::cpu
