// How an emulated CUDA kernel is written: check the arguments as the CUDA launcher does, name
// every device buffer with its size, and queue the CPU implementation on the Exec's stream
// (kernels/emulated/device_runtime.h). The work captures everything by value: it runs later,
// after the caller's locals are gone.
#pragma once
#include <cstdint>
#include <utility>

#include "engine/error.h"
#include "kernels/emulated/device_runtime.h"
#include "kernels/exec.h"

namespace convoy::kernels::emulated {

template <typename Work>
void run(const Exec& exec, const char* kernel, const std::vector<Span>& buffers, Work work) {
  launch(exec.device, exec.stream, kernel, buffers, std::function<void()>(std::move(work)));
}

// Bytes of n elements of T (n < 0 is refused by check_count first).
template <typename T = float>
std::size_t bytes_of(int64_t n) {
  return n > 0 ? static_cast<std::size_t>(n) * sizeof(T) : 0;
}

inline void check_count(int64_t n, const char* op) {
  if (n < 0) fail(op, ": element count ", n, " is negative");
}

// Waits for the Exec's stream, then copies `bytes` from device memory to the host.
void read_back(const Exec& exec, void* host, const void* device, std::size_t bytes);

}  // namespace convoy::kernels::emulated
