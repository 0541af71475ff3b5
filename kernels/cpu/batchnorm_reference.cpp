// Batch normalisation, the reference: plain loops in double precision, straight from the
// formulas in kernels/batchnorm.h. The fast versions in batchnorm.cpp are tested against it.
#include <cmath>
#include <cstdint>

#include "engine/error.h"
#include "kernels/batchnorm.h"

namespace convoy::kernels::cpu {

namespace {

int64_t at(const BatchNormShape& s, int n, int c, int i) {
  return (static_cast<int64_t>(n) * s.C + c) * s.HW + i;
}

void check_train_shape(const BatchNormShape& s, const char* where) {
  if (s.N <= 0 || s.C <= 0 || s.HW <= 0)
    fail(where, ": shape N=", s.N, " C=", s.C, " HW=", s.HW, " must be positive");
  if (static_cast<int64_t>(s.N) * s.HW < 2)
    fail(where, ": training needs more than one value per channel (N*HW = ", int64_t{s.N} * s.HW,
         "), as in PyTorch");
}

}  // namespace

void batchnorm_forward_train_reference(const BatchNormShape& s, const BatchNormTrainArgs& a) {
  check_train_shape(s, "batchnorm_forward_train_reference");
  const double count = static_cast<double>(s.N) * s.HW;
  for (int c = 0; c < s.C; ++c) {
    double sum = 0;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) sum += a.x[at(s, n, c, i)];
    const double mean = sum / count;
    double sq = 0;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) {
        const double d = a.x[at(s, n, c, i)] - mean;
        sq += d * d;
      }
    const double var = sq / count;
    const double invstd = 1.0 / std::sqrt(var + a.eps);
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) {
        const int64_t k = at(s, n, c, i);
        double v = a.gamma[c] * (a.x[k] - mean) * invstd + a.beta[c];
        if (a.relu && v < 0) v = 0;
        a.y[k] = static_cast<float>(v);
      }
    if (a.save_mean) a.save_mean[c] = static_cast<float>(mean);
    if (a.save_invstd) a.save_invstd[c] = static_cast<float>(invstd);
    if (a.running_mean) a.running_mean[c] = static_cast<float>((1.0 - a.momentum) * a.running_mean[c] + a.momentum * mean);
    if (a.running_var)
      a.running_var[c] =
          static_cast<float>((1.0 - a.momentum) * a.running_var[c] + a.momentum * var * count / (count - 1));
  }
}

void batchnorm_forward_infer_reference(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                       const float* running_mean, const float* running_var, float eps, bool relu,
                                       float* y) {
  for (int c = 0; c < s.C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) {
        const int64_t k = at(s, n, c, i);
        double v = gamma[c] * (x[k] - static_cast<double>(running_mean[c])) * invstd + beta[c];
        if (relu && v < 0) v = 0;
        y[k] = static_cast<float>(v);
      }
  }
}

// With xhat = (x - mean) * invstd and g = dy (masked by y > 0 when relu):
//   dbeta += sum g,  dgamma += sum g * xhat,
//   dx = gamma * invstd / M * (M * g - sum g - xhat * sum g * xhat).
void batchnorm_backward_reference(const BatchNormShape& s, const BatchNormBackwardArgs& a) {
  check_train_shape(s, "batchnorm_backward_reference");
  const double count = static_cast<double>(s.N) * s.HW;
  auto grad = [&](int64_t k) -> double { return a.relu && !(a.y[k] > 0.0f) ? 0.0 : a.dy[k]; };
  for (int c = 0; c < s.C; ++c) {
    const double mean = a.save_mean[c], invstd = a.save_invstd[c];
    double sum_g = 0, sum_gx = 0;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) {
        const int64_t k = at(s, n, c, i);
        sum_g += grad(k);
        sum_gx += grad(k) * (a.x[k] - mean) * invstd;
      }
    a.dbeta[c] += static_cast<float>(sum_g);
    a.dgamma[c] += static_cast<float>(sum_gx);
    const double factor = a.gamma[c] * invstd / count;
    for (int n = 0; n < s.N; ++n)
      for (int i = 0; i < s.HW; ++i) {
        const int64_t k = at(s, n, c, i);
        const double xhat = (a.x[k] - mean) * invstd;
        a.dx[k] = static_cast<float>(factor * (count * grad(k) - sum_g - xhat * sum_gx));
      }
  }
}

}  // namespace convoy::kernels::cpu
