// kernels/fast_div.h against the '/' and '%' it replaces in the CUDA convolutions: every
// divisor up to 4096 (every convolution shape value: R*S, S, Q, P*Q, W, H*W, strides) and the
// shapes' larger products, on the numerators where a wrong magic number shows first (multiples
// of d and their neighbours, the top of the range) and on random ones.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/fast_div.h"

namespace convoy {
namespace {

std::vector<int> numerators(int d, std::mt19937& rng) {
  std::vector<int> n;
  auto add = [&](int64_t v) {  // in 64 bits: 2 * d overflows an int for the largest divisors
    if (v >= 0 && v <= 0x7fffffff) n.push_back(static_cast<int>(v));
  };
  const int64_t D = d;
  for (int64_t v : {int64_t{0}, int64_t{1}, D - 1, D, D + 1, 2 * D - 1, 2 * D, int64_t{0x7fffffff},
                    int64_t{0x7fffffff} - D, int64_t{0x40000000}})
    add(v);
  for (int k = 1; k < 64; ++k) {
    const int64_t m = D * (rng() % (0x7fffffffu / static_cast<uint32_t>(d)));
    for (int64_t v : {m - 1, m, m + 1}) add(v);
  }
  std::uniform_int_distribution<int> any(0, 0x7fffffff);
  for (int k = 0; k < 64; ++k) n.push_back(any(rng));
  return n;
}

void check_divisor(int d, std::mt19937& rng) {
  const kernels::FastDiv f(d);
  ASSERT_EQ(f.divisor(), d);
  for (int n : numerators(d, rng)) {
    ASSERT_EQ(f.div(n), n / d) << n << " / " << d;
    ASSERT_EQ(f.mod(n), n % d) << n << " % " << d;
  }
}

TEST(FastDiv, MatchesDivisionForEveryDivisorUpTo4096) {
  std::mt19937 rng(7);
  for (int d = 1; d <= 4096; ++d) check_divisor(d, rng);
}

TEST(FastDiv, MatchesDivisionForLargeDivisors) {
  std::mt19937 rng(11);
  for (int d : {4097, 6561, 65536, 65537, 100000, 1 << 20, (1 << 20) + 1, 123456789, 0x3fffffff, 0x40000000,
                0x40000001, 0x7ffffffe, 0x7fffffff})
    check_divisor(d, rng);
  std::uniform_int_distribution<int> any(2, 0x7fffffff);
  for (int k = 0; k < 2000; ++k) check_divisor(any(rng), rng);
}

TEST(FastDiv, PlainDivIsTheSameInterface) {
  const kernels::PlainDiv p(9);
  EXPECT_EQ(p.div(80), 8);
  EXPECT_EQ(p.mod(80), 8);
  EXPECT_EQ(p.divisor(), 9);
}

}  // namespace
}  // namespace convoy
