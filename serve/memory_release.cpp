#include "serve/memory_release.h"

#include <malloc.h>

namespace convoy::serve {

void MemoryRelease::after_request(size_t bytes, bool last_in_flight) {
  if (bytes >= large_) large_since_trim_ = true;
  if (!large_since_trim_) return;
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  const int64_t interval = std::chrono::duration_cast<std::chrono::nanoseconds>(interval_).count();
  if (!last_in_flight && now - last_trim_ns_.load() < interval) return;
  // One thread trims at a time; a request that finds one trimming leaves it `again_`, and the
  // trimming thread goes round once more.
  again_ = true;
  while (again_.load()) {
    if (trimming_.exchange(true)) return;
    while (again_.exchange(false)) {
      large_since_trim_ = false;
      last_trim_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
      ::malloc_trim(0);  // about 25 ms with 450 MB free on 2 cores; it locks one arena at a time
      ++trims_;
    }
    trimming_ = false;
  }
}

}  // namespace convoy::serve
