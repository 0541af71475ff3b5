// CUDA element-wise helpers. All of them are bound by memory bandwidth (one or two loads
// and one store per element, no reuse), so the mapping is the simplest coalesced one: a
// grid-stride loop with consecutive threads on consecutive elements. y may alias an input
// (in-place use), so no pointer is __restrict__.
#include <cuda_runtime.h>

#include "kernels/cuda/ops_launch.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/elementwise.h"

namespace convoy::kernels::cuda {

namespace {

struct FillOp {
  float value;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = value; }
};
struct AddOp {
  const float* a;
  const float* b;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] + b[i]; }
};
struct AxpyOp {
  float alpha;
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] += alpha * x[i]; }
};
struct ScaleOp {
  float alpha;
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = alpha * x[i]; }
};
// y[r, c] += bias[c] over the flattened (rows, cols) array.
struct AddBiasOp {
  int64_t cols;
  const float* bias;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] += bias[i % cols]; }
};

void check_ptrs(int64_t n, const char* op, const void* a, const void* b = reinterpret_cast<const void*>(1),
                const void* c = reinterpret_cast<const void*>(1)) {
  ops::check_count(n, op);
  if (n > 0 && (a == nullptr || b == nullptr || c == nullptr)) fail(op, ": null pointer for ", n, " elements");
}

// Column sums, out[c] += sum_r x[r, c]. Block (32, 8): threadIdx.x picks the column so a
// warp reads 32 consecutive floats of a row (coalesced); the 8 rows of threads walk the
// rows 8 apart, then fold their 8 partials in shared memory in a fixed order. One block
// per 32 columns; bound by reading x once.
constexpr int kColTile = 32, kRowThreads = 8;
__global__ void sum_rows_accumulate_kernel(int rows, int cols, const float* x, float* out) {
  __shared__ float partial[kRowThreads][kColTile + 1];
  const int c = blockIdx.x * kColTile + threadIdx.x;
  float acc = 0.0f;
  if (c < cols)
    for (int r = threadIdx.y; r < rows; r += kRowThreads) acc += x[static_cast<int64_t>(r) * cols + c];
  partial[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float total = 0.0f;
    for (int k = 0; k < kRowThreads; ++k) total += partial[k][threadIdx.x];
    out[c] += total;
  }
}

// Sum, first pass: a fixed number of blocks (a function of n only, so the reduction tree
// is the same on every run) accumulate grid-strided elements in double, then one block
// partial each. Second pass: one block folds the partials. Bound by reading x once.
constexpr int kSumBlock = 512, kSumMaxBlocks = 1024;
__global__ void sum_partials_kernel(int64_t n, const float* x, double* partial) {
  __shared__ double shared[kWarpSize];
  double acc = 0.0;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) acc += x[i];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void sum_final_kernel(int count, const double* partial, double* out) {
  __shared__ double shared[kWarpSize];
  double acc = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) *out = acc;
}

}  // namespace

void fill(const Exec& exec, int64_t n, float value, float* y) {
  check_ptrs(n, "cuda::fill", y);
  ops::for_each(exec, n, FillOp{value, y}, "fill");
}

void copy(const Exec& exec, int64_t n, const float* x, float* y) {
  check_ptrs(n, "cuda::copy", x, y);
  if (n == 0 || x == y) return;
  DeviceGuard guard(exec.device);
  CONVOY_CUDA_CHECK(cudaMemcpyAsync(y, x, static_cast<size_t>(n) * sizeof(float), cudaMemcpyDeviceToDevice,
                                  stream_of(exec)));
}

void add(const Exec& exec, int64_t n, const float* a, const float* b, float* y) {
  check_ptrs(n, "cuda::add", a, b, y);
  ops::for_each(exec, n, AddOp{a, b, y}, "add");
}

void axpy(const Exec& exec, int64_t n, float alpha, const float* x, float* y) {
  check_ptrs(n, "cuda::axpy", x, y);
  ops::for_each(exec, n, AxpyOp{alpha, x, y}, "axpy");
}

void scale(const Exec& exec, int64_t n, float alpha, const float* x, float* y) {
  check_ptrs(n, "cuda::scale", x, y);
  ops::for_each(exec, n, ScaleOp{alpha, x, y}, "scale");
}

void add_bias(const Exec& exec, int rows, int cols, const float* bias, float* y) {
  if (rows < 0 || cols < 0) fail("cuda::add_bias: negative shape rows=", rows, " cols=", cols);
  const int64_t n = static_cast<int64_t>(rows) * cols;
  check_ptrs(n, "cuda::add_bias", bias, y);
  ops::for_each(exec, n, AddBiasOp{cols, bias, y}, "add_bias");
}

void sum_rows_accumulate(const Exec& exec, int rows, int cols, const float* x, float* out) {
  if (rows < 0 || cols < 0) fail("cuda::sum_rows_accumulate: negative shape rows=", rows, " cols=", cols);
  if (cols == 0) return;
  check_ptrs(cols, "cuda::sum_rows_accumulate", out, rows > 0 ? x : out);
  DeviceGuard guard(exec.device);
  const dim3 block(kColTile, kRowThreads);
  const unsigned blocks = static_cast<unsigned>((cols + kColTile - 1) / kColTile);
  sum_rows_accumulate_kernel<<<blocks, block, 0, stream_of(exec)>>>(rows, cols, x, out);
  CONVOY_CUDA_CHECK_LAUNCH("sum_rows_accumulate_kernel");
}

double sum(const Exec& exec, int64_t n, const float* x) {
  check_ptrs(n, "cuda::sum", x);
  if (n == 0) return 0.0;
  DeviceGuard guard(exec.device);
  const cudaStream_t stream = stream_of(exec);
  int64_t blocks64 = (n + kSumBlock * 8 - 1) / (kSumBlock * 8);  // ~8 elements per thread
  const int blocks = static_cast<int>(blocks64 < kSumMaxBlocks ? blocks64 : kSumMaxBlocks);
  ops::Scratch scratch(exec, sizeof(double) * (blocks + 1));
  double* partial = scratch.as<double>();
  sum_partials_kernel<<<blocks, kSumBlock, 0, stream>>>(n, x, partial);
  CONVOY_CUDA_CHECK_LAUNCH("sum_partials_kernel");
  sum_final_kernel<<<1, 1024, 0, stream>>>(blocks, partial, partial + blocks);
  CONVOY_CUDA_CHECK_LAUNCH("sum_final_kernel");
  double result = 0.0;
  CONVOY_CUDA_CHECK(cudaMemcpyAsync(&result, partial + blocks, sizeof(double), cudaMemcpyDeviceToHost, stream));
  CONVOY_CUDA_CHECK(cudaStreamSynchronize(stream));
  return result;
}

}  // namespace convoy::kernels::cuda
