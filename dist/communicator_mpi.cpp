// The MPI communicator (host buffers). Built when CMake finds MPI (CONVOY_ENABLE_MPI).
// MPI is initialised on first use, never for a one-process run, and finalised at exit.
// Non-blocking allreduces are MPI_Iallreduce; OpenMPI progresses them only inside MPI
// calls, so the gradient buckets call test() between layers to keep them moving.
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <thread>

#include "dist/communicator.h"
#include "dist/mpi_runtime.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "kernels/half.h"

namespace convoy::dist {
namespace {

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  fail("MPI ", what, " failed: ", std::string(text, len));
}

int checked_count(int64_t n, const char* what) {
  if (n > std::numeric_limits<int>::max())
    fail("MPI ", what, " of ", n, " values exceeds one MPI message; lower --bucket-mb");
  return static_cast<int>(n);
}

void synchronize_if_cuda(const Tensor& t) {
  if (t.device().is_cuda()) cuda_backend::synchronize(t.device().index);
}

// A host tensor to hand to MPI: `t` itself on the CPU, else a host copy (explicit staging).
Tensor host_view(const Tensor& t) {
  if (t.device().is_cpu()) return t;
  synchronize_if_cuda(t);
  return t.to(Device::cpu());
}

// Completes `request`, giving up after `timeout_s` (0 = never) with an error naming this rank
// and the collective. Polls MPI_Test (OpenMPI progresses only inside MPI calls): busily for
// the first 10 ms, as a blocking wait would, then once a millisecond, so a rank waiting on
// a stalled peer does not spin a core at 100%.
void wait_for(MPI_Request& request, const char* what, double timeout_s, int rank) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (;;) {
    int flag = 0;
    check_mpi(MPI_Test(&request, &flag, MPI_STATUS_IGNORE), what);
    if (flag) return;
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    if (timeout_s > 0 && waited > timeout_s)
      fail("rank ", rank, " waited ", std::round(waited * 10) / 10, " s in MPI ", what,
           " without the other ranks taking part (collective timeout ", timeout_s,
           " s): a rank has stalled, hung or gone; ending the job. A longer step or evaluation needs a larger "
           "--collective-timeout");
    if (waited > 0.01) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::vector<Tensor>& abandoned_buffers() {
  static auto* buffers = new std::vector<Tensor>();  // never freed on purpose
  return *buffers;
}

class MpiPending final : public PendingReduce {
 public:
  MpiPending(Tensor target, Tensor host, MPI_Request request, double timeout_s, int rank)
      : target_(std::move(target)), host_(std::move(host)), request_(request), timeout_s_(timeout_s), rank_(rank) {}
  ~MpiPending() override {
    // Abandoned (an exception unwound the step): waiting could hang on a failed peer, and
    // MPI may still write into the buffer, so keep the buffer alive until the job ends.
    if (!done_) abandoned_buffers().push_back(host_);
  }
  bool test() override {
    if (done_) return true;
    int flag = 0;
    check_mpi(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "Test (allreduce)");
    if (flag) finish();
    return done_;
  }
  void wait() override {
    if (done_) return;
    wait_for(request_, "Wait (allreduce)", timeout_s_, rank_);
    finish();
  }

 private:
  void finish() {
    done_ = true;
    if (target_.device().is_cuda()) target_.copy_from(host_);
  }
  Tensor target_, host_;
  MPI_Request request_;
  double timeout_s_ = 0;
  int rank_ = 0;
  bool done_ = false;
};

// MPI has no 16-bit float type: the buffers travel as MPI_UINT16_T under these user ops,
// which add in float and round back to nearest-even (the same conversions as the packing).
template <kernels::HalfFormat F>
void sum_16(void* in, void* inout, int* len, MPI_Datatype*) {
  kernels::cpu::accumulate_16(F, *len, static_cast<const uint16_t*>(in), static_cast<uint16_t*>(inout));
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(LaunchInfo info) : Communicator(info) {
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(comm_, &rank);
    MPI_Comm_size(comm_, &size);
    info_.rank = rank;
    info_.world_size = size;
    check_mpi(MPI_Op_create(&sum_16<kernels::HalfFormat::fp16>, 1, &sum_fp16_), "Op_create (fp16 sum)");
    check_mpi(MPI_Op_create(&sum_16<kernels::HalfFormat::bf16>, 1, &sum_bf16_), "Op_create (bf16 sum)");
  }
  ~MpiCommunicator() override {
    if (mpi_finalized()) return;
    MPI_Op_free(&sum_fp16_);
    MPI_Op_free(&sum_bf16_);
    MPI_Comm_free(&comm_);
  }
  std::string_view backend() const override { return "mpi"; }

  std::unique_ptr<PendingReduce> start_allreduce(const kernels::Exec&, Tensor& t) override {
    Tensor host = host_view(t);
    MPI_Request request;
    const bool f32 = t.dtype() == DType::f32;
    const MPI_Datatype dtype = f32 ? MPI_FLOAT : MPI_UINT16_T;
    const MPI_Op op = f32 ? MPI_SUM : t.dtype() == DType::f16 ? sum_fp16_ : sum_bf16_;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, host.untyped_data(), checked_count(t.numel(), "allreduce"), dtype, op,
                             comm_, &request),
              "Iallreduce");
    return std::make_unique<MpiPending>(t, host, request, timeout_s_, info_.rank);
  }

  // The blocking collectives are non-blocking ones completed by wait_for, so that they too
  // end at the collective timeout.
  void allreduce_sum_host(std::vector<double>& values) override {
    MPI_Request request;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values.data(), checked_count(values.size(), "allreduce"), MPI_DOUBLE,
                             MPI_SUM, comm_, &request),
              "Iallreduce (metrics)");
    wait_for(request, "Allreduce (metrics)", timeout_s_, info_.rank);
  }

  void broadcast(Tensor& t, int root) override {
    Tensor host = host_view(t);
    MPI_Request request;
    check_mpi(MPI_Ibcast(host.data(), checked_count(t.numel(), "broadcast"), MPI_FLOAT, root, comm_, &request),
              "Ibcast");
    wait_for(request, "Bcast", timeout_s_, info_.rank);
    if (t.device().is_cuda()) t.copy_from(host);
  }

  void barrier() override {
    MPI_Request request;
    check_mpi(MPI_Ibarrier(comm_, &request), "Ibarrier");
    wait_for(request, "Barrier", timeout_s_, info_.rank);
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Op sum_fp16_ = MPI_OP_NULL, sum_bf16_ = MPI_OP_NULL;
};

}  // namespace

bool mpi_built() { return true; }

std::unique_ptr<Communicator> make_mpi_communicator() {
  ensure_mpi_initialized();
  return std::make_unique<MpiCommunicator>(launch_info());
}

void abort_job_if_distributed(int code) {
  if (!mpi_initialized() || mpi_finalized()) return;  // mpirun ends the job when a process exits with an error
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

}  // namespace convoy::dist
