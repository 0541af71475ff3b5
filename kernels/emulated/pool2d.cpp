// Pooling on the emulated device: the shape check, then the CPU kernel.
#include "kernels/cpu/pool2d_check.h"
#include "kernels/emulated/launch.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cuda {
namespace {

std::size_t input_bytes(const Pool2dShape& s) { return emulated::bytes_of(int64_t{s.N} * s.C * s.H * s.W); }
std::size_t output_bytes(const Pool2dShape& s) { return emulated::bytes_of(int64_t{s.N} * s.C * s.P() * s.Q()); }

}  // namespace

void pool2d_forward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, float* y) {
  cpu::check_pool2d_shape(s, "cuda::pool2d_forward");
  emulated::run(exec, "pool2d_forward", {{"x", x, input_bytes(s)}, {"y", y, output_bytes(s), true}},
                [=] { cpu::pool2d_forward(kind, s, x, y); });
}

void pool2d_backward(const Exec& exec, PoolKind kind, const Pool2dShape& s, const float* x, const float* dy,
                     float* dx) {
  cpu::check_pool2d_shape(s, "cuda::pool2d_backward");
  emulated::run(exec, "pool2d_backward",
                {{"x", x, input_bytes(s)}, {"dy", dy, output_bytes(s)}, {"dx", dx, input_bytes(s), true}},
                [=] { cpu::pool2d_backward(kind, s, x, dy, dx); });
}

}  // namespace convoy::kernels::cuda
