// CUDA fp16/bf16 packing for compressed gradient buckets against the scalar conversions
// (kernels/half.h): every 16-bit pattern unpacked with a scale, floats of every exponent
// packed; outputs poisoned first, bit-identical expected (NaN: still a NaN).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/context.h"
#include "kernels/half.h"
#include "engine/allocator.h"
#include "tests/common/test_util.h"
#include "tests/cuda/gpu_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

// 16-bit values as a float16 tensor's bit patterns on the device.
Tensor device_u16(const std::vector<uint16_t>& v) {
  Tensor t({static_cast<int64_t>(v.size())}, Device::cuda(0), DType::f16);
  copy_bytes(t.device(), t.data_as<uint16_t>(), Device::cpu(), v.data(), v.size() * sizeof(uint16_t));
  return t;
}

std::vector<uint16_t> host_u16(const Tensor& t, size_t n) {
  std::vector<uint16_t> v(n);
  copy_bytes(Device::cpu(), v.data(), t.device(), t.data_as<uint16_t>(), n * sizeof(uint16_t));
  return v;
}

TEST(CudaHalf, PackAndUnpackMatchTheScalarConversions) {
  CONVOY_SKIP_WITHOUT_GPU();
  const k::Exec gpu = convoy::exec_for(Device::cuda(0));
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
  std::vector<float> x = random_vector(100003, 21, 1.0f, 2.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(x[i], static_cast<int>(i % 80) - 40) * (i % 2 ? -1.0f : 1.0f);
  for (k::HalfFormat f : {k::HalfFormat::fp16, k::HalfFormat::bf16}) {
    Tensor packed_in = device_u16(all), wide = poisoned_gpu(all.size());
    k::unpack_16(gpu, f, static_cast<int64_t>(all.size()), 0.5f, packed_in.data_as<uint16_t>(),
                 wide.data());
    const std::vector<float> w = wide.to_vector();
    for (uint32_t h = 0; h < 65536; ++h) {
      const float want = 0.5f * k::widen_16(f, all[h]);
      if (std::isnan(want)) ASSERT_TRUE(std::isnan(w[h])) << h;
      else ASSERT_EQ(k::float_bits(w[h]), k::float_bits(want)) << k::to_string(f) << " pattern " << h;
    }
    Tensor xs = to_gpu(x), out = device_u16(std::vector<uint16_t>(x.size(), 0xFFFF));
    k::pack_16(gpu, f, static_cast<int64_t>(x.size()), 0.25f, xs.data(), out.data_as<uint16_t>());
    const std::vector<uint16_t> p = host_u16(out, x.size());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(p[i], k::narrow_16(f, 0.25f * x[i])) << k::to_string(f) << " x=" << x[i];
  }
}

}  // namespace
}  // namespace convoy::test
