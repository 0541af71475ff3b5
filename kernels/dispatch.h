// The one place that turns an Exec into a call of the CPU or the CUDA implementation.
// Included only by the dispatching kernels/*.cpp files.
#pragma once
#include "kernels/exec.h"

#if CONVOY_WITH_CUDA
#define CONVOY_DISPATCH(op, ...)                          \
  if (exec.is_cuda()) return cuda::op(exec, __VA_ARGS__); \
  return cpu::op(__VA_ARGS__)
#else
#define CONVOY_DISPATCH(op, ...)           \
  if (exec.is_cuda()) cuda_not_built(#op); \
  return cpu::op(__VA_ARGS__)
#endif
