// Error checking for CUDA runtime calls and kernel launches, the one helper every CUDA file
// uses (the engine's runtime code too). Every failure becomes a convoy::Error naming the
// file, line, the call (or kernel) and cudaGetErrorString.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "engine/error.h"

namespace convoy::cuda_detail {

[[noreturn]] inline void cuda_failed(const char* file, int line, const std::string& what, cudaError_t err) {
  fail(file, ":", line, ": CUDA call ", what, " failed: ", cudaGetErrorName(err), " (",
       cudaGetErrorString(err), ")");
}

// The launch just made (configuration errors, and asynchronous faults of earlier work that
// the runtime reports here), named by its kernel.
inline void check_launch(const char* kernel, const char* file, int line) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) cuda_failed(file, line, std::string("launch of ") + kernel, err);
}

}  // namespace convoy::cuda_detail

// Checks a runtime call: CONVOY_CUDA_CHECK(cudaMalloc(&p, n));
#define CONVOY_CUDA_CHECK(call)                                                         \
  do {                                                                                  \
    cudaError_t convoy_cuda_err_ = (call);                                              \
    if (convoy_cuda_err_ != cudaSuccess)                                                \
      ::convoy::cuda_detail::cuda_failed(__FILE__, __LINE__, #call, convoy_cuda_err_);  \
  } while (0)

// Checks the launch just made: kernel<<<g, b, 0, s>>>(...); CONVOY_CUDA_CHECK_LAUNCH("kernel name");
#define CONVOY_CUDA_CHECK_LAUNCH(kernel_name) ::convoy::cuda_detail::check_launch((kernel_name), __FILE__, __LINE__)
