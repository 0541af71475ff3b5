#include "kernels/exec.h"

#include "engine/error.h"

namespace convoy::kernels {

ScratchBuffer::ScratchBuffer(const Exec& exec, std::size_t bytes)
    : provider_(exec.workspace), stream_(exec.stream), bytes_(bytes) {
  if (bytes_ == 0) return;
  if (!provider_)
    fail("a kernel needs ", bytes, " bytes of scratch memory, but its Exec has no workspace provider; make the "
         "Exec with convoy::exec_for() or take it from a convoy::Context");
  ptr_ = provider_->acquire(bytes_);
}

ScratchBuffer::~ScratchBuffer() {
  if (ptr_) provider_->release(ptr_, bytes_, stream_);
}

void cuda_not_built(const char* op) {
  fail(op, ": this convoy was built without the CUDA backend; use --device cpu or rebuild with nvcc");
}

}  // namespace convoy::kernels
