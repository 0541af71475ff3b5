// Softmax cross-entropy with label smoothing on the CPU.
// The reference works in double with plain loops. The fast version keeps float, runs rows in
// parallel (static schedule) and per row does three short passes over the K logits (max,
// exp-sum, write), which for the K = 10..1000 of classifiers all stay in L1.
// With t = (1 - s) one_hot(label) + s / K:
//   loss = lse - (1 - s) z[label] - (s / K) sum_k z[k],   lse = log sum_k exp(z[k])
//   dlogits[k] = grad_scale * (softmax(z)[k] - t[k])
#include <cmath>
#include <cstdint>

#include "engine/error.h"
#include "kernels/loss.h"

namespace convoy::kernels::cpu {

namespace {

void check_labels(const SoftmaxXentArgs& a, const char* where) {
  if (a.N < 0 || a.K <= 0) fail(where, ": N=", a.N, " K=", a.K, " (K must be positive)");
  for (int i = 0; i < a.N; ++i)
    if (a.labels[i] < 0 || a.labels[i] >= a.K)
      fail(where, ": label ", a.labels[i], " of row ", i, " is outside [0, ", a.K, ")");
}

}  // namespace

void softmax_cross_entropy_reference(const SoftmaxXentArgs& a) {
  check_labels(a, "softmax_cross_entropy_reference");
  const double s = a.smoothing, K = a.K;
  for (int i = 0; i < a.N; ++i) {
    const float* z = a.logits + static_cast<int64_t>(i) * a.K;
    double m = z[0];
    for (int k = 1; k < a.K; ++k) m = z[k] > m ? z[k] : m;
    double e = 0;
    for (int k = 0; k < a.K; ++k) e += std::exp(z[k] - m);
    const double lse = m + std::log(e);
    double loss = 0;
    for (int k = 0; k < a.K; ++k) {
      const double t = s / K + (k == a.labels[i] ? 1.0 - s : 0.0);
      loss -= t * (z[k] - lse);
      if (a.dlogits) a.dlogits[static_cast<int64_t>(i) * a.K + k] = static_cast<float>(a.grad_scale * (std::exp(z[k] - lse) - t));
    }
    a.loss[i] = static_cast<float>(loss);
  }
}

void softmax_cross_entropy(const SoftmaxXentArgs& a) {
  check_labels(a, "softmax_cross_entropy");
  const int K = a.K;
  const float s = a.smoothing, off = s / static_cast<float>(K), on = 1.0f - s;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(a.N) * K > (1 << 14))
  for (int i = 0; i < a.N; ++i) {
    const float* __restrict z = a.logits + static_cast<int64_t>(i) * K;
    const int label = a.labels[i];
    float m = z[0];
    for (int k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
    float e = 0.0f, zsum = 0.0f;
    for (int k = 0; k < K; ++k) {
      e += std::exp(z[k] - m);
      zsum += z[k];
    }
    const float lse = m + std::log(e);
    a.loss[i] = lse - on * z[label] - off * zsum;
    if (a.dlogits) {
      float* __restrict d = a.dlogits + static_cast<int64_t>(i) * K;
      const float g = a.grad_scale;
      for (int k = 0; k < K; ++k) d[k] = g * (std::exp(z[k] - lse) - off);
      d[label] -= g * on;
    }
  }
}

}  // namespace convoy::kernels::cpu
