// CUDA multi-tensor SGD (contract in kernels/sgd.h): one launch updates a whole parameter
// list. The tensor descriptors travel as a kernel argument (a table of up to
// kMaxTensorsPerLaunch pointers and sizes, ~6 KB, within the 32 KB that CUDA 12.1+
// allows on Volta and later), so no host-to-device copy precedes the update. Each tensor
// is cut into chunks of kChunk elements; `first_block` is the running count of chunks, and
// each block finds its tensor by binary search over it (uniform across the block, so
// the table reads are broadcasts). Inside a chunk consecutive threads take consecutive
// elements (coalesced). Lists longer than the table take one launch per table-full.
// Bound by memory bandwidth: 12 bytes read and 8 written per element (param, grad, buf).
#include <cuda_runtime.h>

#include "kernels/cuda/ops_launch.cuh"
#include "kernels/sgd.h"

namespace convoy::kernels::cuda {

namespace {

constexpr int kMaxTensorsPerLaunch = 160;
constexpr int kChunk = 4096;  // elements per block: 16 per thread at 256 threads
constexpr int kSgdBlock = 256;

struct SgdTable {
  float* param[kMaxTensorsPerLaunch];
  const float* grad[kMaxTensorsPerLaunch];
  float* buf[kMaxTensorsPerLaunch];  // may be null only when momentum == 0
  int64_t n[kMaxTensorsPerLaunch];
  float weight_decay[kMaxTensorsPerLaunch];
  int first_block[kMaxTensorsPerLaunch + 1];  // first_block[count] = total blocks
  int count;
};

__global__ void sgd_multi_tensor_kernel(const __grid_constant__ SgdTable table, float lr, float momentum,
                                        bool nesterov) {
  const int block = blockIdx.x;
  int lo = 0, hi = table.count - 1;  // the last t with first_block[t] <= block
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table.first_block[mid] <= block)
      lo = mid;
    else
      hi = mid - 1;
  }
  const int t = lo;
  const int64_t begin = static_cast<int64_t>(block - table.first_block[t]) * kChunk;
  const int64_t end = table.n[t] - begin < kChunk ? table.n[t] : begin + kChunk;
  float* w = table.param[t];
  const float* grad = table.grad[t];
  float* buf = table.buf[t];
  const float wd = table.weight_decay[t];
  if (buf) {
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const float g = grad[i] + wd * w[i];
      const float b = momentum * buf[i] + g;
      buf[i] = b;
      w[i] -= lr * (nesterov ? g + momentum * b : b);
    }
  } else {
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) w[i] -= lr * (grad[i] + wd * w[i]);
  }
}

void check(const SgdHyper& h, const SgdTensor* tensors, int count) {
  if (count < 0) fail("cuda::sgd_update: negative tensor count ", count);
  if (count > 0 && !tensors) fail("cuda::sgd_update: null tensor list for ", count, " tensors");
  for (int t = 0; t < count; ++t) {
    const SgdTensor& p = tensors[t];
    if (p.n < 0) fail("cuda::sgd_update: tensor ", t, " has negative size ", p.n);
    if (p.n > 0 && (!p.param || !p.grad)) fail("cuda::sgd_update: tensor ", t, " has no param or grad pointer");
    if (p.n > 0 && !p.momentum_buf && h.momentum != 0.0f)
      fail("cuda::sgd_update: tensor ", t, " has no momentum buffer but momentum is ", h.momentum);
  }
}

}  // namespace

void sgd_update(const Exec& exec, const SgdHyper& h, const SgdTensor* tensors, int count) {
  check(h, tensors, count);
  DeviceGuard guard(exec.device);
  const cudaStream_t stream = stream_of(exec);
  SgdTable table{};
  auto flush = [&]() {
    if (table.count == 0) return;
    const int blocks = table.first_block[table.count];
    sgd_multi_tensor_kernel<<<blocks, kSgdBlock, 0, stream>>>(table, h.lr, h.momentum, h.nesterov);
    CONVOY_CUDA_CHECK_LAUNCH("sgd_multi_tensor_kernel");
    table.count = 0;
  };
  for (int t = 0; t < count; ++t) {
    const SgdTensor& p = tensors[t];
    if (p.n == 0) continue;
    const int64_t chunks = (p.n + kChunk - 1) / kChunk;
    if (chunks > (int64_t{1} << 30)) fail("cuda::sgd_update: tensor ", t, " of ", p.n, " elements is too large");
    if (table.count == kMaxTensorsPerLaunch ||
        table.first_block[table.count] + chunks > (int64_t{1} << 30))
      flush();
    const int k = table.count;
    table.param[k] = p.param;
    table.grad[k] = p.grad;
    table.buf[k] = p.momentum_buf;
    table.n[k] = p.n;
    table.weight_decay[k] = h.weight_decay * p.weight_decay_scale;
    table.first_block[k + 1] = table.first_block[k] + static_cast<int>(chunks);
    table.count = k + 1;
  }
  flush();
}

}  // namespace convoy::kernels::cuda
