// CUDA pooling vs the CPU reference on odd shapes, overlapping and padded windows, and
// inputs with ties (max backward must pick the FIRST maximal element); determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/pool2d.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

// Values from {0.25, 0.5, ..., 2}: many ties in every window, never zero.
std::vector<float> tied_vector(size_t n, uint64_t seed) {
  auto v = random_vector(n, seed, 0.0f, 1.0f);
  for (auto& x : v) x = 0.25f * (1.0f + std::floor(x * 8.0f));
  return v;
}

void check_against_reference(k::PoolKind kind, const k::Pool2dShape& s, const std::vector<float>& x) {
  const int64_t in = int64_t{s.N} * s.C * s.H * s.W, out = int64_t{s.N} * s.C * s.P() * s.Q();
  const auto dy = random_vector(out, 31);
  std::vector<float> y(out), dx(in);
  k::cpu::pool2d_forward_reference(kind, s, x.data(), y.data());
  k::cpu::pool2d_backward_reference(kind, s, x.data(), dy.data(), dx.data());

  DeviceVec<float> dev_x(x), dev_y(poisoned(out)), dev_dy(dy), dev_dx(poisoned(in));
  k::cuda::pool2d_forward(cuda_exec(), kind, s, dev_x.get(), dev_y.get());
  k::cuda::pool2d_backward(cuda_exec(), kind, s, dev_x.get(), dev_dy.get(), dev_dx.get());
  const auto got_y = dev_y.host(), got_dx = dev_dx.host();
  const char* name = kind == k::PoolKind::max ? "max" : "avg";
  EXPECT_LE(rel_error(got_y, y), 1e-6) << name << " forward " << s.H << "x" << s.W << " R=" << s.R;
  EXPECT_LE(rel_error(got_dx, dx), 1e-6) << name << " backward " << s.H << "x" << s.W << " R=" << s.R;

  // Same input, same bits (dx fully rewritten: poison it first).
  dev_dx.upload(poisoned(in));
  k::cuda::pool2d_backward(cuda_exec(), kind, s, dev_x.get(), dev_dy.get(), dev_dx.get());
  EXPECT_TRUE(bit_identical(dev_dx.host(), got_dx)) << name;
}

TEST(CudaPool2d, MatchesReferenceOnOddShapes) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const k::Pool2dShape shapes[] = {
      pool_shape(3, 5, 9, 11, 2, 2, 0),   // the usual 2x2/2, odd sizes truncate
      pool_shape(2, 3, 15, 17, 3, 2, 1),  // ResNet-style 3x3/2 pad 1
      pool_shape(2, 4, 7, 13, 3, 1, 1),   // overlapping windows
      pool_shape(1, 2, 5, 5, 5, 1, 2),    // window as large as the input
  };
  for (const auto& s : shapes) {
    const auto x = random_vector(int64_t{s.N} * s.C * s.H * s.W, 32, -2.0f, 2.0f);
    check_against_reference(k::PoolKind::max, s, x);
    check_against_reference(k::PoolKind::avg, s, x);
  }
}

TEST(CudaPool2d, MaxBackwardRoutesToFirstMaximumOnTies) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (const auto& s : {pool_shape(2, 3, 11, 9, 3, 1, 1), pool_shape(2, 3, 10, 10, 2, 2, 0)}) {
    const auto x = tied_vector(int64_t{s.N} * s.C * s.H * s.W, 33);
    check_against_reference(k::PoolKind::max, s, x);
  }
}

TEST(CudaPool2d, RejectsPaddingOnlyWindows) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  auto s = pool_shape(1, 1, 4, 4, 2, 2, 2);
  EXPECT_THROW(k::cuda::pool2d_forward(cuda_exec(), k::PoolKind::max, s, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace convoy::test
