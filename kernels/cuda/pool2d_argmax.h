// CUDA max pooling that records each window's argmax, for the fused batch-norm + ReLU +
// max-pool (bn_relu_maxpool.cpp); kernels in pool2d.cu beside the plain pooling.
//   forward:  y = max of each window of act, argmax = plane offset h*W + w of its first maximum.
//   backward: dact (N, C, H, W) = for each element, the sum of dy over the windows whose argmax
//             it is and whose y passed the ReLU (y > 0); assigned, every element written once.
#pragma once
#include <cstdint>

#include "kernels/exec.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cuda {

void maxpool_forward_argmax(const Exec& exec, const Pool2dShape& s, const float* act, float* y, int32_t* argmax);
void maxpool_backward_argmax(const Exec& exec, const Pool2dShape& s, const float* y, const int32_t* argmax,
                             const float* dy, float* dact);

}  // namespace convoy::kernels::cuda
