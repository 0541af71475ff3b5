// Gradient checker for layers (after Caffe's GradientChecker), held to a double-precision
// reference. The loss is L = sum(y * r) for a fixed random r. The layer's float32 backward
// (through the public entry points, so the default CPU dispatch picks the kernel) gives the
// analytic gradient with dy = r; the reference is the central difference
// (L(v + h) - L(v - h)) / 2h of the layer's double-precision twin (tests/layers/layer_twin.h)
// with h = 1e-5, whose own error (h^2 f''' / 6 and 1e-16 |L| / h) is below 1e-9.
//
// Tolerance: |analytic - reference| <= 1e-3 * max(|reference|, 1e-2 * max|reference| of the
// tensor). Why 1e-3: the analytic value is a float32 sum of at most a few thousand products
// here, whose rounding error stays below ~1e-5 of the tensor's largest gradient (the worst
// ratio measured over this suite is printed by each check and is below 1e-4), while a gradient
// that is off by 1% misses by 1e-2 on every element that is not near zero: 1e-3 sits 10x below
// that and at least 10x above float32 rounding. The floor keeps elements that are nearly zero
// from being judged on a relative scale that float32 cannot meet.
//
// Which elements: every element of a tensor with at most check_all_up_to elements; for larger
// ones a seeded sample that always holds the border rows and columns (first and last of the
// last two dimensions) of a random slice, every index of every dimension at least once (so no
// row, column, channel or image is skipped), and random elements up to `samples`.
//
// Parameters are drawn anew (weights U(-0.5, 0.5), batch-norm scales around 1 and shifts
// around 0, never exactly 1 and 0), so that a gradient that ignores a parameter shows.
#pragma once
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "layers/layer.h"
#include "tests/common/test_util.h"
#include "tests/layers/layer_twin.h"

namespace convoy::test {

struct GradCheckOptions {
  double rtol = 1e-3;
  double floor = 1e-2;             // fraction of the tensor's largest reference gradient
  double step = 1e-5;              // central-difference step, in double
  int64_t check_all_up_to = 1024;  // tensors up to this size: every element
  int samples = 192;               // larger tensors: at least this many sampled elements
  int threads = 2;                 // OpenMP threads while the layer runs (the CPU dispatch depends on it)
  bool check_input = true;
};

// Pins the OpenMP thread count for a scope (the default CPU dispatch depends on it).
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int n) : before_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ScopedOmpThreads() { omp_set_num_threads(before_); }

 private:
  int before_;
};

