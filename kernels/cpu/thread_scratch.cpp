#include "kernels/cpu/thread_scratch.h"

#include <array>
#include <cstdlib>
#include <memory>

#include "engine/error.h"

namespace convoy::kernels::cpu {
namespace {

struct Buffer {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> data;
  std::size_t capacity = 0;
};

}  // namespace

void* thread_scratch(ScratchSlot slot, std::size_t bytes) {
  thread_local std::array<Buffer, static_cast<std::size_t>(ScratchSlot::count)> buffers;
  Buffer& b = buffers[static_cast<std::size_t>(slot)];
  if (bytes > b.capacity) {
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) fail("CPU kernel scratch: cannot allocate ", rounded, " bytes");
    b.data.reset(p);
    b.capacity = rounded;
  }
  return b.data.get();
}

}  // namespace convoy::kernels::cpu
