#include "engine/pinned_buffer.h"

#include <utility>

#include "engine/cuda_backend.h"

namespace convoy {

PinnedBuffer::PinnedBuffer(std::size_t bytes) : ptr_(cuda_backend::pinned_allocate(bytes)), bytes_(bytes) {}

PinnedBuffer::~PinnedBuffer() { cuda_backend::pinned_free(ptr_); }

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    cuda_backend::pinned_free(ptr_);
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

}  // namespace convoy