// The positions to check in a tensor of `shape` (see the header comment).
inline std::vector<int64_t> positions_to_check(const Shape& shape, const GradCheckOptions& opt, uint64_t seed) {
  const int64_t n = shape.numel();
  std::vector<int64_t> all;
  if (n <= opt.check_all_up_to) {
    for (int64_t i = 0; i < n; ++i) all.push_back(i);
    return all;
  }
  Rng rng(seed, 0x5A3D1E);
  uint64_t draw = 0;
  auto below = [&](int64_t m) { return std::min<int64_t>(m - 1, static_cast<int64_t>(rng.uniform_at(draw++) * m)); };
  std::set<int64_t> picked;
  const std::vector<int64_t>& dims = shape.dims();
  const int rank = shape.rank();
  auto index_of = [&](const std::vector<int64_t>& at) {
    int64_t i = 0;
    for (int d = 0; d < rank; ++d) i = i * dims[d] + at[d];
    return i;
  };
  auto random_position = [&] {
    std::vector<int64_t> at(rank);
    for (int d = 0; d < rank; ++d) at[d] = below(dims[d]);
    return at;
  };
  // The border rows and columns (first and last of the last two dimensions) of one slice.
  const std::vector<int64_t> slice = random_position();
  const int64_t rows = rank >= 2 ? dims[rank - 2] : 1, cols = dims[rank - 1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (r == 0 || r == rows - 1 || c == 0 || c == cols - 1) {
        std::vector<int64_t> at = slice;
        if (rank >= 2) at[rank - 2] = r;
        at[rank - 1] = c;
        picked.insert(index_of(at));
      }
  // Every index of every dimension at least once.
  for (int d = 0; d < rank; ++d)
    for (int64_t i = 0; i < dims[d]; ++i) {
      std::vector<int64_t> at = random_position();
      at[d] = i;
      picked.insert(index_of(at));
    }
  while (static_cast<int64_t>(picked.size()) < std::min<int64_t>(n, opt.samples)) picked.insert(below(n));
  return {picked.begin(), picked.end()};
}

// Fresh parameter values that make every parameter matter (see the header comment).
inline void draw_params(Layer& layer, uint64_t seed) {
  int index = 0;
  for (Param* p : layer.params()) {
    if (!p->grad.defined()) p->grad = Tensor::zeros(p->value.shape());
    p->grad.zero();
    const uint64_t s = seed + 7 + 101 * index++;
    std::vector<float> v;
    if (p->init == Init::ones) {
      v = random_vector(p->value.numel(), s, 0.5f, 1.5f);
    } else {
      v = random_vector(p->value.numel(), s, -0.5f, 0.5f);
    }
    std::copy(v.begin(), v.end(), p->value.data());
  }
}

inline Doubles to_doubles(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  return {v.begin(), v.end()};
}

// Returns the worst |analytic - reference| / max(|reference|, floor) over the checked elements.
inline double check_layer_gradients(Layer& layer, const Shape& in_shape, uint64_t seed,
                                    const GradCheckOptions& opt = {},
                                    const std::vector<float>* input_values = nullptr) {
  ScopedOmpThreads threads(opt.threads);
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  draw_params(layer, seed);
  std::vector<float> xv = input_values ? *input_values : random_vector(in_shape.numel(), seed, -1.f, 1.f);
  Tensor x = Tensor::from_vector(in_shape, xv);
  const Shape out_shape = layer.output_shape(in_shape);
  const std::vector<float> r = random_vector(out_shape.numel(), seed + 1, -1.f, 1.f);

  Tensor y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  EXPECT_EQ(y.shape(), out_shape);
  layer.backward(ctx, Tensor::from_vector(out_shape, r), saved, opt.check_input ? &dx : nullptr);

  // The reference: the twin in double at the same point.
  std::vector<Doubles> params;
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  std::vector<std::vector<float>> analytic;
  for (Param* p : layer.params()) {
    params.push_back(to_doubles(p->value));
    names.push_back("parameter " + p->name);
    shapes.push_back(p->value.shape());
    analytic.push_back(p->grad.to_vector());
  }
  Doubles xd(xv.begin(), xv.end());
  const Doubles y_twin = twin_forward(layer, in_shape, xd, params);
  {
    std::vector<float> yf = y.to_vector(), yt(y_twin.begin(), y_twin.end());
    EXPECT_LT(rel_error(yf, yt), 1e-5) << "the float32 forward differs from the double-precision twin";
  }
  auto loss = [&]() {
    const Doubles out = twin_forward(layer, in_shape, xd, params);
    double l = 0;
    for (size_t i = 0; i < out.size(); ++i) l += out[i] * r[i];
    return l;
  };

  double worst = 0;
  auto check_tensor = [&](Doubles& values, const Shape& shape, const std::vector<float>& a, const std::string& what,
                          uint64_t tseed) {
    const std::vector<int64_t> where = positions_to_check(shape, opt, tseed);
    std::vector<double> ref(where.size());
    for (size_t j = 0; j < where.size(); ++j) {
      double& v = values[where[j]];
      const double keep = v;
      v = keep + opt.step;
      const double lp = loss();
      v = keep - opt.step;
      const double lm = loss();
      v = keep;
      ref[j] = (lp - lm) / (2 * opt.step);
    }
    double largest = 0;
    for (double g : ref) largest = std::max(largest, std::fabs(g));
    int failures = 0;
    for (size_t j = 0; j < where.size(); ++j) {
      const double scale = std::max(std::fabs(ref[j]), opt.floor * largest);
      const double ratio = scale > 0 ? std::fabs(a[where[j]] - ref[j]) / scale : std::fabs(a[where[j]]);
      worst = std::max(worst, ratio);
      if (ratio > opt.rtol && ++failures <= 5)
        ADD_FAILURE() << what << " element " << where[j] << " of " << shape.to_string() << ": analytic "
                      << a[where[j]] << ", reference " << ref[j] << " (error " << ratio << " of "
                      << scale << ", allowed " << opt.rtol << ")";
    }
    EXPECT_EQ(failures, 0) << what << ": " << failures << " of " << where.size() << " checked elements are off";
  };
  for (size_t i = 0; i < params.size(); ++i) check_tensor(params[i], shapes[i], analytic[i], names[i], seed + 31 * i);
  if (opt.check_input) check_tensor(xd, in_shape, dx.to_vector(), "input", seed + 997);
  std::printf("[ gradient ] %s: worst error %.2e of the allowed %.0e\n", std::string(layer.type()).c_str(), worst,
              opt.rtol);
  return worst;
}

}  // namespace convoy::test
