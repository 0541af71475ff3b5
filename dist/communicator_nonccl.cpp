// Stand-in when convoy is built without NCCL (no CUDA backend, or NCCL not found).
#include "dist/communicator.h"
#include "engine/error.h"

namespace convoy::dist {

bool nccl_built() { return false; }

std::unique_ptr<Communicator> make_nccl_communicator(Device) {
  fail("convoy was built without NCCL (it needs the CUDA backend and NCCL; pass -DCONVOY_NCCL_HINT=<folder> "
       "when NCCL is only a pip wheel's nvidia/nccl); use --dist mpi");
}

}  // namespace convoy::dist
