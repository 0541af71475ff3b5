// Division by a divisor fixed at kernel launch as one multiply-high, an add and a shift
// (the round-up method of Granlund and Montgomery, "Division by invariant integers using
// multiplication", 1994). The implicit-GEMM convolutions decode every gathered element's
// (channel, r, s) or (n, p, q) with divisions by shape values; an integer division by a
// run-time value is a ~20-instruction sequence on the GPU, this is three.
// Host and device: the host builds it (and the CPU tests check it against '/' and '%').
#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace convoy::kernels {

class FastDiv {
 public:
  FastDiv() = default;
  // divisor >= 1. shift = ceil(log2 d), magic = floor(2^32 (2^shift - d) / d) + 1.
  explicit FastDiv(int divisor) : d_(static_cast<uint32_t>(divisor < 1 ? 1 : divisor)) {
    while ((uint64_t{1} << shift_) < d_) ++shift_;
    magic_ = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift_) - d_)) / d_ + 1);
  }
  // n / d for 0 <= n < 2^31 (then umulhi(n, magic) <= n, so the sum fits in 32 bits).
  CONVOY_HD int div(int n) const {
    const uint32_t u = static_cast<uint32_t>(n);
    return static_cast<int>((mulhi(u, magic_) + u) >> shift_);
  }
  CONVOY_HD int mod(int n) const { return n - div(n) * static_cast<int>(d_); }
  CONVOY_HD int divisor() const { return static_cast<int>(d_); }

 private:
  CONVOY_HD static uint32_t mulhi(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __umulhi(a, b);
#else
    return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
#endif
  }
  uint32_t d_ = 1, magic_ = 1, shift_ = 0;
};

// The same interface with the hardware's '/' and '%' (the plain implicit-GEMM variant).
class PlainDiv {
 public:
  PlainDiv() = default;
  explicit PlainDiv(int divisor) : d_(divisor < 1 ? 1 : divisor) {}
  CONVOY_HD int div(int n) const { return n / d_; }
  CONVOY_HD int mod(int n) const { return n % d_; }
  CONVOY_HD int divisor() const { return d_; }

 private:
  int d_ = 1;
};

}  // namespace convoy::kernels
