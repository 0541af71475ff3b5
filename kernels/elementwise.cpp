#include "kernels/elementwise.h"

#include "kernels/dispatch.h"

namespace convoy::kernels {

void fill(const Exec& exec, int64_t n, float value, float* y) { CONVOY_DISPATCH(fill, n, value, y); }
void copy(const Exec& exec, int64_t n, const float* x, float* y) { CONVOY_DISPATCH(copy, n, x, y); }
void add(const Exec& exec, int64_t n, const float* a, const float* b, float* y) { CONVOY_DISPATCH(add, n, a, b, y); }
void axpy(const Exec& exec, int64_t n, float alpha, const float* x, float* y) { CONVOY_DISPATCH(axpy, n, alpha, x, y); }
void scale(const Exec& exec, int64_t n, float alpha, const float* x, float* y) {
  CONVOY_DISPATCH(scale, n, alpha, x, y);
}
void add_bias(const Exec& exec, int rows, int cols, const float* bias, float* y) {
  CONVOY_DISPATCH(add_bias, rows, cols, bias, y);
}
void sum_rows_accumulate(const Exec& exec, int rows, int cols, const float* x, float* out) {
  CONVOY_DISPATCH(sum_rows_accumulate, rows, cols, x, out);
}
double sum(const Exec& exec, int64_t n, const float* x) { CONVOY_DISPATCH(sum, n, x); }

}  // namespace convoy::kernels
