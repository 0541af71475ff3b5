// The counter-based RNG: draws are a pure function of (seed, stream, counter); streams and
// seeds differ; uniform and normal draws have the right mean and variance.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/rng.h"

namespace convoy {
namespace {

TEST(Rng, SameSeedStreamCounterSameDraws) {
  Rng a(42, 7), b(42, 7);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(a.bits_at(i), b.bits_at(i));
  // Sequential draws are the stateless ones in order; set_counter resumes exactly.
  for (uint64_t i = 0; i < 10; ++i) ASSERT_EQ(a.next_bits(), b.bits_at(i));
  Rng c(42, 7);
  c.set_counter(5);
  EXPECT_EQ(c.next_bits(), b.bits_at(5));
  EXPECT_EQ(c.counter(), 6u);
}

TEST(Rng, SeedsAndStreamsDiffer) {
  Rng a(1, 0), b(2, 0), c(1, 1);
  int same_seed = 0, same_stream = 0;
  for (uint64_t i = 0; i < 64; ++i) {
    same_seed += a.bits_at(i) == b.bits_at(i);
    same_stream += a.bits_at(i) == c.bits_at(i);
  }
  EXPECT_LE(same_seed, 1);
  EXPECT_LE(same_stream, 1);
}

TEST(Rng, UniformMeanAndVariance) {
  Rng r(3, 0);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform_at(i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    s2 += u * u;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 0.005);
  EXPECT_NEAR(var, 1.0 / 12, 0.002);
}

TEST(Rng, NormalMeanAndVariance) {
  Rng r(4, 2);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal_at(i);
    ASSERT_TRUE(std::isfinite(v));
    s += v;
    s2 += v * v;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.02);
}

TEST(Rng, NextBelowStaysInRangeAndCoversIt) {
  Rng r(5);
  int seen[7] = {};
  for (int i = 0; i < 7000; ++i) {
    const uint32_t v = r.next_below(7);
    ASSERT_LT(v, 7u);
    ++seen[v];
  }
  for (int k = 0; k < 7; ++k) EXPECT_NEAR(seen[k], 1000, 150) << k;
}

}  // namespace
}  // namespace convoy
