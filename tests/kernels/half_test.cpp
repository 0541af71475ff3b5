// fp16/bf16 conversions (kernels/half.h): every 16-bit pattern survives widen-then-narrow;
// narrowing random and edge-case floats lands on the nearest 16-bit value, ties to even,
// checked in double against the two neighbours; pack/unpack (with the folded scale) are
// those conversions element by element.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/error.h"
#include "engine/rng.h"
#include "kernels/half.h"

namespace convoy::kernels {
namespace {

// Uniform in [lo, hi) from the counter-based generator, advancing the counter.
float uniform(const Rng& rng, uint64_t& counter, float lo, float hi) { return lo + (hi - lo) * rng.uniform_at(counter++); }

bool is_nan16(HalfFormat f, uint16_t h) { return std::isnan(widen_16(f, h)); }

TEST(Half, EveryPatternRoundTrips) {
  for (HalfFormat f : {HalfFormat::fp16, HalfFormat::bf16}) {
    for (uint32_t h = 0; h < 65536; ++h) {
      const uint16_t b = static_cast<uint16_t>(h);
      const float w = widen_16(f, b);
      if (is_nan16(f, b)) {
        ASSERT_TRUE(std::isnan(w));
        ASSERT_TRUE(is_nan16(f, narrow_16(f, w))) << to_string(f) << " " << h;
      } else {
        ASSERT_EQ(narrow_16(f, w), b) << to_string(f) << " pattern " << h << " widened to " << w;
      }
    }
  }
}

// x narrowed must be at least as close as both neighbours of the result, and on a tie even.
void expect_nearest_even(HalfFormat f, float x) {
  const uint16_t h = narrow_16(f, x);
  const double w = widen_16(f, h), xd = x;
  if (std::isinf(w)) {  // overflow: x is beyond the largest finite value's rounding half-way point
    const uint16_t max = static_cast<uint16_t>((h & 0x8000u) | (f == HalfFormat::fp16 ? 0x7bffu : 0x7f7fu));
    EXPECT_GE(std::abs(xd), std::abs(static_cast<double>(widen_16(f, max)))) << x;
    return;
  }
  const double err = std::abs(w - xd);
  for (int d : {-1, 1}) {
    const int mag = (h & 0x7fff) + d;
    if (mag < 0 || mag > 0x7fff) continue;
    const uint16_t n = static_cast<uint16_t>((h & 0x8000) | mag);
    const double wn = widen_16(f, n);
    if (std::isnan(wn) || std::isinf(wn)) continue;
    const double errn = std::abs(wn - xd);
    ASSERT_LE(err, errn) << to_string(f) << " x=" << x << " got " << h << " neighbour " << n;
    if (err == errn) ASSERT_EQ(h & 1, 0) << to_string(f) << " tie not to even at x=" << x;
  }
}

TEST(Half, NarrowingIsNearestTiesToEven) {
  const Rng rng(17);
  uint64_t c = 0;
  for (HalfFormat f : {HalfFormat::fp16, HalfFormat::bf16}) {
    for (int i = 0; i < 200000; ++i) {
      // Exponents from far below fp16's subnormals to past its overflow, random mantissas.
      const float x = std::ldexp(uniform(rng, c, 1.0f, 2.0f), static_cast<int>(uniform(rng, c, -30.0f, 20.0f))) *
                      (i % 2 ? -1.0f : 1.0f);
      expect_nearest_even(f, x);
    }
    // Exact ties: the midpoint of two neighbouring 16-bit values, for a spread of patterns.
    for (uint32_t h = 1; h < 0x7bff; h += 97) {
      const double mid = 0.5 * (double(widen_16(f, uint16_t(h))) + double(widen_16(f, uint16_t(h + 1))));
      expect_nearest_even(f, static_cast<float>(mid));
    }
  }
}

TEST(Half, Fp16EdgeCases) {
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16(65519.99f), 0x7bff);
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);  // the tie above the largest value goes to inf
  EXPECT_EQ(float_to_fp16(1e9f), 0x7c00);
  EXPECT_EQ(float_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -24)), 0x0001);   // smallest subnormal
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -25)), 0x0000);   // half of it: tie to even (zero)
  EXPECT_EQ(float_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -14)), 0x0400);   // smallest normal
  EXPECT_EQ(float_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(float_to_fp16(-2.5f), 0xc100);
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(fp16_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_float(0x8000), -0.0f);
  EXPECT_TRUE(std::signbit(fp16_to_float(0x8000)));
}

TEST(Half, Bf16EdgeCases) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(bits_float(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(float_to_bf16(bits_float(0x3f818000u)), 0x3f82);  // tie, odd goes up
  EXPECT_EQ(float_to_bf16(bits_float(0x7f7fffffu)), 0x7f80);  // float max rounds to inf
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(bits_float(0x7f800001u)))));  // a NaN stays one
  EXPECT_EQ(float_to_bf16(-0.0f), 0x8000);
}

