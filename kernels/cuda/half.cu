// CUDA fp16/bf16 packing for compressed gradient buckets. Memory-bound (4 + 2 bytes per
// element, no reuse): the grid-stride for-each of ops_launch.cuh, consecutive threads on
// consecutive elements. The scalar conversions are kernels/half.h's, shared with the CPU,
// so both give the same bits (tested).
#include <cuda_runtime.h>

#include "kernels/cuda/ops_launch.cuh"
#include "kernels/half.h"

namespace convoy::kernels::cuda {
namespace {

struct PackOp {
  HalfFormat format;
  float scale;
  const float* x;
  uint16_t* y;
  __device__ void operator()(int64_t i) const { y[i] = narrow_16(format, scale * x[i]); }
};

struct UnpackOp {
  HalfFormat format;
  float scale;
  const uint16_t* x;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = scale * widen_16(format, x[i]); }
};

void check(int64_t n, const void* x, const void* y, const char* op) {
  ops::check_count(n, op);
  if (n > 0 && (!x || !y)) fail(op, ": null pointer for ", n, " elements");
}

}  // namespace

void pack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y) {
  check(n, x, y, "cuda::pack_16");
  ops::for_each(exec, n, PackOp{format, scale, x, y}, "pack_16");
}

void unpack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y) {
  check(n, x, y, "cuda::unpack_16");
  ops::for_each(exec, n, UnpackOp{format, scale, x, y}, "unpack_16");
}

}  // namespace convoy::kernels::cuda
