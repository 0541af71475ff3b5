// MPI's process-wide life cycle: initialised on first use (threads: funneled, only the
// main thread calls MPI), finalised at exit. Used by the MPI and NCCL communicators only.
#pragma once

namespace convoy::dist {

void ensure_mpi_initialized();
bool mpi_initialized();
bool mpi_finalized();

}  // namespace convoy::dist
