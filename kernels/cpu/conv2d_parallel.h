// Threading and scratch helpers shared by the CPU convolution variants.
#pragma once
#include <omp.h>

#include <cstdlib>
#include <memory>

#include "engine/error.h"
#include "kernels/cpu/thread_scratch.h"

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

// This thread's scratch floats for one of the convolution's slots (0 to 5; kernels/cpu/thread_scratch.h).
inline float* scratch(int slot, size_t floats) {
  return thread_scratch_as<float>(static_cast<ScratchSlot>(static_cast<int>(ScratchSlot::conv_0) + slot), floats);
}

}  // namespace convoy::kernels::cpu::conv
