// The CUDA caching allocator: one per device. Sizes are rounded to a size class
// (multiples of 512 B up to 1 MiB, powers of two above), freed blocks go back to a
// per-class free list and are reused; cudaMalloc is called only on a miss. On
// out-of-memory the cache is released and the allocation retried once.
//
// Stream safety: all convoy work on a device runs on that device's one compute stream
// (cuda_backend::default_stream), so a block freed at deallocate() while kernels that use
// it are still queued can be handed out again at once: any later use is queued behind them
// on the same stream. Code that uses another stream must synchronize before freeing.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/allocator.h"

namespace convoy::cuda_backend {

struct AllocatorStats {
  std::size_t bytes_in_use = 0;   // size-class bytes handed out and not yet returned
  std::size_t bytes_cached = 0;   // size-class bytes held in the free lists
  std::size_t malloc_calls = 0;   // cudaMalloc calls that succeeded
  std::size_t cache_hits = 0;     // allocations served from the free lists
};

class CachingAllocator final : public Allocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr, std::size_t bytes) override;

  AllocatorStats stats() const;
  void release_cache();  // cudaFree every cached block of this device
  static std::size_t size_class(std::size_t bytes);

 private:
  void release_cache_locked();

  int device_;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_blocks_;  // size class -> free blocks
  std::unordered_map<void*, std::size_t> live_;            // block -> its size class
  AllocatorStats stats_;
};

// The allocator of `device` as the concrete type, for tests and tools that read stats.
CachingAllocator& caching_allocator(int device);

}  // namespace convoy::cuda_backend
