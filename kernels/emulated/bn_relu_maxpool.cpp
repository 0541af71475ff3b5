// Batch-norm + ReLU + max-pool on the emulated device: the CUDA launcher's checks, then the
// CPU kernel.
#include "kernels/bn_relu_maxpool.h"
#include "kernels/cpu/pool2d_check.h"
#include "kernels/emulated/launch.h"

namespace convoy::kernels::cuda {
namespace {

void check(const Pool2dShape& s, const char* op) {
  cpu::check_pool2d_shape(s, op);
  if (int64_t{s.N} * s.H * s.W < 2)
    fail(op, ": training needs more than one value per channel (N*H*W = ", int64_t{s.N} * s.H * s.W,
         "), as in PyTorch");
}

std::size_t input_bytes(const Pool2dShape& s) { return emulated::bytes_of(int64_t{s.N} * s.C * s.H * s.W); }
std::size_t output_bytes(const Pool2dShape& s) { return emulated::bytes_of(int64_t{s.N} * s.C * s.P() * s.Q()); }
std::size_t index_bytes(const Pool2dShape& s) {
  return emulated::bytes_of<int32_t>(int64_t{s.N} * s.C * s.P() * s.Q());
}

}  // namespace

void bn_relu_maxpool_forward_train(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolTrainArgs& a) {
  check(s, "cuda::bn_relu_maxpool_forward_train");
  const std::size_t c = emulated::bytes_of(s.C);
  emulated::run(exec, "bn_relu_maxpool_forward_train",
                {{"x", a.x, input_bytes(s)},
                 {"gamma", a.gamma, c},
                 {"beta", a.beta, c},
                 {"y", a.y, output_bytes(s), true},
                 {"argmax", a.argmax, index_bytes(s), true},
                 {"save_mean", a.save_mean, a.save_mean ? c : 0, true},
                 {"save_invstd", a.save_invstd, a.save_invstd ? c : 0, true},
                 {"running_mean", a.running_mean, a.running_mean ? c : 0, true},
                 {"running_var", a.running_var, a.running_var ? c : 0, true}},
                [s, a] { cpu::bn_relu_maxpool_forward_train(s, a); });
}

void bn_relu_maxpool_backward(const Exec& exec, const Pool2dShape& s, const BnReluMaxPoolBackwardArgs& a) {
  check(s, "cuda::bn_relu_maxpool_backward");
  const std::size_t c = emulated::bytes_of(s.C);
  emulated::run(exec, "bn_relu_maxpool_backward",
                {{"x", a.x, input_bytes(s)},
                 {"y", a.y, output_bytes(s)},
                 {"argmax", a.argmax, index_bytes(s)},
                 {"dy", a.dy, output_bytes(s)},
                 {"gamma", a.gamma, c},
                 {"save_mean", a.save_mean, c},
                 {"save_invstd", a.save_invstd, c},
                 {"dx", a.dx, input_bytes(s), true},
                 {"dgamma", a.dgamma, c, true},
                 {"dbeta", a.dbeta, c, true}},
                [s, a] { cpu::bn_relu_maxpool_backward(s, a); });
}

}  // namespace convoy::kernels::cuda
