// CPU pooling: the fast versions against the references on many shapes, plus the
// semantics the header promises (padding never wins a max, averages exclude padding,
// max backward routes ties to the first maximal element, backward assigns dx).
#include <gtest/gtest.h>

#include <cmath>

#include <string>
#include <vector>

#include "engine/error.h"
#include "kernels/pool2d.h"
#include "tests/common/test_util.h"

namespace convoy::kernels {
namespace {

using test::poisoned;
using test::random_vector;
using test::rel_error;

Pool2dShape shape(int N, int C, int H, int W, int R, int S, int sh, int sw, int ph, int pw) {
  Pool2dShape s;
  s.N = N, s.C = C, s.H = H, s.W = W, s.R = R, s.S = S;
  s.stride_h = sh, s.stride_w = sw, s.pad_h = ph, s.pad_w = pw;
  return s;
}

std::string describe(PoolKind kind, const Pool2dShape& s) {
  return std::string(kind == PoolKind::max ? "max " : "avg ") + "N" + std::to_string(s.N) + " C" +
         std::to_string(s.C) + " " + std::to_string(s.H) + "x" + std::to_string(s.W) + " window " +
         std::to_string(s.R) + "x" + std::to_string(s.S) + " stride " + std::to_string(s.stride_h) + "x" +
         std::to_string(s.stride_w) + " pad " + std::to_string(s.pad_h) + "x" + std::to_string(s.pad_w);
}

size_t x_size(const Pool2dShape& s) { return static_cast<size_t>(s.N) * s.C * s.H * s.W; }
size_t y_size(const Pool2dShape& s) { return static_cast<size_t>(s.N) * s.C * s.P() * s.Q(); }

std::vector<Pool2dShape> shapes() {
  return {
      shape(2, 3, 8, 8, 2, 2, 2, 2, 0, 0),    // the classic 2x2/2
      shape(3, 5, 9, 11, 3, 3, 2, 2, 1, 1),   // 3/2 pad 1, odd sizes (the quick model's max pool)
      shape(1, 4, 7, 10, 3, 2, 3, 1, 2, 1),   // non-square window, stride 3, pad 2
      shape(2, 2, 13, 5, 5, 3, 1, 2, 2, 0),   // overlapping windows, stride 1
      shape(4, 3, 6, 6, 6, 6, 6, 6, 0, 0),    // global pooling
      shape(3, 7, 5, 5, 3, 3, 3, 3, 2, 2),    // pads as large as allowed
  };
}

TEST(Pool2dCpu, ForwardAndBackwardMatchReference) {
  uint64_t seed = 500;
  for (PoolKind kind : {PoolKind::max, PoolKind::avg})
    for (const Pool2dShape& s : shapes()) {
      SCOPED_TRACE(describe(kind, s));
      const auto x = random_vector(x_size(s), ++seed), dy = random_vector(y_size(s), ++seed);
      auto want_y = poisoned(y_size(s)), got_y = poisoned(y_size(s));
      cpu::pool2d_forward_reference(kind, s, x.data(), want_y.data());
      cpu::pool2d_forward(kind, s, x.data(), got_y.data());
      EXPECT_LE(rel_error(got_y, want_y), 1e-6);
      auto want_dx = poisoned(x_size(s)), got_dx = poisoned(x_size(s));
      cpu::pool2d_backward_reference(kind, s, x.data(), dy.data(), want_dx.data());
      cpu::pool2d_backward(kind, s, x.data(), dy.data(), got_dx.data());
      EXPECT_LE(rel_error(got_dx, want_dx), 1e-6);
    }
}

// Every function, reference and fast, on one small case worked out by hand.
struct Impl {
  const char* name;
  void (*forward)(PoolKind, const Pool2dShape&, const float*, float*);
  void (*backward)(PoolKind, const Pool2dShape&, const float*, const float*, float*);
};
const Impl kImpls[] = {{"reference", cpu::pool2d_forward_reference, cpu::pool2d_backward_reference},
                       {"fast", cpu::pool2d_forward, cpu::pool2d_backward}};

TEST(Pool2dCpu, MaxTiesGoToTheFirstElement) {
  // One 2x3 plane, 2x2 windows, stride 1: windows [0,1,3,4] and [1,2,4,5].
  const Pool2dShape s = shape(1, 1, 2, 3, 2, 2, 1, 1, 0, 0);
  const std::vector<float> x = {0.5f, 0.9f, 0.9f, 0.9f, 0.9f, 0.2f};
  const std::vector<float> dy = {1.5f, -2.5f};
  for (const Impl& impl : kImpls) {
    SCOPED_TRACE(impl.name);
    auto y = poisoned(2), dx = poisoned(6);
    impl.forward(PoolKind::max, s, x.data(), y.data());
    impl.backward(PoolKind::max, s, x.data(), dy.data(), dx.data());
    EXPECT_EQ(y, (std::vector<float>{0.9f, 0.9f}));
    EXPECT_EQ(dx, (std::vector<float>{0.0f, 1.5f - 2.5f, 0.0f, 0.0f, 0.0f, 0.0f}));
  }
}

// Planes full of ties (values from {0, 1, 2}), with the overlapping 3x3 / stride 2 windows of
// the quick model and a stride-1 case: every window routes to its first maximal element in
// row-major order, as the reference does, also where the maxima of a window sit in different
// rows and columns (the fast pass looks down the columns first).
TEST(Pool2dCpu, MaxTiesOnWholePlanesGoToTheFirstElement) {
  for (const Pool2dShape& s : {shape(2, 3, 16, 16, 3, 3, 2, 2, 1, 1), shape(1, 2, 9, 13, 3, 3, 1, 1, 1, 1)}) {
    const size_t in = static_cast<size_t>(s.N) * s.C * s.H * s.W, out = static_cast<size_t>(s.N) * s.C * s.P() * s.Q();
    std::vector<float> x = random_vector(in, 77, 0.0f, 3.0f), dy = random_vector(out, 78);
    for (float& v : x) v = std::floor(v);
    auto dx_ref = poisoned(in), dx = poisoned(in);
    cpu::pool2d_backward_reference(PoolKind::max, s, x.data(), dy.data(), dx_ref.data());
    cpu::pool2d_backward(PoolKind::max, s, x.data(), dy.data(), dx.data());
    EXPECT_EQ(dx, dx_ref) << "stride " << s.stride_h;
  }
}

TEST(Pool2dCpu, PaddingNeverWinsAndAveragesExcludeIt) {
  // All-negative 3x3 plane, 3x3 windows, stride 2, pad 1: outputs at corners see 2x2 blocks.
  const Pool2dShape s = shape(1, 1, 3, 3, 3, 3, 2, 2, 1, 1);
  const std::vector<float> x = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
  for (const Impl& impl : kImpls) {
    SCOPED_TRACE(impl.name);
    auto y = poisoned(4);
    impl.forward(PoolKind::max, s, x.data(), y.data());
    EXPECT_EQ(y, (std::vector<float>{-1, -2, -4, -5}));
    impl.forward(PoolKind::avg, s, x.data(), y.data());
    EXPECT_EQ(y, (std::vector<float>{-3, -4, -6, -7}));
    auto dx = poisoned(9);
    const std::vector<float> dy = {4, 8, 12, 16};
    impl.backward(PoolKind::avg, s, x.data(), dy.data(), dx.data());
    EXPECT_EQ(dx, (std::vector<float>{1, 1 + 2, 2, 1 + 3, 1 + 2 + 3 + 4, 2 + 4, 3, 3 + 4, 4}));
  }
}

TEST(Pool2dCpu, RejectsPadAsLargeAsTheWindow) {
  const Pool2dShape s = shape(1, 1, 4, 4, 2, 2, 2, 2, 2, 0);
  std::vector<float> x(16, 1.0f), y(16);
  EXPECT_THROW(cpu::pool2d_forward(PoolKind::max, s, x.data(), y.data()), Error);
  EXPECT_THROW(cpu::pool2d_forward_reference(PoolKind::avg, s, x.data(), y.data()), Error);
}

}  // namespace
}  // namespace convoy::kernels
