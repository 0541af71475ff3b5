// Stand-ins when convoy is built without MPI: one process still trains (the local
// communicator); asking for MPI says how to get it.
#include "dist/communicator.h"
#include "engine/error.h"

namespace convoy::dist {

bool mpi_built() { return false; }

std::unique_ptr<Communicator> make_mpi_communicator() {
  fail("convoy was built without MPI; install OpenMPI (Debian: libopenmpi-dev) and rebuild with "
       "-DCONVOY_ENABLE_MPI=ON");
}

void abort_job_if_distributed(int) {}

}  // namespace convoy::dist
