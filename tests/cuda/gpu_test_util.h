// Helpers for the GPU suites: skip cleanly when no CUDA device is usable, and move test
// vectors to and from convoy::Tensor buffers on Device::cuda().
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "engine/device.h"
#include "engine/tensor.h"

#define CONVOY_SKIP_WITHOUT_GPU()                                                        \
  do {                                                                                   \
    if (::convoy::cuda_device_count() == 0)                                              \
      GTEST_SKIP() << "no CUDA device: " << ::convoy::cuda_unavailable_reason();         \
  } while (0)

namespace convoy::test {

inline Tensor to_gpu(const std::vector<float>& v) {
  Tensor host = Tensor::from_vector(Shape{static_cast<int64_t>(v.size())}, v);
  return host.to(Device::cuda(0));
}

// A device buffer of n floats, every one NaN (the bytes 0xFF...), so unwritten outputs show.
inline Tensor poisoned_gpu(size_t n) {
  return to_gpu(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
}

inline void poison(Tensor& t) { t.copy_from(Tensor::from_vector(t.shape(), std::vector<float>(t.numel(), std::numeric_limits<float>::quiet_NaN()))); }

inline bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace convoy::test
