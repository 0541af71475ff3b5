// The NCCL communicator (device buffers). Built with the CUDA backend when CMake finds
// NCCL (CONVOY_NCCL_HINT points at a pip wheel's nvidia/nccl when it is not in the
// toolkit). Rank 0 makes the unique id and MPI broadcasts it; each rank drives the GPU
// its local rank picked. Allreduces run on a communication stream of their own: a
// bucket's reduce waits (on the GPU, through an event) for the backward work queued
// before it on the compute stream, and wait() makes the compute stream wait for the
// reduce, so the host never blocks and backward keeps running beside the transfers.
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include "dist/communicator.h"
#include "dist/mpi_runtime.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"

namespace convoy::dist {
namespace {

void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("CUDA ", what, " failed: ", cudaGetErrorString(e));
}

void check_nccl(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) fail("NCCL ", what, " failed: ", ncclGetErrorString(r));
}

cudaStream_t stream_of(const kernels::Exec& exec) {
  return static_cast<cudaStream_t>(exec.stream ? exec.stream : cuda_backend::default_stream(exec.device));
}

class NcclPending final : public PendingReduce {
 public:
  NcclPending(cudaEvent_t done, cudaStream_t compute) : done_(done), compute_(compute) {}
  ~NcclPending() override { cudaEventDestroy(done_); }
  bool test() override {
    const cudaError_t e = cudaEventQuery(done_);
    if (e == cudaErrorNotReady) return false;
    check_cuda(e, "event query (allreduce)");
    return true;
  }
  void wait() override {
    if (waited_) return;
    check_cuda(cudaStreamWaitEvent(compute_, done_, 0), "stream wait (allreduce)");
    waited_ = true;
  }

 private:
  cudaEvent_t done_;
  cudaStream_t compute_;
  bool waited_ = false;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(LaunchInfo info, Device device) : Communicator(info), device_(device) {
    if (!device.is_cuda()) fail_option("dist", "nccl needs a CUDA device; use mpi on the CPU");
    host_ = make_mpi_communicator();  // metrics and the unique id travel over MPI
    info_ = host_->info();
    cuda_backend::set_device(device.index);
    ncclUniqueId id;
    if (info_.rank == 0) check_nccl(ncclGetUniqueId(&id), "GetUniqueId");
    if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
      fail("MPI broadcast of the NCCL unique id failed");
    check_nccl(ncclCommInitRank(&comm_, info_.world_size, id, info_.rank), "CommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&comm_stream_, cudaStreamNonBlocking), "stream create");
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
    if (comm_stream_) cudaStreamDestroy(comm_stream_);
  }
  std::string_view backend() const override { return "nccl"; }

  std::unique_ptr<PendingReduce> start_allreduce(const kernels::Exec& exec, Tensor& t) override {
    if (!t.device().is_cuda()) fail("NCCL allreduce of a host tensor; NCCL reduces device buffers only");
    cudaStream_t compute = stream_of(exec);
    cudaEvent_t ready, done;
    check_cuda(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), "event create");
    check_cuda(cudaEventRecord(ready, compute), "event record");
    check_cuda(cudaStreamWaitEvent(comm_stream_, ready, 0), "stream wait");
    cudaEventDestroy(ready);
    const ncclDataType_t dtype = t.dtype() == DType::f32   ? ncclFloat
                                 : t.dtype() == DType::f16 ? ncclFloat16
                                                           : ncclBfloat16;
    check_nccl(ncclAllReduce(t.untyped_data(), t.untyped_data(), static_cast<size_t>(t.numel()), dtype, ncclSum, comm_,
                             comm_stream_),
               "AllReduce");
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "event create");
    check_cuda(cudaEventRecord(done, comm_stream_), "event record");
    return std::make_unique<NcclPending>(done, compute);
  }

  void allreduce_sum_host(std::vector<double>& values) override { host_->allreduce_sum_host(values); }

  void broadcast(Tensor& t, int root) override {
    if (!t.device().is_cuda()) {
      host_->broadcast(t, root);
      return;
    }
    cuda_backend::synchronize(t.device().index);
    check_nccl(ncclBroadcast(t.data(), t.data(), static_cast<size_t>(t.numel()), ncclFloat, root, comm_,
                             comm_stream_),
               "Broadcast");
    check_cuda(cudaStreamSynchronize(comm_stream_), "stream synchronize (broadcast)");
  }

  void barrier() override { host_->barrier(); }

 private:
  Device device_;
  std::unique_ptr<Communicator> host_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t comm_stream_ = nullptr;
};

}  // namespace

bool nccl_built() { return true; }

std::unique_ptr<Communicator> make_nccl_communicator(Device device) {
  return std::make_unique<NcclCommunicator>(launch_info(), device);
}

}  // namespace convoy::dist
