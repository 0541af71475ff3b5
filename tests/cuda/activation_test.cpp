// CUDA activations vs the CPU (same float formulas; erff/expf differ by an ulp or two).
#include <gtest/gtest.h>

#include "kernels/activation.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

TEST(CudaActivation, ReluForwardBackwardMatchCpu) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const int64_t n = 100003;
  const auto x = random_vector(n, 21), dy = random_vector(n, 22);
  std::vector<float> y(n), dx(n);
  k::cpu::relu_forward(n, x.data(), y.data());
  k::cpu::relu_backward(n, y.data(), dy.data(), dx.data());
  DeviceVec<float> dev_x(x), dev_y(poisoned(n)), dev_dy(dy), dev_dx(poisoned(n));
  k::cuda::relu_forward(cuda_exec(), n, dev_x.get(), dev_y.get());
  EXPECT_TRUE(bit_identical(dev_y.host(), y));
  k::cuda::relu_backward(cuda_exec(), n, dev_y.get(), dev_dy.get(), dev_dx.get());
  EXPECT_TRUE(bit_identical(dev_dx.host(), dx));
  // In place (dx aliases dy).
  k::cuda::relu_backward(cuda_exec(), n, dev_y.get(), dev_dy.get(), dev_dy.get());
  EXPECT_TRUE(bit_identical(dev_dy.host(), dx));
}

TEST(CudaActivation, GeluForwardBackwardMatchCpu) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const int64_t n = 65537;
  const auto x = random_vector(n, 23, -4.0f, 4.0f), dy = random_vector(n, 24);
  std::vector<float> y(n), dx(n);
  k::cpu::gelu_forward(n, x.data(), y.data());
  k::cpu::gelu_backward(n, x.data(), dy.data(), dx.data());
  DeviceVec<float> dev_x(x), dev_y(poisoned(n)), dev_dy(dy), dev_dx(poisoned(n));
  k::cuda::gelu_forward(cuda_exec(), n, dev_x.get(), dev_y.get());
  EXPECT_LE(rel_error(dev_y.host(), y), 1e-6);
  k::cuda::gelu_backward(cuda_exec(), n, dev_x.get(), dev_dy.get(), dev_dx.get());
  EXPECT_LE(rel_error(dev_dx.host(), dx), 1e-6);
}

TEST(CudaActivation, EmptyIsANoOp) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  k::cuda::relu_forward(cuda_exec(), 0, nullptr, nullptr);
  k::cuda::gelu_backward(cuda_exec(), 0, nullptr, nullptr, nullptr);
  device_sync();
}

}  // namespace
}  // namespace convoy::test
