// Internals of the fast CPU pooling (pool2d.cpp) shared with the fused batch-norm + ReLU +
// max-pool kernel (bn_relu_maxpool.cpp): the clipped window bounds along one axis, and max
// pooling of one plane that also says where each window's maximum is.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/pool2d.h"

namespace convoy::kernels::cpu {

// In-bounds [begin, end) of each window along one axis. Outputs [inner_begin, inner_end)
// have their whole window inside (begin = o*stride - pad, end = begin + window).
struct Spans {
  std::vector<int> begin, end;
  int stride = 1, pad = 0, window = 1;
  int inner_begin = 0, inner_end = 0;
};

Spans spans(int outputs, int stride, int pad, int window, int size);

// Max pooling of one H x W plane x into y (P x Q), and arg[p*Q + q] = h*W + w of the first
// maximal element of window (p, q) in row-major order: the element max-pool backward routes
// that window's gradient to. Uses this thread's pooling scratch slots.
void max_pool_plane_argmax(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y,
                           int32_t* arg);

}  // namespace convoy::kernels::cpu
