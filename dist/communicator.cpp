#include "dist/communicator.h"

#include <cstdlib>
#include <string>

#include "engine/error.h"

namespace convoy::dist {
namespace {

// The first of `names` that is set and parses as an integer, else `fallback`.
int env_int(std::initializer_list<const char*> names, int fallback, bool* found = nullptr) {
  for (const char* name : names) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long x = std::strtol(v, &end, 10);
    if (*end != '\0' || x < 0)
      fail("environment variable ", name, "='", v, "' is not a rank or size; check how the job was launched");
    if (found) *found = true;
    return static_cast<int>(x);
  }
  return fallback;
}

class LocalPending final : public PendingReduce {
 public:
  bool test() override { return true; }
  void wait() override {}
};

class LocalCommunicator final : public Communicator {
 public:
  LocalCommunicator() : Communicator(LaunchInfo{}) {}
  std::string_view backend() const override { return "local"; }
  std::unique_ptr<PendingReduce> start_allreduce(const kernels::Exec&, Tensor&) override {
    return std::make_unique<LocalPending>();
  }
  void allreduce_sum_host(std::vector<double>&) override {}
  void broadcast(Tensor&, int root) override {
    if (root != 0) fail("broadcast from rank ", root, " in a one-process job");
  }
  void barrier() override {}
};

}  // namespace

LaunchInfo launch_info() {
  LaunchInfo info;
  bool launched = false;
  info.rank = env_int({"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}, 0, &launched);
  info.world_size = env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}, 1);
  info.local_rank = env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"}, info.rank);
  info.local_size = env_int({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}, info.world_size);
  info.launched = launched;
  if (info.world_size < 1 || info.rank >= info.world_size)
    fail("the MPI launcher says rank ", info.rank, " of ", info.world_size, " processes; check how the job was launched");
  return info;
}

std::string rank_tag() {
  try {
    const LaunchInfo info = launch_info();
    return info.world_size > 1 ? "[rank " + std::to_string(info.rank) + "] " : "";
  } catch (const Error&) {
    return "";
  }
}

const char* to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::bucket_started: return "bucket_started";
    case TraceKind::bucket_finished: return "bucket_finished";
    case TraceKind::layer_backward_done: return "layer_backward_done";
  }
  return "?";
}

void OverlapTrace::record(TraceKind kind, int id, uint64_t step) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_back({kind, id, step});
}

std::vector<TraceEntry> OverlapTrace::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_;
}

void OverlapTrace::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

std::unique_ptr<PendingReduce> Communicator::allreduce_sum_async(const kernels::Exec& exec, Tensor& t) {
  if (t.dtype() != DType::f32 && t.dtype() != DType::f16 && t.dtype() != DType::bf16)
    fail("cannot allreduce ", to_string(t.dtype()), " tensor ", t.shape().to_string(),
         ": only float32, float16 and bfloat16 are summed");
  return start_allreduce(exec, t);
}

void Communicator::allreduce_sum(Tensor& t) {
  kernels::Exec exec = exec_for(t.device());
  allreduce_sum_async(exec, t)->wait();
}

std::unique_ptr<Communicator> make_local_communicator() { return std::make_unique<LocalCommunicator>(); }

std::unique_ptr<Communicator> make_communicator(std::string_view backend, Device device) {
  if (backend == "local") {
    const LaunchInfo info = launch_info();
    if (info.world_size > 1)
      fail_option("dist", "local in a job of ", info.world_size, " processes: every rank would train alone; use auto");
    return make_local_communicator();
  }
  if (backend == "mpi") return make_mpi_communicator();
  if (backend == "nccl") return make_nccl_communicator(device);
  if (backend != "auto") fail_option("dist", "'", backend, "': use auto, local, mpi or nccl");
  const LaunchInfo info = launch_info();
  if (info.world_size == 1) return make_local_communicator();
  if (device.is_cuda() && nccl_built()) return make_nccl_communicator(device);
  if (!mpi_built())
    fail("this job has ", info.world_size, " processes but convoy was built without MPI; rebuild with "
         "-DCONVOY_ENABLE_MPI=ON (Debian: libopenmpi-dev)");
  return make_mpi_communicator();
}

Device device_for_rank(Device requested, bool index_given, const LaunchInfo& info) {
  if (!requested.is_cuda() || index_given) return requested;
  const int visible = cuda_device_count();
  if (visible <= 0) return requested;  // the caller reports the missing device
  return Device::cuda(info.local_rank % visible);
}

}  // namespace convoy::dist
