// CPU convolution: the fast im2col + sgemm versions against the plain-loop references on
// many shapes (odd sizes, strides 1-3, pads 0-2, square and non-square windows, 1x1), the
// accumulate contract of backward_weights, and the references themselves against central
// finite differences.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/error.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_variants.h"
#include "tests/common/test_util.h"

namespace convoy::kernels {
namespace {

using test::poisoned;
using test::random_vector;
using test::rel_error;

std::string describe(const Conv2dShape& s) {
  return "N" + std::to_string(s.N) + " C" + std::to_string(s.C) + " " + std::to_string(s.H) + "x" +
         std::to_string(s.W) + " K" + std::to_string(s.K) + " " + std::to_string(s.R) + "x" + std::to_string(s.S) +
         " stride " + std::to_string(s.stride_h) + "x" + std::to_string(s.stride_w) + " pad " +
         std::to_string(s.pad_h) + "x" + std::to_string(s.pad_w);
}

Conv2dShape shape(int N, int C, int H, int W, int K, int R, int S, int sh, int sw, int ph, int pw) {
  Conv2dShape s;
  s.N = N, s.C = C, s.H = H, s.W = W, s.K = K, s.R = R, s.S = S;
  s.stride_h = sh, s.stride_w = sw, s.pad_h = ph, s.pad_w = pw;
  return s;
}

size_t x_size(const Conv2dShape& s) { return static_cast<size_t>(s.N) * s.C * s.H * s.W; }
size_t w_size(const Conv2dShape& s) { return static_cast<size_t>(s.K) * s.C * s.R * s.S; }
size_t y_size(const Conv2dShape& s) { return static_cast<size_t>(s.N) * s.K * s.P() * s.Q(); }

std::vector<Conv2dShape> shapes() {
  return {
      shape(3, 3, 9, 7, 5, 3, 3, 1, 1, 1, 1),     // odd everything, same padding
      shape(2, 12, 11, 13, 6, 5, 5, 1, 1, 2, 2),  // 5x5 pad 2
      shape(4, 9, 10, 9, 7, 3, 3, 2, 2, 1, 1),    // stride 2, enough channels for the packed default
      shape(3, 2, 13, 11, 3, 3, 2, 3, 2, 0, 1),   // non-square window, mixed strides
      shape(2, 3, 8, 12, 4, 2, 5, 1, 3, 2, 0),    // wide window, stride 3 across
      shape(5, 17, 6, 5, 9, 1, 1, 1, 1, 0, 0),    // 1x1 pointwise (no im2col)
      shape(3, 6, 7, 7, 4, 1, 1, 2, 2, 0, 0),     // 1x1 strided (im2col path)
      shape(2, 3, 5, 6, 2, 1, 1, 1, 1, 1, 2),     // 1x1 padded
      shape(7, 3, 4, 4, 5, 3, 3, 1, 1, 1, 1),     // tiny maps: several images per GEMM
      shape(9, 5, 3, 5, 6, 3, 3, 1, 1, 2, 1),     // pad 2 > needed, odd batch
      shape(1, 3, 12, 10, 4, 3, 3, 1, 1, 1, 1),   // batch smaller than the thread count
      shape(3, 2, 7, 7, 3, 7, 7, 1, 1, 0, 0),     // window as large as the input
      shape(2, 29, 17, 17, 149, 3, 3, 1, 1, 1, 1),  // several kc, mc and pixel blocks
      // 5x5 at stride 1 (Winograd F(2x2, 5x5)): odd and even sizes, pads 0 to 4, one tile, several images
      // per tile group, groups split across threads, channel counts off the tile sizes
      shape(3, 16, 16, 16, 32, 5, 5, 1, 1, 2, 2),
      shape(5, 32, 8, 8, 64, 5, 5, 1, 1, 2, 2),
      shape(3, 7, 9, 11, 5, 5, 5, 1, 1, 0, 1),
      shape(2, 5, 6, 7, 3, 5, 5, 1, 1, 3, 4),
      shape(4, 3, 5, 5, 9, 5, 5, 1, 1, 0, 0),
      shape(2, 20, 13, 6, 17, 5, 5, 1, 1, 2, 1),
      // 3x3 at stride 1 (Winograd F(4x4, 3x3)): outputs that 4 does and does not divide
      shape(3, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1),
      shape(5, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1),
      shape(2, 20, 13, 7, 24, 3, 3, 1, 1, 0, 0),
      shape(4, 17, 5, 9, 21, 3, 3, 1, 1, 2, 1),
      shape(3, 32, 4, 4, 36, 3, 3, 1, 1, 1, 1),
  };
}

constexpr double kTol = 1e-4;

// Every implementation of each pass: the public entry point and each named variant.
using Forward = void (*)(const Conv2dShape&, const float*, const float*, const float*, float*);
using BackwardData = void (*)(const Conv2dShape&, const float*, const float*, float*);
using BackwardWeights = void (*)(const Conv2dShape&, const float*, const float*, float*, float*);
template <typename Fn>
struct Variant {
  const char* name;
  Fn fn;
};
const Variant<Forward> kForward[] = {{"default", cpu::conv2d_forward},
                                     {"im2col", cpu::conv2d_forward_im2col},
                                     {"packed", cpu::conv2d_forward_packed},
                                     {"winograd", cpu::conv2d_forward_winograd}};
const Variant<BackwardData> kBackwardData[] = {{"default", cpu::conv2d_backward_data},
                                               {"im2col", cpu::conv2d_backward_data_im2col},
                                               {"packed", cpu::conv2d_backward_data_packed},
                                               {"winograd", cpu::conv2d_backward_data_winograd}};
const Variant<BackwardWeights> kBackwardWeights[] = {{"default", cpu::conv2d_backward_weights},
                                                     {"im2col", cpu::conv2d_backward_weights_im2col},
                                                     {"packed", cpu::conv2d_backward_weights_packed},
                                                     {"winograd", cpu::conv2d_backward_weights_winograd}};

TEST(Conv2dCpu, ForwardMatchesReference) {
  uint64_t seed = 100;
  for (const Conv2dShape& s : shapes())
    for (bool with_bias : {false, true}) {
      SCOPED_TRACE(describe(s) + (with_bias ? " bias" : " no bias"));
      const auto x = random_vector(x_size(s), ++seed), w = random_vector(w_size(s), ++seed);
      const auto b = random_vector(s.K, ++seed);
      const float* bias = with_bias ? b.data() : nullptr;
      auto want = poisoned(y_size(s));
      cpu::conv2d_forward_reference(s, x.data(), w.data(), bias, want.data());
      for (const auto& v : kForward) {
        SCOPED_TRACE(v.name);
        auto got = poisoned(y_size(s));
        v.fn(s, x.data(), w.data(), bias, got.data());
        EXPECT_LE(rel_error(got, want), kTol);
      }
    }
}

TEST(Conv2dCpu, BackwardDataMatchesReference) {
  uint64_t seed = 200;
  for (const Conv2dShape& s : shapes()) {
    SCOPED_TRACE(describe(s));
    const auto dy = random_vector(y_size(s), ++seed), w = random_vector(w_size(s), ++seed);
    auto want = poisoned(x_size(s));
    cpu::conv2d_backward_data_reference(s, dy.data(), w.data(), want.data());
    for (const auto& v : kBackwardData) {
      SCOPED_TRACE(v.name);
      auto got = poisoned(x_size(s));
      v.fn(s, dy.data(), w.data(), got.data());
      EXPECT_LE(rel_error(got, want), kTol);
    }
  }
}

TEST(Conv2dCpu, BackwardWeightsAddsToExistingGradients) {
  uint64_t seed = 300;
  for (const Conv2dShape& s : shapes())
    for (bool with_dbias : {false, true}) {
      SCOPED_TRACE(describe(s) + (with_dbias ? " dbias" : " no dbias"));
      const auto x = random_vector(x_size(s), ++seed), dy = random_vector(y_size(s), ++seed);
      const auto dw0 = random_vector(w_size(s), ++seed, 5.0f, 6.0f);  // must be added to, not overwritten
      const auto db0 = random_vector(s.K, ++seed, 5.0f, 6.0f);
      auto want_dw = dw0, want_db = db0;
      cpu::conv2d_backward_weights_reference(s, x.data(), dy.data(), want_dw.data(),
                                             with_dbias ? want_db.data() : nullptr);
      for (const auto& v : kBackwardWeights) {
        SCOPED_TRACE(v.name);
        auto got_dw = dw0, got_db = db0;
        v.fn(s, x.data(), dy.data(), got_dw.data(), with_dbias ? got_db.data() : nullptr);
        // Compare the increments too, so the large prior values cannot hide an error.
        std::vector<float> want_inc(dw0.size()), got_inc(dw0.size());
        for (size_t i = 0; i < dw0.size(); ++i) want_inc[i] = want_dw[i] - dw0[i], got_inc[i] = got_dw[i] - dw0[i];
        EXPECT_LE(rel_error(got_inc, want_inc), 1e-3);  // increments lose digits to the +5 offset
        EXPECT_LE(rel_error(got_dw, want_dw), kTol);
        if (with_dbias)
          EXPECT_LE(rel_error(got_db, want_db), kTol);
        else
          EXPECT_EQ(got_db, db0);
      }
    }
}

// At stride 1 the packed backward data is the packed forward of dy with the filters flipped
// in space and transposed in channels (conv2d_packed.cpp): bit for bit, which shows that it
// runs that path (im2col + col2im gives the same values in other bits).
TEST(Conv2dCpu, PackedBackwardDataIsTheFlippedForwardAtStride1) {
  for (const Conv2dShape& s : {shape(2, 16, 9, 9, 8, 3, 3, 1, 1, 1, 1), shape(2, 32, 8, 8, 16, 5, 5, 1, 1, 2, 2)}) {
    const auto dy = random_vector(size_t(s.N) * s.K * s.P() * s.Q(), 51),
               w = random_vector(size_t(s.K) * s.C * s.R * s.S, 52);
    std::vector<float> flipped(w.size());
    for (int k = 0; k < s.K; ++k)
      for (int c = 0; c < s.C; ++c)
        for (int r = 0; r < s.R; ++r)
          for (int q = 0; q < s.S; ++q)
            flipped[((size_t(c) * s.K + k) * s.R + (s.R - 1 - r)) * s.S + (s.S - 1 - q)] =
                w[((size_t(k) * s.C + c) * s.R + r) * s.S + q];
    Conv2dShape t = shape(s.N, s.K, s.P(), s.Q(), s.C, s.R, s.S, 1, 1, s.R - 1 - s.pad_h, s.S - 1 - s.pad_w);
    std::vector<float> dx(size_t(s.N) * s.C * s.H * s.W), expect(dx.size()), im(dx.size());
    cpu::conv2d_backward_data_packed(s, dy.data(), w.data(), dx.data());
    cpu::conv2d_forward_packed(t, dy.data(), flipped.data(), nullptr, expect.data());
    EXPECT_EQ(0, std::memcmp(dx.data(), expect.data(), dx.size() * sizeof(float))) << "C " << s.C << " R " << s.R;
    cpu::conv2d_backward_data_im2col(s, dy.data(), w.data(), im.data());
    EXPECT_LT(rel_error(dx, im), 1e-5);
  }
}

TEST(Conv2dCpu, ReferenceAddsToExistingGradients) {
  const Conv2dShape s = shape(2, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1);
  const auto x = random_vector(x_size(s), 1), dy = random_vector(y_size(s), 2);
  std::vector<float> dw_zero(w_size(s), 0.0f), db_zero(s.K, 0.0f);
  auto dw = random_vector(w_size(s), 3), db = random_vector(s.K, 4);
  const auto dw0 = dw, db0 = db;
  cpu::conv2d_backward_weights_reference(s, x.data(), dy.data(), dw_zero.data(), db_zero.data());
  cpu::conv2d_backward_weights_reference(s, x.data(), dy.data(), dw.data(), db.data());
  for (size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], dw0[i] + dw_zero[i], 1e-5);
  for (size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(db[i], db0[i] + db_zero[i], 1e-5);
}

// Loss = sum(y * g). Its gradients are backward_data(g), backward_weights(x, g) and sum(g)
// per channel; the convolution is linear, so central differences are exact up to rounding.
TEST(Conv2dCpu, ReferenceGradientsMatchFiniteDifferences) {
  const Conv2dShape s = shape(2, 2, 5, 4, 3, 3, 2, 2, 1, 1, 1);
  auto x = random_vector(x_size(s), 11), w = random_vector(w_size(s), 12), b = random_vector(s.K, 13);
  const auto g = random_vector(y_size(s), 14);
  auto loss = [&]() {
    std::vector<float> y(y_size(s));
    cpu::conv2d_forward_reference(s, x.data(), w.data(), b.data(), y.data());
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) l += static_cast<double>(y[i]) * g[i];
    return l;
  };
  auto numeric = [&](std::vector<float>& v) {
    std::vector<float> grad(v.size());
    const float eps = 1e-2f;
    for (size_t i = 0; i < v.size(); ++i) {
      const float keep = v[i];
      v[i] = keep + eps;
      const double up = loss();
      v[i] = keep - eps;
      const double down = loss();
      v[i] = keep;
      grad[i] = static_cast<float>((up - down) / (2.0 * eps));
    }
    return grad;
  };
  auto dx = poisoned(x_size(s));
  cpu::conv2d_backward_data_reference(s, g.data(), w.data(), dx.data());
  std::vector<float> dw(w_size(s), 0.0f), db(s.K, 0.0f);
  cpu::conv2d_backward_weights_reference(s, x.data(), g.data(), dw.data(), db.data());
  EXPECT_LE(rel_error(dx, numeric(x)), 1e-4);
  EXPECT_LE(rel_error(dw, numeric(w)), 1e-4);
  EXPECT_LE(rel_error(db, numeric(b)), 1e-4);
}

// The image split depends on the thread count only: the same count gives the same bits,
// and any count agrees with the reference (checked above with the default count).
TEST(Conv2dCpu, DeterministicForAThreadCountAndCloseAcrossCounts) {
  const Conv2dShape s = shape(12, 6, 9, 9, 8, 3, 3, 1, 1, 1, 1);
  const auto x = random_vector(x_size(s), 21), dy = random_vector(y_size(s), 22);
  const int saved = omp_get_max_threads();
  for (const auto& v : kBackwardWeights) {
    SCOPED_TRACE(v.name);
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3, 2}) {
      omp_set_num_threads(threads);
      std::vector<float> dw(w_size(s), 0.5f), db(s.K, 0.5f);
      v.fn(s, x.data(), dy.data(), dw.data(), db.data());
      dw.insert(dw.end(), db.begin(), db.end());
      results.push_back(dw);
    }
    EXPECT_EQ(results[1], results[3]);
    EXPECT_LE(rel_error(results[0], results[1]), 1e-5);
    EXPECT_LE(rel_error(results[2], results[1]), 1e-5);
  }
  omp_set_num_threads(saved);
}

