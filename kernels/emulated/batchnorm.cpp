// Batch normalisation on the emulated device: the CUDA launcher's checks, then the CPU kernel.
#include "kernels/batchnorm.h"
#include "kernels/emulated/launch.h"

namespace convoy::kernels::cuda {
namespace {

void check(const BatchNormShape& s, const char* op, bool training) {
  if (s.N <= 0 || s.C <= 0 || s.HW <= 0) fail(op, ": shape N=", s.N, " C=", s.C, " HW=", s.HW, " must be positive");
  if (training && int64_t{s.N} * s.HW < 2)
    fail(op, ": training needs more than one value per channel (N*HW = ", int64_t{s.N} * s.HW, "), as in PyTorch");
}

std::size_t whole(const BatchNormShape& s) { return emulated::bytes_of(int64_t{s.N} * s.C * s.HW); }
std::size_t channels(const BatchNormShape& s) { return emulated::bytes_of(s.C); }

}  // namespace

void batchnorm_forward_train(const Exec& exec, const BatchNormShape& s, const BatchNormTrainArgs& a) {
  check(s, "cuda::batchnorm_forward_train", true);
  const std::size_t n = whole(s), c = channels(s);
  emulated::run(exec, "batchnorm_forward_train",
                {{"x", a.x, n},
                 {"gamma", a.gamma, c},
                 {"beta", a.beta, c},
                 {"y", a.y, n, true},
                 {"save_mean", a.save_mean, a.save_mean ? c : 0, true},
                 {"save_invstd", a.save_invstd, a.save_invstd ? c : 0, true},
                 {"running_mean", a.running_mean, a.running_mean ? c : 0, true},
                 {"running_var", a.running_var, a.running_var ? c : 0, true}},
                [s, a] { cpu::batchnorm_forward_train(s, a); });
}

void batchnorm_forward_infer(const Exec& exec, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, const float* running_mean, const float* running_var, float eps,
                             bool relu, float* y) {
  check(s, "cuda::batchnorm_forward_infer", false);
  const std::size_t n = whole(s), c = channels(s);
  emulated::run(exec, "batchnorm_forward_infer",
                {{"x", x, n},
                 {"gamma", gamma, c},
                 {"beta", beta, c},
                 {"running_mean", running_mean, c},
                 {"running_var", running_var, c},
                 {"y", y, n, true}},
                [=] { cpu::batchnorm_forward_infer(s, x, gamma, beta, running_mean, running_var, eps, relu, y); });
}

void batchnorm_backward(const Exec& exec, const BatchNormShape& s, const BatchNormBackwardArgs& a) {
  check(s, "cuda::batchnorm_backward", true);
  if (a.relu && !a.y) fail("cuda::batchnorm_backward: relu needs the forward output y");
  const std::size_t n = whole(s), c = channels(s);
  emulated::run(exec, "batchnorm_backward",
                {{"x", a.x, n},
                 {"y", a.y, a.relu ? n : 0},
                 {"dy", a.dy, n},
                 {"gamma", a.gamma, c},
                 {"save_mean", a.save_mean, c},
                 {"save_invstd", a.save_invstd, c},
                 {"dx", a.dx, n, true},
                 {"dgamma", a.dgamma, c, true},
                 {"dbeta", a.dbeta, c, true}},
                [s, a] { cpu::batchnorm_backward(s, a); });
}

}  // namespace convoy::kernels::cuda
