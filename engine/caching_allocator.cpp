#include "engine/caching_allocator.h"

#include "engine/error.h"

namespace convoy::cuda_backend {
namespace {

constexpr std::size_t kSmallStep = 512;
constexpr std::size_t kLargeThreshold = std::size_t{1} << 20;

}  // namespace

std::size_t CachingAllocator::size_class(std::size_t bytes) {
  if (bytes <= kLargeThreshold) return (bytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  std::size_t c = kLargeThreshold;
  while (c < bytes) c <<= 1;
  return c;
}

void* CachingAllocator::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const std::size_t cls = size_class(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  void* p = nullptr;
  auto it = free_blocks_.find(cls);
  if (it != free_blocks_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    stats_.bytes_cached -= cls;
    ++stats_.cache_hits;
  } else {
    p = memory_->allocate(cls);
    if (!p) {
      release_cache_locked();
      p = memory_->allocate(cls);
    }
    if (!p)
      fail("CUDA device ", device_, ": allocating ", cls, " bytes (", bytes, " asked) failed: ", memory_->out_of_memory(),
           "; in use ", stats_.bytes_in_use, " bytes, cache already released");
    ++stats_.malloc_calls;
  }
  stats_.bytes_in_use += cls;
  live_.emplace(p, cls);
  memory_->handed_out(p, bytes);
  return p;
}

void CachingAllocator::deallocate(void* ptr, std::size_t bytes) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end())
    fail("CUDA device ", device_, ": deallocate of ", ptr, " (", bytes,
         " bytes) that this allocator did not hand out or already took back");
  const std::size_t cls = it->second;
  live_.erase(it);
  stats_.bytes_in_use -= cls;
  stats_.bytes_cached += cls;
  free_blocks_[cls].push_back(ptr);
  memory_->returned(ptr);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::release_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cache_locked();
}

void CachingAllocator::release_cache_locked() {
  // Blocks may still be used by queued work on the stream; wait before giving them back.
  memory_->synchronize();
  for (auto& [cls, blocks] : free_blocks_) {
    for (void* p : blocks) memory_->free(p);
    stats_.bytes_cached -= cls * blocks.size();
    blocks.clear();
  }
  free_blocks_.clear();
}

}  // namespace convoy::cuda_backend