// Called from inside a parallel region (as a layer running per-sample work might), each
// thread computes its own convolution serially and gets the right answer.
TEST(Conv2dCpu, WorksInsideAParallelRegion) {
  const Conv2dShape s = shape(3, 10, 7, 6, 5, 3, 3, 1, 1, 1, 1);
  const auto x = random_vector(x_size(s), 31), w = random_vector(w_size(s), 32);
  auto want = poisoned(y_size(s));
  cpu::conv2d_forward_reference(s, x.data(), w.data(), nullptr, want.data());
  std::vector<std::vector<float>> got(2, poisoned(y_size(s)));
#pragma omp parallel for num_threads(2) schedule(static)
  for (int i = 0; i < 2; ++i) cpu::conv2d_forward(s, x.data(), w.data(), nullptr, got[i].data());
  EXPECT_LE(rel_error(got[0], want), kTol);
  EXPECT_LE(rel_error(got[1], want), kTol);
}

TEST(Conv2dCpu, RejectsWindowLargerThanPaddedInput) {
  const Conv2dShape s = shape(1, 1, 3, 3, 1, 5, 5, 1, 1, 0, 0);
  std::vector<float> x(9, 1.0f), w(25, 1.0f), y(1);
  EXPECT_THROW(cpu::conv2d_forward(s, x.data(), w.data(), nullptr, y.data()), Error);
  EXPECT_THROW(cpu::conv2d_forward_reference(s, x.data(), w.data(), nullptr, y.data()), Error);
}

}  // namespace
}  // namespace convoy::kernels
