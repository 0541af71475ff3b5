#include <mpi.h>

#include <cstdlib>

#include "dist/mpi_runtime.h"
#include "engine/error.h"

namespace convoy::dist {
namespace {

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

bool mpi_initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

bool mpi_finalized() {
  int flag = 0;
  MPI_Finalized(&flag);
  return flag != 0;
}

void ensure_mpi_initialized() {
  if (mpi_finalized()) fail("MPI was already finalised in this process; create communicators before exit");
  if (mpi_initialized()) return;
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    fail("MPI_Init_thread failed; start the job with mpirun (OpenMPI) or run one process without it");
  std::atexit(finalize_at_exit);
}

}  // namespace convoy::dist
