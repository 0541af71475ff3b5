// Element-wise kernels and activations on the emulated device: checked, queued CPU loops.
#include <cstring>

#include "kernels/activation.h"
#include "kernels/elementwise.h"
#include "kernels/emulated/launch.h"

namespace convoy::kernels::emulated {

void read_back(const Exec& exec, void* host, const void* device, std::size_t bytes) {
  stream_synchronize(exec.device, exec.stream);
  copy(host, device, bytes, Dir::device_to_host);
}

}  // namespace convoy::kernels::emulated

namespace convoy::kernels::cuda {

using emulated::bytes_of;
using emulated::check_count;
using emulated::run;

void fill(const Exec& exec, int64_t n, float value, float* y) {
  check_count(n, "cuda::fill");
  run(exec, "fill", {{"y", y, bytes_of(n), true}}, [=] { cpu::fill(n, value, y); });
}

void copy(const Exec& exec, int64_t n, const float* x, float* y) {
  check_count(n, "cuda::copy");
  run(exec, "copy", {{"x", x, bytes_of(n)}, {"y", y, bytes_of(n), true}}, [=] { cpu::copy(n, x, y); });
}

void add(const Exec& exec, int64_t n, const float* a, const float* b, float* y) {
  check_count(n, "cuda::add");
  run(exec, "add", {{"a", a, bytes_of(n)}, {"b", b, bytes_of(n)}, {"y", y, bytes_of(n), true}},
      [=] { cpu::add(n, a, b, y); });
}

void axpy(const Exec& exec, int64_t n, float alpha, const float* x, float* y) {
  check_count(n, "cuda::axpy");
  run(exec, "axpy", {{"x", x, bytes_of(n)}, {"y", y, bytes_of(n), true}}, [=] { cpu::axpy(n, alpha, x, y); });
}

void scale(const Exec& exec, int64_t n, float alpha, const float* x, float* y) {
  check_count(n, "cuda::scale");
  run(exec, "scale", {{"x", x, bytes_of(n)}, {"y", y, bytes_of(n), true}}, [=] { cpu::scale(n, alpha, x, y); });
}

void add_bias(const Exec& exec, int rows, int cols, const float* bias, float* y) {
  check_count(rows, "cuda::add_bias");
  check_count(cols, "cuda::add_bias");
  run(exec, "add_bias", {{"bias", bias, bytes_of(cols)}, {"y", y, bytes_of(int64_t{rows} * cols)}},
      [=] { cpu::add_bias(rows, cols, bias, y); });
}

void sum_rows_accumulate(const Exec& exec, int rows, int cols, const float* x, float* out) {
  check_count(rows, "cuda::sum_rows_accumulate");
  check_count(cols, "cuda::sum_rows_accumulate");
  run(exec, "sum_rows_accumulate", {{"x", x, bytes_of(int64_t{rows} * cols)}, {"out", out, bytes_of(cols), true}},
      [=] { cpu::sum_rows_accumulate(rows, cols, x, out); });
}

// As on the GPU: the sum lands in a device workspace and is read back from there.
double sum(const Exec& exec, int64_t n, const float* x) {
  check_count(n, "cuda::sum");
  if (n == 0) return 0.0;
  ScratchBuffer partial(exec, sizeof(double));
  double* out = partial.as<double>();
  run(exec, "sum", {{"x", x, bytes_of(n)}, {"partial", out, sizeof(double), true}}, [=] {
    const double s = cpu::sum(n, x);
    std::memcpy(out, &s, sizeof s);
  });
  double result = 0.0;
  emulated::read_back(exec, &result, out, sizeof result);
  return result;
}

void relu_forward(const Exec& exec, int64_t n, const float* x, float* y) {
  check_count(n, "cuda::relu_forward");
  run(exec, "relu_forward", {{"x", x, bytes_of(n)}, {"y", y, bytes_of(n), true}}, [=] { cpu::relu_forward(n, x, y); });
}

void relu_backward(const Exec& exec, int64_t n, const float* y, const float* dy, float* dx) {
  check_count(n, "cuda::relu_backward");
  run(exec, "relu_backward", {{"y", y, bytes_of(n)}, {"dy", dy, bytes_of(n)}, {"dx", dx, bytes_of(n), true}},
      [=] { cpu::relu_backward(n, y, dy, dx); });
}

void gelu_forward(const Exec& exec, int64_t n, const float* x, float* y) {
  check_count(n, "cuda::gelu_forward");
  run(exec, "gelu_forward", {{"x", x, bytes_of(n)}, {"y", y, bytes_of(n), true}}, [=] { cpu::gelu_forward(n, x, y); });
}

void gelu_backward(const Exec& exec, int64_t n, const float* x, const float* dy, float* dx) {
  check_count(n, "cuda::gelu_backward");
  run(exec, "gelu_backward", {{"x", x, bytes_of(n)}, {"dy", dy, bytes_of(n)}, {"dx", dx, bytes_of(n), true}},
      [=] { cpu::gelu_backward(n, x, dy, dx); });
}

}  // namespace convoy::kernels::cuda
