// Owning storage goes through an Allocator so that device memory plugs in beside host
// memory. The CPU allocator hands out 64-byte aligned blocks (AVX-512 friendly); the
// CUDA allocator (engine/cuda/) caches freed blocks so the training loop never calls
// cudaMalloc/cudaFree.
#pragma once
#include <cstddef>

#include "engine/device.h"

namespace convoy {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* ptr, std::size_t bytes) = 0;
};

Allocator& cpu_allocator();
Allocator& allocator_for(Device device);

// Blocking copy between any two devices (host<->device, device<->device, host<->host).
void copy_bytes(Device dst_device, void* dst, Device src_device, const void* src, std::size_t bytes);

}  // namespace convoy
