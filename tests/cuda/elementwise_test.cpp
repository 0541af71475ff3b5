// CUDA element-wise helpers vs the CPU: assign vs accumulate contracts, in-place use,
// deterministic reductions (bit-identical reruns), odd sizes.
#include <gtest/gtest.h>

#include "kernels/elementwise.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

TEST(CudaElementwise, FillAndCopy) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const int64_t n = 10007;
  DeviceVec<float> y(poisoned(n)), z(poisoned(n));
  k::cuda::fill(cuda_exec(), n, 0.375f, y.get());
  const auto filled = y.host();
  for (float v : filled) ASSERT_EQ(v, 0.375f);
  const auto x = random_vector(n, 11);
  DeviceVec<float> dx(x);
  k::cuda::copy(cuda_exec(), n, dx.get(), z.get());
  EXPECT_TRUE(bit_identical(z.host(), x));
}

TEST(CudaElementwise, AddAxpyScaleMatchCpu) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const int64_t n = 100003;
  const auto a = random_vector(n, 1), b = random_vector(n, 2), y0 = random_vector(n, 3);
  DeviceVec<float> da(a), db(b), dy(poisoned(n));

  std::vector<float> want(n);
  k::cpu::add(n, a.data(), b.data(), want.data());
  k::cuda::add(cuda_exec(), n, da.get(), db.get(), dy.get());
  EXPECT_LE(rel_error(dy.host(), want), 1e-7);

  // In place: y = y + b.
  dy.upload(a);
  k::cuda::add(cuda_exec(), n, dy.get(), db.get(), dy.get());
  EXPECT_LE(rel_error(dy.host(), want), 1e-7);

  // axpy accumulates into y.
  want = y0;
  k::cpu::axpy(n, -0.7f, a.data(), want.data());
  dy.upload(y0);
  k::cuda::axpy(cuda_exec(), n, -0.7f, da.get(), dy.get());
  EXPECT_LE(rel_error(dy.host(), want), 1e-6);

  k::cpu::scale(n, 1.3f, a.data(), want.data());
  dy.upload(poisoned(n));
  k::cuda::scale(cuda_exec(), n, 1.3f, da.get(), dy.get());
  EXPECT_LE(rel_error(dy.host(), want), 1e-7);
}

TEST(CudaElementwise, AddBiasAccumulates) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const int rows = 37, cols = 53;
  const auto bias = random_vector(cols, 4), y0 = random_vector(int64_t{rows} * cols, 5);
  auto want = y0;
  k::cpu::add_bias(rows, cols, bias.data(), want.data());
  DeviceVec<float> db(bias), dy(y0);
  k::cuda::add_bias(cuda_exec(), rows, cols, db.get(), dy.get());
  EXPECT_LE(rel_error(dy.host(), want), 1e-7);
}

TEST(CudaElementwise, SumRowsAccumulateMatchesCpuAndIsDeterministic) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (auto [rows, cols] : {std::pair{513, 77}, std::pair{3, 1}, std::pair{1001, 10}}) {
    const auto x = random_vector(int64_t{rows} * cols, 6), out0 = random_vector(cols, 7);
    auto want = out0;
    k::cpu::sum_rows_accumulate(rows, cols, x.data(), want.data());
    DeviceVec<float> dx(x), dout(out0);
    k::cuda::sum_rows_accumulate(cuda_exec(), rows, cols, dx.get(), dout.get());
    const auto first = dout.host();
    EXPECT_LE(rel_error(first, want), 1e-5) << rows << "x" << cols;
    dout.upload(out0);
    k::cuda::sum_rows_accumulate(cuda_exec(), rows, cols, dx.get(), dout.get());
    EXPECT_TRUE(bit_identical(dout.host(), first)) << rows << "x" << cols;
  }
}

TEST(CudaElementwise, SumMatchesCpuAndIsDeterministic) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{4099}, int64_t{3000017}}) {
    const auto x = random_vector(n, 8, -1.0f, 3.0f);
    DeviceVec<float> dx(x);
    const double want = k::cpu::sum(n, x.data());
    const double got = k::cuda::sum(cuda_exec(), n, dx.get());
    EXPECT_NEAR(got, want, 1e-9 * (1.0 + std::abs(want))) << "n=" << n;
    const double again = k::cuda::sum(cuda_exec(), n, dx.get());
    EXPECT_EQ(std::memcmp(&got, &again, sizeof(double)), 0) << "n=" << n;
  }
  EXPECT_EQ(k::cuda::sum(cuda_exec(), 0, nullptr), 0.0);
}

}  // namespace
}  // namespace convoy::test
