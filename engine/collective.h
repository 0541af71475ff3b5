// Collective: the few cross-process operations that layers need (synchronised batch-norm
// statistics), seen from the engine. dist/ implements it (local, MPI, NCCL communicators);
// layers and the engine never include dist/, they reach it through Context::collective.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace convoy {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Blocking, in place: every rank ends with the element-wise sum over all ranks of `t`
  // (same shape on every rank). `t` may live on the CPU or on a GPU; a communicator that
  // works on host memory stages a GPU tensor through the host explicitly.
  virtual void allreduce_sum(Tensor& t) = 0;
  // The same for host values in double precision (statistics combined without float rounding).
  virtual void allreduce_sum_host(std::vector<double>& values) = 0;
};

}  // namespace convoy
