#include "kernels/exec.h"

#include "engine/error.h"

namespace convoy::kernels {

void cuda_not_built(const char* op) {
  fail(op, ": this convoy was built without the CUDA backend; use --device cpu or rebuild with nvcc");
}

}  // namespace convoy::kernels
