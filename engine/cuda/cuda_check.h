// Error checking for CUDA runtime calls and kernel launches. Every failure becomes a
// convoy::Error naming the file, line, the call (or kernel) and cudaGetErrorString.
#pragma once
#include <cuda_runtime.h>

#include "engine/error.h"

namespace convoy::cuda_detail {

[[noreturn]] inline void cuda_failed(const char* file, int line, const char* what, cudaError_t err) {
  fail(file, ":", line, ": CUDA call ", what, " failed: ", cudaGetErrorName(err), " (",
       cudaGetErrorString(err), ")");
}

}  // namespace convoy::cuda_detail

// Checks a runtime call: CONVOY_CUDA_CHECK(cudaMalloc(&p, n));
#define CONVOY_CUDA_CHECK(call)                                                         \
  do {                                                                                  \
    cudaError_t convoy_cuda_err_ = (call);                                              \
    if (convoy_cuda_err_ != cudaSuccess)                                                \
      ::convoy::cuda_detail::cuda_failed(__FILE__, __LINE__, #call, convoy_cuda_err_);  \
  } while (0)

// Checks the launch just made (configuration errors, not the kernel's run):
// kernel<<<g, b, 0, s>>>(...); CONVOY_CUDA_CHECK_LAUNCH("kernel name");
#define CONVOY_CUDA_CHECK_LAUNCH(kernel_name)                                                   \
  do {                                                                                          \
    cudaError_t convoy_cuda_err_ = cudaGetLastError();                                          \
    if (convoy_cuda_err_ != cudaSuccess)                                                        \
      ::convoy::cuda_detail::cuda_failed(__FILE__, __LINE__, "launch of " kernel_name,          \
                                         convoy_cuda_err_);                                     \
  } while (0)
