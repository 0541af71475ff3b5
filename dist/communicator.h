// Communicators for data-parallel training: one process (no MPI at run time), MPI (host
// buffers; GPU tensors are staged through the host) and NCCL (device buffers on a
// communication stream, its unique id broadcast over MPI).
//
// A communicator is the engine's Collective (blocking sums for synchronised batch-norm)
// plus what the gradient buckets and the trainer need: a non-blocking allreduce that
// returns a handle, host-side sums for metrics, a broadcast for the initial weights, and
// an event log (bucket started/finished, layer backward finished) from which a test
// proves that communication overlapped backward without timing anything.
//
// No header here includes mpi.h or nccl.h: the implementations live in *_mpi.cpp and
// *_nccl.cpp, chosen by CMake, and their stand-ins (*_nompi.cpp, *_nonccl.cpp) explain
// what was built without.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/collective.h"
#include "engine/context.h"
#include "engine/tensor.h"
#include "kernels/half.h"

namespace convoy::dist {

// Where this process sits in the job, as the launcher tells it (mpirun sets
// OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK,LOCAL_SIZE}; PMI/PMIx and Slurm variables are read
// too). Without a launcher: rank 0 of 1, and MPI is never initialised.
struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;   // rank among the processes of this host: picks the GPU
  int local_size = 1;
  bool launched = false;  // started by an MPI launcher (even with -np 1)
};
LaunchInfo launch_info();
// "[rank 1] " when the job has more than one process, "" otherwise (for error lines).
std::string rank_tag();
// Ends the whole job when it has more than one process (MPI_Abort with `code`); returns
// when there is nothing to abort. For tools after a fatal error, so no rank waits forever.
void abort_job_if_distributed(int code);

// Which MPI/NCCL support this build has.
bool mpi_built();
bool nccl_built();

enum class TraceKind { bucket_started, bucket_finished, layer_backward_done };
const char* to_string(TraceKind kind);

struct TraceEntry {
  TraceKind kind;
  int id;         // bucket index or top-level layer index
  uint64_t step;  // training step it belongs to
};

// When gradient buckets started and finished against the layers' backward passes, in the
// order this rank observed them (the overlap tests and profiling read it).
class OverlapTrace {
 public:
  void record(TraceKind kind, int id, uint64_t step);
  std::vector<TraceEntry> snapshot() const;
  void clear();
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }

 private:
  mutable std::mutex mutex_;
  std::vector<TraceEntry> entries_;
  bool enabled_ = false;  // off by default: tests and profiling switch it on
};

// A started non-blocking allreduce. wait() completes it (sum in the buffer); test()
// advances it and says whether it is complete (MPI needs such calls to make progress).
class PendingReduce {
 public:
  virtual ~PendingReduce() = default;
  virtual bool test() = 0;
  virtual void wait() = 0;
};

class Communicator : public Collective {
 public:
  int rank() const override { return info_.rank; }
  int world_size() const override { return info_.world_size; }
  int local_rank() const { return info_.local_rank; }
  const LaunchInfo& info() const { return info_; }
  virtual std::string_view backend() const = 0;  // "local", "mpi", "nccl"

  // Starts summing `t` in place across ranks. `t` holds float32, or float16/bfloat16
  // (compressed gradient buckets, kernels/half.h), whose pairwise sums are formed in float and
  // rounded back to 16 bits. With a CUDA tensor the sum is ordered after the work already
  // queued on `exec`'s stream, and wait() orders later work after it. `t` must stay alive and
  // untouched until the reduce completes.
  std::unique_ptr<PendingReduce> allreduce_sum_async(const kernels::Exec& exec, Tensor& t);
  void allreduce_sum(Tensor& t) override;
  // Host values (metrics: loss sums, counts), in place.
  void allreduce_sum_host(std::vector<double>& values) override = 0;
  // Copies `t` from rank `root` to every rank (initial weights).
  virtual void broadcast(Tensor& t, int root) = 0;
  virtual void barrier() = 0;

  OverlapTrace& trace() { return trace_; }

  // How long a collective may wait for the other ranks (--collective-timeout); 0 = for ever.
  // A rank that waits longer fails with an error naming itself and the collective, and the
  // tool then ends the whole job (abort_job_if_distributed): a stalled or lost rank does not
  // hang the others. Honoured by the MPI communicator; the NCCL one ignores it so far.
  void set_timeout(double seconds) { timeout_s_ = seconds; }
  double timeout() const { return timeout_s_; }

 protected:
  // The backend's non-blocking sum of all of `t` (float32, float16 or bfloat16).
  virtual std::unique_ptr<PendingReduce> start_allreduce(const kernels::Exec& exec, Tensor& t) = 0;
  explicit Communicator(LaunchInfo info) : info_(info) {}
  LaunchInfo info_;
  OverlapTrace trace_;
  double timeout_s_ = 0;
};

// The default of --collective-timeout, in seconds: far beyond any step or evaluation of the
// shipped models, short enough that a stalled job is not left holding machines for hours.
inline constexpr double kDefaultCollectiveTimeoutS = 600;

// backend: "auto" (local for one process, else nccl for a CUDA device when built, else
// mpi), "local", "mpi" or "nccl". `device` is where the training tensors live.
std::unique_ptr<Communicator> make_communicator(std::string_view backend, Device device);

// The single-process communicator: sums over one rank are the identity.
std::unique_ptr<Communicator> make_local_communicator();
// Both need a build with MPI (and NCCL); they fail with a message saying so otherwise.
std::unique_ptr<Communicator> make_mpi_communicator();
std::unique_ptr<Communicator> make_nccl_communicator(Device device);

// The device this rank trains on: a CUDA request without an explicit index ("cuda")
// becomes cuda:(local_rank mod visible devices); the CPU stays the CPU.
Device device_for_rank(Device requested, bool index_given, const LaunchInfo& info);

}  // namespace convoy::dist
