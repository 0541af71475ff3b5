// The filter flip of kernels/conv2d_flip.h on the CPU: a permutation, so every backend's
// flipped forward sees the same bits.
#include <cstddef>

#include "kernels/conv2d_flip.h"

namespace convoy::kernels::cpu {

void conv2d_flip_filters(const Conv2dShape& s, const float* w, float* flipped) {
  const std::size_t taps = static_cast<std::size_t>(s.R) * s.S;
  for (int k = 0; k < s.K; ++k)
    for (int c = 0; c < s.C; ++c) {
      const float* src = w + (static_cast<std::size_t>(k) * s.C + c) * taps;
      float* dst = flipped + (static_cast<std::size_t>(c) * s.K + k) * taps;
      for (std::size_t t = 0; t < taps; ++t) dst[taps - 1 - t] = src[t];
    }
}

}  // namespace convoy::kernels::cpu
