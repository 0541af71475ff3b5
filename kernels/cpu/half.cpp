#include "kernels/half.h"

#include <algorithm>

#include "engine/error.h"
#include "kernels/cpu/half_internal.h"

namespace convoy::kernels::cpu {
namespace {

void check(int64_t n, const void* x, const void* y, const char* what) {
  if (n < 0) fail(what, ": negative length ", n);
  if (n > 0 && (!x || !y)) fail(what, ": null buffer for ", n, " elements");
}

// The scalar loops with the format fixed at compile time, so the compiler vectorizes them
// (bf16 is a shift and an add; fp16 without F16C).
template <HalfFormat F>
void pack_loop(int64_t n, float scale, const float* x, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = narrow_16(F, scale * x[i]);
}
template <HalfFormat F>
void unpack_loop(int64_t n, float scale, const uint16_t* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = scale * widen_16(F, x[i]);
}
template <HalfFormat F>
void accumulate_loop(int64_t n, const uint16_t* in, uint16_t* inout) {
  for (int64_t i = 0; i < n; ++i) inout[i] = narrow_16(F, widen_16(F, in[i]) + widen_16(F, inout[i]));
}

// Runs body(begin, len) over chunks of n elements, in parallel for long arrays; each chunk
// is long enough to be one vector stream.
constexpr int64_t kChunk = 1 << 15;
template <typename Body>
void over_chunks(int64_t n, const Body& body) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n > 4 * kChunk)
  for (int64_t c = 0; c < chunks; ++c) body(c * kChunk, std::min(kChunk, n - c * kChunk));
}

}  // namespace

void pack_16(HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y) {
  check(n, x, y, "pack_16");
  const bool f16c = format == HalfFormat::fp16 && have_f16c();
  over_chunks(n, [&](int64_t b, int64_t len) {
    if (f16c) pack_fp16_f16c(len, scale, x + b, y + b);
    else if (format == HalfFormat::fp16) pack_loop<HalfFormat::fp16>(len, scale, x + b, y + b);
    else pack_loop<HalfFormat::bf16>(len, scale, x + b, y + b);
  });
}

void unpack_16(HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y) {
  check(n, x, y, "unpack_16");
  const bool f16c = format == HalfFormat::fp16 && have_f16c();
  over_chunks(n, [&](int64_t b, int64_t len) {
    if (f16c) unpack_fp16_f16c(len, scale, x + b, y + b);
    else if (format == HalfFormat::fp16) unpack_loop<HalfFormat::fp16>(len, scale, x + b, y + b);
    else unpack_loop<HalfFormat::bf16>(len, scale, x + b, y + b);
  });
}

void accumulate_16(HalfFormat format, int64_t n, const uint16_t* in, uint16_t* inout) {
  check(n, in, inout, "accumulate_16");
  if (format == HalfFormat::bf16) accumulate_loop<HalfFormat::bf16>(n, in, inout);
  else if (have_f16c()) accumulate_fp16_f16c(n, in, inout);
  else accumulate_loop<HalfFormat::fp16>(n, in, inout);
}

}  // namespace convoy::kernels::cpu
