#include "engine/cuda/caching_allocator.h"

#include "engine/cuda/cuda_check.h"
#include "engine/cuda_backend.h"

namespace convoy::cuda_backend {
namespace {

// Makes `device` current for the scope and restores the caller's device after.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    CONVOY_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) CONVOY_CUDA_CHECK(cudaSetDevice(device));
    changed_ = previous_ != device;
  }
  ~DeviceScope() {
    if (changed_) cudaSetDevice(previous_);  // best effort: destructors do not throw
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

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
  auto it = free_blocks_.find(cls);
  if (it != free_blocks_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    stats_.bytes_cached -= cls;
    stats_.bytes_in_use += cls;
    ++stats_.cache_hits;
    live_.emplace(p, cls);
    return p;
  }
  DeviceScope scope(device_);
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, cls);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the (non-sticky) error before retrying
    release_cache_locked();
    err = cudaMalloc(&p, cls);
  }
  if (err != cudaSuccess) {
    cudaGetLastError();
    fail("CUDA device ", device_, ": cudaMalloc of ", cls, " bytes (", bytes, " asked) failed: ",
         cudaGetErrorString(err), "; in use ", stats_.bytes_in_use, " bytes, cache already released");
  }
  ++stats_.malloc_calls;
  stats_.bytes_in_use += cls;
  live_.emplace(p, cls);
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
  DeviceScope scope(device_);
  // Blocks may still be used by queued work on the stream; wait before giving them back.
  CONVOY_CUDA_CHECK(cudaDeviceSynchronize());
  for (auto& [cls, blocks] : free_blocks_) {
    for (void* p : blocks) CONVOY_CUDA_CHECK(cudaFree(p));
    stats_.bytes_cached -= cls * blocks.size();
    blocks.clear();
  }
  free_blocks_.clear();
}

}  // namespace convoy::cuda_backend
