// The per-channel statistics of the fast CPU batch-norm, shared by batchnorm.cpp and the
// fused batch-norm + ReLU + max-pool (bn_relu_maxpool.cpp), so both normalise alike.
// Sums run in float over chunks of kChunk contiguous values and then in double, so the order
// of additions is fixed at compile time; the one-pass variance is taken about a shift k (the
// channel's first value), which keeps it accurate when the mean is far from zero.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/error.h"
#include "kernels/batchnorm.h"

namespace convoy::kernels::cpu::bn {

inline constexpr int kChunk = 2048;               // floats summed in float before going to double
inline constexpr int64_t kParallelMin = 1 << 15;  // total elements below which one thread is faster

inline void check_train_shape(const BatchNormShape& s, const char* where) {
  if (s.N <= 0 || s.C <= 0 || s.HW <= 0)
    fail(where, ": shape N=", s.N, " C=", s.C, " HW=", s.HW, " must be positive");
  if (static_cast<int64_t>(s.N) * s.HW < 2)
    fail(where, ": training needs more than one value per channel (N*HW = ", int64_t{s.N} * s.HW,
         "), as in PyTorch");
}

// s1 += sum (x - k), s2 += sum (x - k)^2 over x[0, len).
inline void shifted_sums(const float* __restrict x, int len, float k, double& s1, double& s2) {
  for (int i0 = 0; i0 < len; i0 += kChunk) {
    const int i1 = i0 + kChunk < len ? i0 + kChunk : len;
    float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
    for (int i = i0; i < i1; ++i) {
      const float d = x[i] - k;
      a += d;
      b += d * d;
    }
    s1 += a;
    s2 += b;
  }
}

// Channel c's batch statistics over its N segments of HW values (x: (N, C, HW)); records
// save_mean/save_invstd and updates the running averages as the arguments ask. Returns the
// affine map of the normalisation, y = scale * x + shift.
struct Affine {
  float scale, shift;
};

inline Affine train_channel(const BatchNormShape& s, const BatchNormTrainArgs& a, int c) {
  const int64_t plane = static_cast<int64_t>(s.C) * s.HW;
  const double count = static_cast<double>(s.N) * s.HW;
  const float* xc = a.x + static_cast<int64_t>(c) * s.HW;
  const float k = xc[0];
  double s1 = 0, s2 = 0;
  for (int n = 0; n < s.N; ++n) shifted_sums(xc + n * plane, s.HW, k, s1, s2);
  const double dmean = s1 / count;
  double var = s2 / count - dmean * dmean;
  if (var < 0) var = 0;
  const double mean = k + dmean;
  const double invstd = 1.0 / std::sqrt(var + a.eps);
  const double scale = a.gamma[c] * invstd;
  if (a.save_mean) a.save_mean[c] = static_cast<float>(mean);
  if (a.save_invstd) a.save_invstd[c] = static_cast<float>(invstd);
  if (a.running_mean) a.running_mean[c] = static_cast<float>((1.0 - a.momentum) * a.running_mean[c] + a.momentum * mean);
  if (a.running_var)
    a.running_var[c] =
        static_cast<float>((1.0 - a.momentum) * a.running_var[c] + a.momentum * var * count / (count - 1));
  return {static_cast<float>(scale), static_cast<float>(a.beta[c] - mean * scale)};
}

// Backward of channel c from its sums sg = sum g and sgx = sum g * (x - mean) over count
// values: adds the parameter gradients and returns dx = f1 * g + f2 * (x - mean) + f3, with
// f1 = gamma * invstd, f2 = -f1 * invstd^2 * sgx / count, f3 = -f1 * sg / count (the reference's
// formula, regrouped so that the dx pass is one FMA chain).
struct BackwardCoefficients {
  float f1, f2, f3;
};

inline BackwardCoefficients backward_channel(float gamma, double invstd, double sg, double sgx, double count,
                                             float& dgamma, float& dbeta) {
  dbeta += static_cast<float>(sg);
  dgamma += static_cast<float>(sgx * invstd);
  const double k1 = gamma * invstd;
  return {static_cast<float>(k1), static_cast<float>(-k1 * invstd * invstd * sgx / count),
          static_cast<float>(-k1 * sg / count)};
}

// y = max?(a * x + b) over one contiguous segment.
inline void affine(const float* __restrict x, float* __restrict y, int len, float a, float b, bool relu) {
  if (relu) {
#pragma omp simd
    for (int i = 0; i < len; ++i) {
      const float v = a * x[i] + b;
      y[i] = v > 0.0f ? v : 0.0f;
    }
  } else {
#pragma omp simd
    for (int i = 0; i < len; ++i) y[i] = a * x[i] + b;
  }
}

}  // namespace convoy::kernels::cpu::bn
