// The CUDA caching allocator: size classes, reuse without a new cudaMalloc, stats, release.
#include <gtest/gtest.h>

#include "engine/caching_allocator.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "tests/common/test_util.h"
#include "tests/cuda/gpu_test_util.h"

namespace convoy {
namespace {

using cuda_backend::CachingAllocator;

TEST(CudaAllocator, SizeClasses) {
  EXPECT_EQ(CachingAllocator::size_class(1), 512u);
  EXPECT_EQ(CachingAllocator::size_class(512), 512u);
  EXPECT_EQ(CachingAllocator::size_class(513), 1024u);
  EXPECT_EQ(CachingAllocator::size_class(1 << 20), 1u << 20);
  EXPECT_EQ(CachingAllocator::size_class((1 << 20) + 1), 2u << 20);
  EXPECT_EQ(CachingAllocator::size_class((3 << 20) + 5), 4u << 20);
}

TEST(CudaAllocator, NoDeviceIsReportedNotThrown) {
  // Must hold on any machine: a count, and a reason exactly when the count is 0.
  int n = -1;
  EXPECT_NO_THROW(n = cuda_device_count());
  EXPECT_GE(n, 0);
  if (n == 0) EXPECT_FALSE(cuda_unavailable_reason().empty());
  else EXPECT_TRUE(cuda_unavailable_reason().empty());
}

TEST(CudaAllocator, SecondAllocationOfSameSizeReusesTheCachedBlock) {
  CONVOY_SKIP_WITHOUT_GPU();
  auto& alloc = cuda_backend::caching_allocator(0);
  const std::size_t bytes = 3 * 1000 * 1000 + 7;  // an odd size in a large class
  void* first = alloc.allocate(bytes);
  ASSERT_NE(first, nullptr);
  auto after_first = alloc.stats();
  EXPECT_GE(after_first.bytes_in_use, bytes);
  alloc.deallocate(first, bytes);
  auto after_free = alloc.stats();
  EXPECT_EQ(after_free.bytes_in_use + CachingAllocator::size_class(bytes), after_first.bytes_in_use);
  EXPECT_GE(after_free.bytes_cached, CachingAllocator::size_class(bytes));
  void* second = alloc.allocate(bytes - 100);  // same size class
  auto after_second = alloc.stats();
  EXPECT_EQ(second, first);
  EXPECT_EQ(after_second.malloc_calls, after_free.malloc_calls);
  EXPECT_EQ(after_second.cache_hits, after_free.cache_hits + 1);
  alloc.deallocate(second, bytes - 100);
}

TEST(CudaAllocator, TensorsRoundTripAndRelease) {
  CONVOY_SKIP_WITHOUT_GPU();
  auto v = test::random_vector(1001, 3);
  {
    Tensor t = test::to_gpu(v);
    EXPECT_EQ(t.to_vector(), v);
    Tensor u = t.clone();
    EXPECT_EQ(u.to_vector(), v);
  }
  auto& alloc = cuda_backend::caching_allocator(0);
  alloc.release_cache();
  EXPECT_EQ(alloc.stats().bytes_cached, 0u);
}

TEST(CudaAllocator, ForeignPointerIsAnError) {
  CONVOY_SKIP_WITHOUT_GPU();
  int local = 0;
  EXPECT_THROW(cuda_backend::caching_allocator(0).deallocate(&local, 4), Error);
}

TEST(CudaAllocator, BadDeviceIndexIsAnError) {
  CONVOY_SKIP_WITHOUT_GPU();
  EXPECT_THROW(cuda_backend::allocator(cuda_device_count()), Error);
  EXPECT_FALSE(cuda_backend::device_name(0).empty());
}

}  // namespace
}  // namespace convoy
