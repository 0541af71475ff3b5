// SGEMM through cuBLAS, the vendor yardstick (Impl::vendor). Row-major C = op(A) op(B) is
// column-major C^T = op(B)^T op(A)^T, so cuBLAS is called with A and B swapped and the
// same transpose flags. One handle per device, bound to the exec's stream on each call.
// Math mode: CUBLAS_PEDANTIC_MATH, so cuBLAS computes in plain FP32 (no TF32 tensor ops,
// even under NVIDIA_TF32_OVERRIDE): the comparison with our FP32 kernels is like for like.
#include <array>
#include <mutex>

#include <cublas_v2.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_variants.h"

namespace convoy::kernels::cuda {
namespace {

#define CONVOY_CUBLAS_CHECK(call)                                                             \
  do {                                                                                        \
    cublasStatus_t convoy_st_ = (call);                                                       \
    if (convoy_st_ != CUBLAS_STATUS_SUCCESS)                                                  \
      fail(__FILE__, ":", __LINE__, ": cuBLAS call ", #call, " failed: ",                     \
           cublasGetStatusName(convoy_st_), " (", cublasGetStatusString(convoy_st_), ")");    \
  } while (0)

cublasHandle_t handle_for(int device) {
  static std::mutex mutex;
  static std::array<cublasHandle_t, 64> handles{};
  if (device < 0 || device >= static_cast<int>(handles.size())) fail("cuBLAS: bad device index ", device);
  std::lock_guard<std::mutex> lock(mutex);
  if (!handles[device]) {
    int previous = 0;
    CONVOY_CUDA_CHECK(cudaGetDevice(&previous));
    CONVOY_CUDA_CHECK(cudaSetDevice(device));
    cublasHandle_t h = nullptr;
    CONVOY_CUBLAS_CHECK(cublasCreate(&h));
    CONVOY_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH));
    CONVOY_CUDA_CHECK(cudaSetDevice(previous));
    handles[device] = h;  // kept for the life of the process
  }
  return handles[device];
}

}  // namespace

void sgemm_cublas(const Exec& exec, const GemmArgs& a) {
  if (a.M <= 0 || a.N <= 0) return;
  int previous = 0;
  CONVOY_CUDA_CHECK(cudaGetDevice(&previous));
  if (previous != exec.device) CONVOY_CUDA_CHECK(cudaSetDevice(exec.device));
  cublasHandle_t h = handle_for(exec.device);
  CONVOY_CUBLAS_CHECK(cublasSetStream(h, static_cast<cudaStream_t>(exec.stream)));
  const cublasOperation_t op_a = a.trans_a == Trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = a.trans_b == Trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
  // K == 0: cuBLAS scales C by beta (and does not read C when beta == 0), as our contract says.
  CONVOY_CUBLAS_CHECK(cublasSgemm(h, op_b, op_a, a.N, a.M, a.K, &a.alpha, a.B, a.ldb, a.A, a.lda, &a.beta, a.C,
                                  a.ldc));
  if (previous != exec.device) CONVOY_CUDA_CHECK(cudaSetDevice(previous));
}

}  // namespace convoy::kernels::cuda
