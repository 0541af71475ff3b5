// The device caching allocator: one per device. Sizes are rounded to a size class
// (multiples of 512 B up to 1 MiB, powers of two above), freed blocks go back to a
// per-class free list and are reused; the device runtime's allocation (cudaMalloc, or the
// emulated device's) is called only on a miss. On out-of-memory the cache is released and
// the allocation retried once.
//
// Stream safety: all convoy work on a device runs on that device's one compute stream
// (cuda_backend::default_stream), so a block freed at deallocate() while kernels that use
// it are still queued can be handed out again at once: any later use is queued behind them
// on the same stream. Code that uses another stream must synchronize before freeing (the
// rule of kernels/exec.h; engine/workspace.h applies it to kernel scratch memory).
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/allocator.h"

namespace convoy::cuda_backend {

// What the caching allocator needs from a device runtime.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  virtual void* allocate(std::size_t bytes) = 0;  // nullptr when the device is out of memory
  virtual void free(void* ptr) noexcept = 0;
  virtual void synchronize() = 0;                 // waits for all work queued on the device
  virtual std::string out_of_memory() const = 0;  // the runtime's words for a failed allocate
  // A block goes to a user for `bytes` (fresh or from the cache), or comes back to the cache.
  // The emulated device checks and poisons memory on these; the real runtime ignores them.
  virtual void handed_out(void*, std::size_t) noexcept {}
  virtual void returned(void*) noexcept {}
};

struct AllocatorStats {
  std::size_t bytes_in_use = 0;   // size-class bytes handed out and not yet returned
  std::size_t bytes_cached = 0;   // size-class bytes held in the free lists
  std::size_t malloc_calls = 0;   // device allocations that succeeded
  std::size_t cache_hits = 0;     // allocations served from the free lists
};

class CachingAllocator final : public Allocator {
 public:
  CachingAllocator(int device, std::unique_ptr<DeviceMemory> memory) : device_(device), memory_(std::move(memory)) {}
  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr, std::size_t bytes) override;

  AllocatorStats stats() const;
  void release_cache();  // frees every cached block of this device
  static std::size_t size_class(std::size_t bytes);

 private:
  void release_cache_locked();

  int device_;
  std::unique_ptr<DeviceMemory> memory_;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_blocks_;  // size class -> free blocks
  std::unordered_map<void*, std::size_t> live_;            // block -> its size class
  AllocatorStats stats_;
};

// The allocator of `device` as the concrete type, for tests and tools that read stats.
CachingAllocator& caching_allocator(int device);

}  // namespace convoy::cuda_backend
