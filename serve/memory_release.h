// MemoryRelease: hands memory the C allocator holds free back to the system (malloc_trim)
// after large requests: when the last request in flight is done, and during a steady stream
// of them at most once per interval.
//
// Why: the engine tells glibc never to trim its heaps and to serve blocks of up to 512 MiB
// from them (engine/allocator.cpp), which suits training: the same activation buffers are
// freed and allocated again every step. A server frees differently: request bodies, decoded
// images and answers of megabytes come and go on many threads (spread over several glibc
// arenas), so freed memory piled up in every arena and stayed resident. With 500-image JSON
// requests, eight at a time, convoy-serve on cpp-httplib went from 188 MiB to 388, 492 and
// 497 MiB over three rounds (heaptrack of a longer run: 221 MB in use at the peak, 739 MB
// resident). The event-loop server alone rose 197, 226, 243, 249 MiB over four; with the
// trim it stays at 121 to 142 MiB (tests/serve/serve_memory_test.cpp).
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace convoy::serve {

class MemoryRelease {
 public:
  MemoryRelease(size_t large_request_bytes, std::chrono::milliseconds interval)
      : large_(large_request_bytes), interval_(interval) {}

  // After a request of `bytes`: trims when a large request has finished since the last trim,
  // and either no other request is in flight (`last_in_flight`) or the last trim is at least
  // the interval ago. Thread-safe; one trim at a time.
  void after_request(size_t bytes, bool last_in_flight);

  int64_t trims() const { return trims_.load(); }

 private:
  size_t large_;
  std::chrono::steady_clock::duration interval_;
  std::atomic<int64_t> last_trim_ns_{0};
  std::atomic<bool> trimming_{false};
  std::atomic<bool> large_since_trim_{false};
  std::atomic<bool> again_{false};  // a trim was wanted while one ran
  std::atomic<int64_t> trims_{0};
};

}  // namespace convoy::serve