// The vector paths (F16C on x86 for fp16) against the scalar conversions: every 16-bit
// pattern unpacked, floats of every exponent packed, pairs accumulated; a NaN only has to
// stay a NaN (vcvtps2ph keeps the payload, the scalar code makes a canonical one).
TEST(Half, VectorPathsGiveTheScalarBits) {
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
  const Rng rng(11);
  uint64_t c = 0;
  std::vector<float> x(100003);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = i % 1000 == 0 ? std::numeric_limits<float>::infinity()
                         : std::ldexp(uniform(rng, c, 1.0f, 2.0f), static_cast<int>(uniform(rng, c, -40.0f, 40.0f))) *
                               (i % 2 ? -1.0f : 1.0f);
  const Exec cpu{};
  for (HalfFormat f : {HalfFormat::fp16, HalfFormat::bf16}) {
    std::vector<float> wide(all.size());
    unpack_16(cpu, f, static_cast<int64_t>(all.size()), 1.0f, all.data(), wide.data());
    for (uint32_t h = 0; h < 65536; ++h) {
      const float want = widen_16(f, all[h]);
      if (std::isnan(want)) ASSERT_TRUE(std::isnan(wide[h])) << h;
      else ASSERT_EQ(float_bits(wide[h]), float_bits(want)) << to_string(f) << " pattern " << h;
    }
    std::vector<uint16_t> packed(x.size());
    pack_16(cpu, f, static_cast<int64_t>(x.size()), 1.0f, x.data(), packed.data());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(packed[i], narrow_16(f, x[i])) << to_string(f) << " x=" << x[i];
    std::vector<uint16_t> acc(all.rbegin(), all.rend());
    cpu::accumulate_16(f, static_cast<int64_t>(all.size()), all.data(), acc.data());
    for (uint32_t h = 0; h < 65536; ++h) {
      const float sum = widen_16(f, all[h]) + widen_16(f, all[65535 - h]);
      if (std::isnan(sum)) ASSERT_TRUE(std::isnan(widen_16(f, acc[h])));
      else ASSERT_EQ(acc[h], narrow_16(f, sum)) << to_string(f) << " " << h;
    }
  }
}

TEST(Half, PackAndUnpackAreTheConversions) {
  const Exec cpu{};
  std::vector<float> x(1001);
  const Rng rng(3);
  uint64_t c = 0;
  for (float& v : x) v = uniform(rng, c, -70000.0f, 70000.0f) * (uniform(rng, c, 0.0f, 1.0f) < 0.5f ? 1e-6f : 1.0f);
  for (HalfFormat f : {HalfFormat::fp16, HalfFormat::bf16}) {
    std::vector<uint16_t> h(x.size(), 0xAAAA);
    std::vector<float> back(x.size(), std::numeric_limits<float>::quiet_NaN());
    pack_16(cpu, f, static_cast<int64_t>(x.size()), 0.5f, x.data(), h.data());
    unpack_16(cpu, f, static_cast<int64_t>(x.size()), 0.25f, h.data(), back.data());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(h[i], narrow_16(f, 0.5f * x[i])) << i;
      ASSERT_EQ(back[i], 0.25f * widen_16(f, h[i])) << i;
    }
  }
  EXPECT_THROW(pack_16(cpu, HalfFormat::fp16, 4, 1.0f, nullptr, nullptr), Error);
}

// The conversions write exactly [0, n) of their output: a guard element on each side stays.
TEST(Half, ConversionsStayInsideTheirBuffers) {
  const Exec cpu{};
  for (int64_t n : {1, 7, 8, 33}) {
    std::vector<float> x(n + 2, 1.5f), back(n + 2, -7.0f);
    std::vector<uint16_t> h(n + 2, 0xAAAA), sum(n + 2, 0x5555);
    for (HalfFormat f : {HalfFormat::fp16, HalfFormat::bf16}) {
      pack_16(cpu, f, n, 1.0f, x.data() + 1, h.data() + 1);
      unpack_16(cpu, f, n, 1.0f, h.data() + 1, back.data() + 1);
      cpu::accumulate_16(f, n, h.data() + 1, sum.data() + 1);
      EXPECT_EQ(h.front(), 0xAAAA) << n;
      EXPECT_EQ(h.back(), 0xAAAA) << n;
      EXPECT_EQ(back.front(), -7.0f) << n;
      EXPECT_EQ(back.back(), -7.0f) << n;
      EXPECT_EQ(sum.front(), 0x5555) << n;
      EXPECT_EQ(sum.back(), 0x5555) << n;
      EXPECT_EQ(back[1], 1.5f) << n;
      EXPECT_EQ(back[n], 1.5f) << n;
    }
  }
}

}  // namespace
}  // namespace convoy::kernels
