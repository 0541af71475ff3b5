// Element-wise and row/column helpers, the glue between the heavy kernels.
// On the CPU the plain loop is both the reference and the implementation.
#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace convoy::kernels {

void fill(const Exec& exec, int64_t n, float value, float* y);
void copy(const Exec& exec, int64_t n, const float* x, float* y);
void add(const Exec& exec, int64_t n, const float* a, const float* b, float* y);      // y = a + b
void axpy(const Exec& exec, int64_t n, float alpha, const float* x, float* y);       // y += alpha * x
void scale(const Exec& exec, int64_t n, float alpha, const float* x, float* y);      // y = alpha * x
void add_bias(const Exec& exec, int rows, int cols, const float* bias, float* y);    // y[r, c] += bias[c]
void sum_rows_accumulate(const Exec& exec, int rows, int cols, const float* x, float* out);  // out[c] += sum_r x[r, c]
double sum(const Exec& exec, int64_t n, const float* x);                             // host result

namespace cpu {
void fill(int64_t n, float value, float* y);
void copy(int64_t n, const float* x, float* y);
void add(int64_t n, const float* a, const float* b, float* y);
void axpy(int64_t n, float alpha, const float* x, float* y);
void scale(int64_t n, float alpha, const float* x, float* y);
void add_bias(int rows, int cols, const float* bias, float* y);
void sum_rows_accumulate(int rows, int cols, const float* x, float* out);
double sum(int64_t n, const float* x);
}  // namespace cpu

namespace cuda {
void fill(const Exec& exec, int64_t n, float value, float* y);
void copy(const Exec& exec, int64_t n, const float* x, float* y);
void add(const Exec& exec, int64_t n, const float* a, const float* b, float* y);
void axpy(const Exec& exec, int64_t n, float alpha, const float* x, float* y);
void scale(const Exec& exec, int64_t n, float alpha, const float* x, float* y);
void add_bias(const Exec& exec, int rows, int cols, const float* bias, float* y);
void sum_rows_accumulate(const Exec& exec, int rows, int cols, const float* x, float* out);
double sum(const Exec& exec, int64_t n, const float* x);
}  // namespace cuda

}  // namespace convoy::kernels
