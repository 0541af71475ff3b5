// Convolutions through cuDNN, the vendor yardstick (Impl::vendor). Descriptors and the
// chosen algorithms are cached per (device, shape). Algorithms come from cuDNN's
// heuristics (cudnnGet*Algorithm_v7), keeping the first that runs in plain FP32 (the
// convolution descriptor is set to CUDNN_FMA_MATH: no TF32 tensor ops) and, for the two
// backward ops, is deterministic. Workspaces come from the Exec (kernels/exec.h). Backward
// weights accumulates by beta = 1, as the contract says; bias goes through cudnnAddTensor.
// cuDNN 9 marks this legacy API deprecated but ships it; the warnings are silenced here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <cudnn.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "kernels/cuda/conv2d_variants.h"
#include "kernels/cuda/cuda_check.h"

namespace convoy::kernels::cuda {
namespace {

#define CONVOY_CUDNN_CHECK(call)                                                                      \
  do {                                                                                                \
    cudnnStatus_t convoy_st_ = (call);                                                                \
    if (convoy_st_ != CUDNN_STATUS_SUCCESS)                                                           \
      fail(__FILE__, ":", __LINE__, ": cuDNN call ", #call, " failed: ", cudnnGetErrorString(convoy_st_)); \
  } while (0)

bool plain_fp32(cudnnMathType_t t) { return t == CUDNN_DEFAULT_MATH || t == CUDNN_FMA_MATH; }

// Picks from heuristic results (best first): plain FP32, deterministic if asked, runnable.
template <typename Perf>
Perf pick(const Perf* perf, int count, bool need_deterministic, const char* op) {
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && plain_fp32(perf[i].mathType) &&
        (!need_deterministic || perf[i].determinism == CUDNN_DETERMINISTIC))
      return perf[i];
  fail("cuDNN ", op, ": no plain-FP32", need_deterministic ? " deterministic" : "", " algorithm for this shape");
}

struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  bool has_fwd = false, has_bwd_data = false, has_bwd_filter = false;
  cudnnConvolutionFwdAlgoPerf_t fwd{};
  cudnnConvolutionBwdDataAlgoPerf_t bwd_data{};
  cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter{};
};

using Key = std::tuple<int, int, int, int, int, int, int, int, int, int, int, int>;

struct CudnnState {
  std::mutex mutex;
  cudnnHandle_t handles[64] = {};
  std::map<Key, std::unique_ptr<ConvPlan>> plans;  // kept for the life of the process
};

CudnnState& state() {
  static auto* s = new CudnnState();
  return *s;
}

// Sets the device for the call, binds the device's handle to the exec stream and returns
// the plan for the shape. The caller holds the state's lock for the whole call.
struct Session {
  cudnnHandle_t handle;
  ConvPlan* plan;
  cudaStream_t stream;
};

Session open(const Exec& exec, const Conv2dShape& s) {
  CudnnState& st = state();
  if (exec.device < 0 || exec.device >= 64) fail("cuDNN: bad device index ", exec.device);
  CONVOY_CUDA_CHECK(cudaSetDevice(exec.device));
  if (!st.handles[exec.device]) CONVOY_CUDNN_CHECK(cudnnCreate(&st.handles[exec.device]));
  cudnnHandle_t h = st.handles[exec.device];
  const auto stream = static_cast<cudaStream_t>(exec.stream);
  CONVOY_CUDNN_CHECK(cudnnSetStream(h, stream));
  Key key{exec.device, s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride_h, s.stride_w, s.pad_h, s.pad_w};
  auto& slot = st.plans[key];
  if (!slot) {
    auto p = std::make_unique<ConvPlan>();
    CONVOY_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
    CONVOY_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
    CONVOY_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->bias));
    CONVOY_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
    CONVOY_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
    CONVOY_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.N, s.C, s.H, s.W));
    CONVOY_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.N, s.K, s.P(), s.Q()));
    CONVOY_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, s.K, 1, 1));
    CONVOY_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s.K, s.C, s.R, s.S));
    CONVOY_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, s.pad_h, s.pad_w, s.stride_h, s.stride_w, 1, 1,
                                                       CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CONVOY_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, CUDNN_FMA_MATH));
    slot = std::move(p);
  }
  return {h, slot.get(), stream};
}

