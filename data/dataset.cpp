// Per-channel statistics of a data set, and the CIFAR-10 constants.
#include "data/dataset.h"

#include <cmath>

#include "engine/error.h"

namespace convoy::data {

// Sums per channel in 64-bit integers (exact, so the result does not depend on the thread
// count), one partial per image row block; the variance comes from E[x^2] - E[x]^2 in double.
ChannelStats channel_stats(const Dataset& d) {
  const int64_t n = d.size();
  if (n == 0) fail("channel_stats: data set ", d.origin.empty() ? "(unnamed)" : d.origin, " is empty");
  if (static_cast<int64_t>(d.images.size()) != n * kImageBytes)
    fail("channel_stats: data set ", d.origin, " holds ", d.images.size(), " image bytes for ", n,
         " labels (want ", n * kImageBytes, ")");
  uint64_t sum[3] = {0, 0, 0}, sum_sq[3] = {0, 0, 0};
  const int plane = kImageSide * kImageSide;
  for (int c = 0; c < kImageChannels; ++c) {
    uint64_t s = 0, q = 0;
#pragma omp parallel for schedule(static) reduction(+ : s, q)
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* p = d.image(i) + c * plane;
      uint64_t si = 0, qi = 0;
      for (int k = 0; k < plane; ++k) {
        si += p[k];
        qi += static_cast<uint64_t>(p[k]) * p[k];
      }
      s += si;
      q += qi;
    }
    sum[c] = s;
    sum_sq[c] = q;
  }
  ChannelStats st{};
  const double count = static_cast<double>(n) * plane;
  for (int c = 0; c < 3; ++c) {
    double mean = static_cast<double>(sum[c]) / count;
    double var = static_cast<double>(sum_sq[c]) / count - mean * mean;
    st.mean[c] = static_cast<float>(mean);
    st.std[c] = static_cast<float>(std::sqrt(var > 0 ? var : 0.0));
  }
  return st;
}

ChannelStats cifar10_stats() {
  return ChannelStats{{125.3f, 123.0f, 113.9f}, {63.0f, 62.1f, 66.7f}};
}

}  // namespace convoy::data
