// Central-difference gradient checker for layers (after Caffe's GradientChecker).
// The loss is L = sum(y * r) for a fixed random r, accumulated in double; each checked
// input or parameter element e is perturbed by +-eps and (L+ - L-) / 2eps is compared
// with the analytic gradient from backward(dy = r). The layers compute in float32, so the
// tolerance is relative to max(|analytic|, |numeric|, 1).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "layers/layer.h"
#include "tests/common/test_util.h"

namespace convoy::test {

struct GradCheckOptions {
  float eps = 1e-2f;
  double tolerance = 2e-2;
  int max_checks_per_tensor = 40;
  bool training = true;
};

inline double loss_of(Layer& layer, Context& ctx, const Tensor& x, const std::vector<float>& r) {
  Tensor y;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  std::vector<float> yv = y.to_vector();
  double l = 0;
  for (size_t i = 0; i < yv.size(); ++i) l += static_cast<double>(yv[i]) * r[i];
  return l;
}

inline void check_layer_gradients(Layer& layer, const Shape& in_shape, uint64_t seed,
                                  const GradCheckOptions& opt = {}, bool check_input = true,
                                  const std::vector<float>* input_values = nullptr) {
  Context ctx = Context::make(Device::cpu());
  ctx.training = opt.training;
  for (Param* p : layer.params()) {
    if (!p->grad.defined()) p->grad = Tensor::zeros(p->value.shape());
    if (p->init == Init::uniform_fan_in) {
      auto v = random_vector(p->value.numel(), seed + 7, -0.5f, 0.5f);
      std::copy(v.begin(), v.end(), p->value.data());
    }
    p->grad.zero();
  }
  Tensor x = Tensor::from_vector(in_shape, input_values ? *input_values : random_vector(in_shape.numel(), seed, -1.f, 1.f));
  Shape out_shape = layer.output_shape(in_shape);
  std::vector<float> r = random_vector(out_shape.numel(), seed + 1, -1.f, 1.f);

  Tensor y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  ASSERT_EQ(y.shape(), out_shape);
  Tensor dy = Tensor::from_vector(out_shape, r);
  layer.backward(ctx, dy, saved, check_input ? &dx : nullptr);

  auto check_tensor = [&](Tensor& t, const std::vector<float>& analytic, const std::string& what) {
    const int64_t n = t.numel();
    const int64_t stride = std::max<int64_t>(1, n / opt.max_checks_per_tensor);
    for (int64_t i = 0; i < n; i += stride) {
      float keep = t.data()[i];
      t.data()[i] = keep + opt.eps;
      double lp = loss_of(layer, ctx, x, r);
      t.data()[i] = keep - opt.eps;
      double lm = loss_of(layer, ctx, x, r);
      t.data()[i] = keep;
      double numeric = (lp - lm) / (2.0 * opt.eps);
      double a = analytic[i];
      double scale = std::max({std::fabs(a), std::fabs(numeric), 1.0});
      EXPECT_NEAR(a, numeric, opt.tolerance * scale) << what << " element " << i;
    }
  };
  for (Param* p : layer.params()) check_tensor(p->value, p->grad.to_vector(), "parameter " + p->name);
  if (check_input) check_tensor(x, dx.to_vector(), "input");
}

}  // namespace convoy::test
