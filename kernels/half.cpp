#include "kernels/half.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

const char* to_string(HalfFormat f) { return f == HalfFormat::fp16 ? "fp16" : "bf16"; }

void pack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y) {
  CONVOY_DISPATCH(pack_16, format, n, scale, x, y);
}

void unpack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y) {
  CONVOY_DISPATCH(unpack_16, format, n, scale, x, y);
}

}  // namespace convoy::kernels
