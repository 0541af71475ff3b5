// Backward data of the implicit_gemm_flipped variant: at stride 1, the filters are flipped into
// a scratch buffer and dx is implicit_gemm's forward of dy with them (kernels/conv2d_flip.h).
// The forward kernel's gathers decode (c, r, s) and (n, p, q) with no stride test per element,
// where the gather form of backward data tests divisibility by the stride for every element.
// Other shapes take implicit_gemm's gather form. Plain C++ shared by the GPU and the emulated
// device, so this composition runs in CI.
#include "kernels/conv2d_flip.h"
#include "kernels/cuda/conv2d_variants.h"

namespace convoy::kernels::cuda {

void conv2d_backward_data_implicit_gemm_flipped(const Exec& exec, const Conv2dShape& s, const float* dy,
                                                const float* w, float* dx) {
  if (!backward_data_is_flipped_forward(s)) return conv2d_backward_data_implicit_gemm(exec, s, dy, w, dx);
  // Released once the forward is queued: the scratch rule of kernels/exec.h.
  ScratchBuffer flipped(exec, static_cast<std::size_t>(s.K) * s.C * s.R * s.S * sizeof(float));
  conv2d_flip_filters(exec, s, w, flipped.as<float>());
  conv2d_forward_implicit_gemm(exec, flipped_forward_shape(s), dy, flipped.as<float>(), nullptr, dx);
}

}  // namespace convoy::kernels::cuda
