// CUDA augmentation vs the CPU for the same seed, epoch and sample ids: bit-identical to
// the fast CPU version (same float operations, same Philox draws) and within 1e-6 of the
// double-precision reference; crops wider than the image, odd shapes, one channel.
#include <gtest/gtest.h>

#include "kernels/augment.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

std::vector<uint8_t> random_images(size_t n, uint64_t seed) {
  const auto u = random_vector(n, seed, 0.0f, 1.0f);
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(1 + static_cast<int>(u[i] * 254.0f));  // 1..255
  return v;
}

void check(k::AugmentArgs a, const char* what) {
  const size_t pixels = static_cast<size_t>(a.N) * a.C * a.H * a.W;
  const auto images = random_images(pixels, 81);
  std::vector<uint64_t> ids(a.N);
  for (int i = 0; i < a.N; ++i) ids[i] = 1000003ull * i + 0x9E3779B97F4A7C15ull * (i % 3);
  std::vector<float> fast(pixels), ref(pixels);
  a.images = images.data();
  a.sample_ids = ids.data();
  a.out = fast.data();
  k::cpu::augment_normalize(a);
  a.out = ref.data();
  k::cpu::augment_normalize_reference(a);

  DeviceVec<uint8_t> d_images(images);
  DeviceVec<uint64_t> d_ids(ids);
  DeviceVec<float> d_out(poisoned(pixels));
  a.images = d_images.get();
  a.sample_ids = d_ids.get();
  a.out = d_out.get();
  k::cuda::augment_normalize(cuda_exec(), a);
  const auto got = d_out.host();
  EXPECT_TRUE(bit_identical(got, fast)) << what;
  EXPECT_LE(rel_error(got, ref), 1e-6) << what;
}

k::AugmentArgs cifar_args(int N) {
  k::AugmentArgs a;
  a.N = N;
  const float mean[3] = {125.3f, 123.0f, 113.9f}, stdev[3] = {63.0f, 62.1f, 66.7f};
  for (int c = 0; c < 3; ++c) {
    a.mean[c] = mean[c];
    a.inv_std[c] = 1.0f / stdev[c];
  }
  a.seed = 1234;
  a.epoch = 7;
  return a;
}

TEST(CudaAugment, NormalizeOnlyMatchesCpu) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  check(cifar_args(13), "normalize only");
}

TEST(CudaAugment, CropFlipCutoutMatchCpu) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  auto a = cifar_args(37);
  a.augment = true;
  a.crop_pad = 4;
  a.flip = true;
  a.cutout = 8;
  check(a, "crop+flip+cutout 8");
  a.cutout = 17;  // odd size, clipped at borders
  a.epoch = 8;
  check(a, "cutout 17");
  a.flip = false;
  a.cutout = 0;
  check(a, "crop only");
}

TEST(CudaAugment, OddShapesAndWideCrops) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  auto a = cifar_args(9);
  a.C = 1;
  a.H = 7;
  a.W = 9;
  a.augment = true;
  a.crop_pad = 10;  // shifts wider than the image
  a.cutout = 3;
  check(a, "1x7x9 pad 10");
}

}  // namespace
}  // namespace convoy::test
