#include "engine/allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/cuda_backend.h"
#include "engine/error.h"

namespace convoy {
namespace {

class CpuAllocator final : public Allocator {
 public:
  CpuAllocator() {
    // Activation buffers of a few MiB are freed and re-allocated every step; keep glibc
    // from returning them to the kernel each time (mmap/munmap would page-fault them anew).
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1024 << 20);
  }
  void* allocate(std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) fail("out of host memory allocating ", bytes, " bytes");
    return p;
  }
  void deallocate(void* ptr, std::size_t) override { std::free(ptr); }
};

}  // namespace

Allocator& cpu_allocator() {
  static CpuAllocator instance;
  return instance;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  return cuda_backend::allocator(device.index);
}

void copy_bytes(Device dst_device, void* dst, Device src_device, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  using cuda_backend::CopyKind;
  CopyKind kind = dst_device.is_cpu()   ? CopyKind::device_to_host
                  : src_device.is_cpu() ? CopyKind::host_to_device
                                        : CopyKind::device_to_device;
  cuda_backend::copy(dst, src, bytes, kind);
}

int cuda_device_count() { return cuda_backend::device_count(); }
std::string cuda_unavailable_reason() { return cuda_backend::unavailable_reason(); }

}  // namespace convoy