constexpr int kMaxAlgos = 16;

}  // namespace

void conv2d_forward_cudnn(const Exec& exec, const Conv2dShape& s, const float* x, const float* w,
                          const float* bias, float* y) {
  std::lock_guard<std::mutex> lock(state().mutex);
  Session ses = open(exec, s);
  ConvPlan& p = *ses.plan;
  if (!p.has_fwd) {
    cudnnConvolutionFwdAlgoPerf_t perf[kMaxAlgos];
    int n = 0;
    CONVOY_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(ses.handle, p.x, p.w, p.conv, p.y, kMaxAlgos, &n, perf));
    p.fwd = pick(perf, n, false, "forward");
    CONVOY_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(ses.handle, p.x, p.w, p.conv, p.y, p.fwd.algo,
                                                               &p.fwd.memory));
    p.has_fwd = true;
  }
  ScratchBuffer ws(exec, p.fwd.memory);
  const float one = 1.0f, zero = 0.0f;
  CONVOY_CUDNN_CHECK(cudnnConvolutionForward(ses.handle, &one, p.x, x, p.w, w, p.conv, p.fwd.algo, ws.as<void>(),
                                             ws.bytes(), &zero, p.y, y));
  if (bias) CONVOY_CUDNN_CHECK(cudnnAddTensor(ses.handle, &one, p.bias, bias, &one, p.y, y));
}

void conv2d_backward_data_cudnn(const Exec& exec, const Conv2dShape& s, const float* dy, const float* w,
                                float* dx) {
  std::lock_guard<std::mutex> lock(state().mutex);
  Session ses = open(exec, s);
  ConvPlan& p = *ses.plan;
  if (!p.has_bwd_data) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kMaxAlgos];
    int n = 0;
    CONVOY_CUDNN_CHECK(
        cudnnGetConvolutionBackwardDataAlgorithm_v7(ses.handle, p.w, p.y, p.conv, p.x, kMaxAlgos, &n, perf));
    p.bwd_data = pick(perf, n, true, "backward data");
    CONVOY_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(ses.handle, p.w, p.y, p.conv, p.x,
                                                                    p.bwd_data.algo, &p.bwd_data.memory));
    p.has_bwd_data = true;
  }
  ScratchBuffer ws(exec, p.bwd_data.memory);
  const float one = 1.0f, zero = 0.0f;
  CONVOY_CUDNN_CHECK(cudnnConvolutionBackwardData(ses.handle, &one, p.w, w, p.y, dy, p.conv, p.bwd_data.algo,
                                                  ws.as<void>(), ws.bytes(), &zero, p.x, dx));
}

void conv2d_backward_weights_cudnn(const Exec& exec, const Conv2dShape& s, const float* x, const float* dy,
                                   float* dw, float* dbias) {
  std::lock_guard<std::mutex> lock(state().mutex);
  Session ses = open(exec, s);
  ConvPlan& p = *ses.plan;
  if (!p.has_bwd_filter) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kMaxAlgos];
    int n = 0;
    CONVOY_CUDNN_CHECK(
        cudnnGetConvolutionBackwardFilterAlgorithm_v7(ses.handle, p.x, p.y, p.conv, p.w, kMaxAlgos, &n, perf));
    p.bwd_filter = pick(perf, n, true, "backward filter");
    CONVOY_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(ses.handle, p.x, p.y, p.conv, p.w,
                                                                      p.bwd_filter.algo, &p.bwd_filter.memory));
    p.has_bwd_filter = true;
  }
  ScratchBuffer ws(exec, p.bwd_filter.memory);
  const float one = 1.0f;
  CONVOY_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ses.handle, &one, p.x, x, p.y, dy, p.conv, p.bwd_filter.algo,
                                                    ws.as<void>(), ws.bytes(), &one, p.w, dw));
  if (dbias) CONVOY_CUDNN_CHECK(cudnnConvolutionBackwardBias(ses.handle, &one, p.y, dy, &one, p.bias, dbias));
}

}  // namespace convoy::kernels::cuda
