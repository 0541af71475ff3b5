// Scratch memory of the CPU kernels: per thread and per slot, 64-byte aligned, grow-only. The
// training loop calls the same shapes over and over, so after the first step nothing is
// allocated or page-faulted; each OpenMP thread of a kernel has its own, so there is nothing
// to order between threads (the CUDA kernels' workspace and its stream rule: kernels/exec.h).
// A slot is one buffer; kernels that call each other (convolution calls SGEMM) use distinct
// slots, listed here, so one never overwrites the other's.
#pragma once
#include <cstddef>

namespace convoy::kernels::cpu {

enum class ScratchSlot {
  gemm_a, gemm_b,                                    // SGEMM packing panels
  conv_0, conv_1, conv_2, conv_3, conv_4, conv_5,    // convolution column and packing buffers
  im2col_plane,                                      // one zero-padded input plane
  pool_values, pool_indices,                         // separable pooling passes
  pool_window_values, pool_window_rows,              // max pooling backward: window maxima, argmax
  fused_activations,                                 // batch-norm + ReLU + max-pool: one normalised plane
  count
};

// At least `bytes` of this thread's buffer for `slot`; valid until the next call for the slot.
void* thread_scratch(ScratchSlot slot, std::size_t bytes);

template <typename T>
T* thread_scratch_as(ScratchSlot slot, std::size_t count) {
  return static_cast<T*>(thread_scratch(slot, count * sizeof(T)));
}

}  // namespace convoy::kernels::cpu
