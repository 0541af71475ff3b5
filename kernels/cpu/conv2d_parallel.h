// Threading and scratch helpers shared by the CPU convolution variants.
#pragma once
#include <omp.h>

#include <cstdlib>
#include <memory>

#include "engine/error.h"

namespace convoy::kernels::cpu::conv {

// Runs body(n_begin, n_end, thread, threads) over a batch of N images: each OpenMP thread
// takes one fixed contiguous range (a static schedule written out), so results depend
// only on the thread count. With fewer images than threads, or inside an enclosing
// parallel region, it runs once on the calling thread (sgemm may then use the threads).
template <typename Body>
void for_image_ranges(int N, Body&& body) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads <= 1 || N < threads) {
    body(0, N, 0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int n0 = static_cast<int>(static_cast<long>(N) * t / nt);
    const int n1 = static_cast<int>(static_cast<long>(N) * (t + 1) / nt);
    body(n0, n1, t, nt);
  }
}

// A per-thread, 64-byte aligned float buffer that only grows: the training loop calls the
// same shapes over and over, so after the first step nothing is allocated or page-faulted.
// Slot keeps the buffers of one call apart.
inline float* scratch(int slot, size_t floats) {
  struct Buffer {
    struct Free {
      void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> data;
    size_t capacity = 0;
  };
  thread_local Buffer buffers[6];
  Buffer& b = buffers[slot];
  if (floats > b.capacity) {
    const size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) fail("conv2d: cannot allocate ", bytes, " bytes of scratch");
    b.data.reset(p);
    b.capacity = floats;
  }
  return b.data.get();
}

}  // namespace convoy::kernels::cpu::conv
