// Seedable counter-based RNG. A stream is (seed, stream id); draw i of it is a pure
// function of (seed, stream, i), so splitting work across threads cannot change results.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/philox.h"

namespace convoy {

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream = 0) : seed_(seed), stream_(stream) {}

  // The i-th 32-bit draw of this stream (stateless).
  uint32_t bits_at(uint64_t i) const {
    return kernels::philox4x32(seed_, stream_, i >> 2).v[i & 3];
  }
  float uniform_at(uint64_t i) const { return kernels::uniform01(bits_at(i)); }
  // Standard normal from two uniforms (Box-Muller), draws 2i and 2i+1.
  float normal_at(uint64_t i) const {
    float u1 = kernels::uniform01(bits_at(2 * i)) + (1.0f / 33554432.0f);
    float u2 = kernels::uniform01(bits_at(2 * i + 1));
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853071795864f * u2);
  }

  // Sequential use: the next draw.
  uint32_t next_bits() { return bits_at(counter_++); }
  float next_uniform() { return uniform_at(counter_++); }
  // Uniform integer in [0, n) (n > 0), by Lemire's multiply-shift.
  uint32_t next_below(uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(next_bits()) * n) >> 32); }

  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }
  uint64_t counter() const { return counter_; }
  void set_counter(uint64_t c) { counter_ = c; }

 private:
  uint64_t seed_;
  uint64_t stream_;
  uint64_t counter_ = 0;
};

}  // namespace convoy
