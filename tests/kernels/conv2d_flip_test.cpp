// kernels/conv2d_flip.h: the filter flip against its definition, element by element, and the
// identity it serves, the flipped forward against the reference backward data, on stride-1
// shapes with every pad from 0 to R-1 and non-square windows.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/conv2d_flip.h"
#include "tests/common/test_util.h"

namespace convoy {
namespace {

using kernels::Conv2dShape;

TEST(Conv2dFlip, FlippedFiltersAreMirroredInSpaceAndTransposedInChannels) {
  const Conv2dShape s{1, 3, 8, 8, 5, 3, 2, 1, 1, 1, 0};
  const auto w = test::random_vector(static_cast<size_t>(s.K) * s.C * s.R * s.S, 1);
  std::vector<float> flipped(w.size(), -1.0f);
  kernels::cpu::conv2d_flip_filters(s, w.data(), flipped.data());
  for (int c = 0; c < s.C; ++c)
    for (int k = 0; k < s.K; ++k)
      for (int r = 0; r < s.R; ++r)
        for (int q = 0; q < s.S; ++q)
          ASSERT_EQ(flipped[((c * s.K + k) * s.R + r) * s.S + q],
                    w[((k * s.C + c) * s.R + (s.R - 1 - r)) * s.S + (s.S - 1 - q)])
              << "c " << c << " k " << k << " r " << r << " s " << q;
}

TEST(Conv2dFlip, FlippedForwardIsTheBackwardDataAtStride1) {
  // N, C, H, W, K, R, S, stride_h, stride_w, pad_h, pad_w
  const std::vector<Conv2dShape> shapes = {
      {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1}, {1, 4, 6, 5, 6, 3, 3, 1, 1, 0, 2},  {3, 2, 11, 10, 4, 5, 5, 1, 1, 4, 3},
      {2, 5, 9, 7, 3, 5, 3, 1, 1, 2, 0}, {1, 7, 4, 4, 9, 1, 1, 1, 1, 0, 0},  {2, 3, 5, 8, 2, 2, 4, 1, 1, 1, 3},
  };
  uint64_t seed = 10;
  for (const auto& s : shapes) {
    ASSERT_TRUE(kernels::backward_data_is_flipped_forward(s));
    const size_t nx = static_cast<size_t>(s.N) * s.C * s.H * s.W, nw = static_cast<size_t>(s.K) * s.C * s.R * s.S,
                 ny = static_cast<size_t>(s.N) * s.K * s.P() * s.Q();
    const auto dy = test::random_vector(ny, ++seed), w = test::random_vector(nw, ++seed);
    std::vector<float> want(nx), flipped(nw), got(nx, -1.0f);
    kernels::cpu::conv2d_backward_data_reference(s, dy.data(), w.data(), want.data());
    const Conv2dShape t = kernels::flipped_forward_shape(s);
    ASSERT_EQ(t.P(), s.H);
    ASSERT_EQ(t.Q(), s.W);
    kernels::cpu::conv2d_flip_filters(s, w.data(), flipped.data());
    kernels::cpu::conv2d_forward_reference(t, dy.data(), flipped.data(), nullptr, got.data());
    EXPECT_LE(test::rel_error(got, want), 1e-6) << "R " << s.R << " S " << s.S << " pad " << s.pad_h << "x"
                                                 << s.pad_w;
  }
}

TEST(Conv2dFlip, OnlyStride1WithPadBelowTheWindowIsAForward) {
  EXPECT_TRUE(kernels::backward_data_is_flipped_forward({1, 1, 8, 8, 1, 3, 3, 1, 1, 2, 2}));
  EXPECT_FALSE(kernels::backward_data_is_flipped_forward({1, 1, 8, 8, 1, 3, 3, 2, 1, 1, 1}));
  EXPECT_FALSE(kernels::backward_data_is_flipped_forward({1, 1, 8, 8, 1, 3, 3, 1, 2, 1, 1}));
  EXPECT_FALSE(kernels::backward_data_is_flipped_forward({1, 1, 8, 8, 1, 3, 3, 1, 1, 3, 1}));
  EXPECT_FALSE(kernels::backward_data_is_flipped_forward({1, 1, 8, 8, 1, 3, 5, 1, 1, 1, 5}));
}

}  // namespace
}  // namespace convoy
