// Shared by the dist/ tests. The suite runs twice in CI: as ordinary single-process tests
// (ctest discovers them; the ones that need two ranks skip) and as one job under
// `mpirun -np 2` (the dist_mpi_np2 test), where both ranks run every test in the same
// order. Tests that talk across ranks must reach every collective call on every rank, so
// they check with EXPECT_* (never ASSERT_* before a collective).
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dist/communicator.h"
#include "engine/tensor.h"
#include "tests/common/test_util.h"

namespace convoy::test {

// The job's MPI communicator, made once; nullptr when this process runs alone.
inline dist::Communicator* world() {
  static std::unique_ptr<dist::Communicator> comm = [] {
    std::unique_ptr<dist::Communicator> c;
    if (dist::launch_info().world_size > 1) c = dist::make_mpi_communicator();
    return c;
  }();
  return comm.get();
}

#define CONVOY_NEEDS_RANKS()                                                     \
  if (!::convoy::test::world()) GTEST_SKIP() << "needs a job of 2 or more ranks " \
                                                "(ctest runs it as dist_mpi_np2 under mpirun -np 2)"

inline Tensor random_tensor(Shape shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  const auto n = static_cast<size_t>(shape.numel());
  return Tensor::from_vector(shape, random_vector(n, seed, lo, hi));
}

}  // namespace convoy::test
