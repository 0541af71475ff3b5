// The emulated device's memory: guarded mappings per block, block lifetimes in host and in
// compute-stream order, ASan poisoning of everything not in use, pinned host memory.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "engine/error.h"
#include "kernels/emulated/device_runtime.h"
#include "kernels/emulated/runtime_state.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONVOY_EMULATED_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CONVOY_EMULATED_ASAN 1
#endif
#if CONVOY_EMULATED_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace convoy::kernels::emulated {
namespace detail {
namespace {

void poison(const void* p, std::size_t bytes) {
#if CONVOY_EMULATED_ASAN
  if (bytes) ASAN_POISON_MEMORY_REGION(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}
void unpoison(const void* p, std::size_t bytes) {
#if CONVOY_EMULATED_ASAN
  if (bytes) ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}

std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Makes the bytes [live, capacity) of a block inaccessible to the kernels (under ASan).
void set_extent(Block& b, std::size_t live) {
  unpoison(b.base, live);
  poison(b.base + live, b.capacity - live);
}

std::string uses_elsewhere(const std::map<const Stream*, int>& uses, const Stream* except) {
  std::ostringstream os;
  for (const auto& [stream, n] : uses)
    if (n > 0 && stream != except) os << (os.tellp() ? ", " : "") << n << " on the " << stream->role << " stream";
  return os.str();
}

}  // namespace

State& state() {
  static State* s = [] {
    auto* st = new State();
    const char* env = std::getenv("CONVOY_EMULATED_DEVICES");
    int n = 1;
    if (env && *env) {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      if (*end != '\0' || v < 0 || v > 16) {
        st->reason = "CONVOY_EMULATED_DEVICES='" + std::string(env) + "' is not a count from 0 to 16";
        n = 0;
      } else {
        n = static_cast<int>(v);
      }
    }
    if (n == 0 && st->reason.empty()) st->reason = "CONVOY_EMULATED_DEVICES=0: no emulated CUDA device";
    st->devices = n;
    st->device.resize(static_cast<std::size_t>(n));
    return st;
  }();
  return *s;
}

void check_usable(int device, const char* call) {
  State& s = state();
  if (device < 0 || device >= s.devices)
    fail(call, ": CUDA device ", device, " does not exist (", s.devices, " emulated",
         s.devices == 0 ? "; " + s.reason : std::string(), ")");
  const std::string& f = s.device[static_cast<std::size_t>(device)].failure;
  if (!f.empty()) fail(call, ": emulated CUDA device ", device, " is unusable after an earlier error: ", f);
}

void fail_later(int device, const std::string& message) noexcept {
  State& s = state();
  if (device < 0 || device >= s.devices) return;
  std::string& f = s.device[static_cast<std::size_t>(device)].failure;
  if (!f.empty()) return;  // the first error is the one that matters
  f = message;
  std::fprintf(stderr, "emulated CUDA device %d: %s\n", device, message.c_str());
}

std::string describe(const void* ptr) {
  std::ostringstream os;
  os << ptr;
  return os.str();
}

Block* live_block(const void* ptr, std::size_t bytes, bool stream_order, std::string* why) {
  State& s = state();
  const char* p = static_cast<const char*>(ptr);
  auto it = s.blocks.upper_bound(p);
  if (it == s.blocks.begin()) {
    *why = "is not device memory of the emulated device (host memory, or never allocated)";
    return nullptr;
  }
  --it;
  Block& b = it->second;
  if (p >= b.mapping + b.mapping_bytes) {
    *why = "is not device memory of the emulated device (host memory, or never allocated)";
    return nullptr;
  }
  std::ostringstream os;
  if (p < b.base) {
    os << "lies in the guard before the device block at " << describe(b.base);
    *why = os.str();
    return nullptr;
  }
  const std::size_t live = stream_order ? b.live_bytes_in_stream_order : b.live_bytes;
  if (live == 0) {
    os << "lies in the device block at " << describe(b.base) << " (" << b.capacity << " bytes, cuda:" << b.device
       << "), which was freed" << (stream_order ? " before this work ran" : "");
    *why = os.str();
    return nullptr;
  }
  const std::size_t offset = static_cast<std::size_t>(p - b.base);
  if (offset + bytes > live) {
    os << "runs " << offset + bytes - live << " bytes past the end of the device block at " << describe(b.base)
       << " (" << live << " bytes in use, cuda:" << b.device << ")";
    *why = os.str();
    return nullptr;
  }
  return &b;
}

PinnedBlock* pinned_block(const void* ptr, std::size_t bytes) {
  State& s = state();
  const char* p = static_cast<const char*>(ptr);
  auto it = s.pinned.upper_bound(p);
  if (it == s.pinned.begin()) return nullptr;
  --it;
  PinnedBlock& b = it->second;
  if (p + bytes > b.base + b.bytes) return nullptr;
  return &b;
}

}  // namespace detail

using namespace detail;

int device_count() { return state().devices; }
std::string unavailable_reason() { return state().reason; }

std::string device_name(int device) {
  Lock lock(state().mutex);
  check_usable(device, "device_name");
  return "convoy emulated CUDA device " + std::to_string(device) + " (host memory, CPU kernels)";
}

void* device_malloc(int device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  State& s = state();
  Lock lock(s.mutex);
  check_usable(device, "device_malloc");
  const std::size_t page = page_size();
  const std::size_t usable = (bytes + page - 1) / page * page;
  const std::size_t total = usable + 2 * page;
  void* m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return nullptr;  // out of (emulated) device memory
  char* mapping = static_cast<char*>(m);
  mprotect(mapping, page, PROT_NONE);
  mprotect(mapping + page + usable, page, PROT_NONE);
  // The block ends at the trailing guard page (so an overrun faults), aligned to 256 bytes as
  // cudaMalloc's blocks are: the caching allocator's sizes are multiples of 512.
  char* base = mapping + page + usable - bytes;
  base -= reinterpret_cast<std::uintptr_t>(base) % 256;
  Block b;
  b.mapping = mapping;
  b.mapping_bytes = total;
  b.base = base;
  b.capacity = bytes;
  b.device = device;
  b.live_bytes = b.live_bytes_in_stream_order = bytes;
  poison(mapping + page, static_cast<std::size_t>(base - (mapping + page)));
  poison(base + bytes, static_cast<std::size_t>(mapping + page + usable - (base + bytes)));
  s.blocks.emplace(base, b);
  return base;
}

void device_free(void* ptr) noexcept {
  if (!ptr) return;
  State& s = state();
  Lock lock(s.mutex);
  auto it = s.blocks.find(static_cast<const char*>(ptr));
  if (it == s.blocks.end()) {
    fail_later(0, "device_free of " + describe(ptr) + ", which is not the start of an emulated device block");
    return;
  }
  Block& b = it->second;
  const std::string pending = uses_elsewhere(b.queued_uses, nullptr);
  if (!pending.empty())
    fail_later(b.device, "device_free of the block at " + describe(ptr) + " while queued work still uses it (" +
                             pending + ")");
  unpoison(b.mapping, b.mapping_bytes);
  munmap(b.mapping, b.mapping_bytes);
  s.blocks.erase(it);
}

void handed_out(void* ptr, std::size_t bytes) noexcept {
  State& s = state();
  Lock lock(s.mutex);
  auto it = s.blocks.find(static_cast<const char*>(ptr));
  if (it == s.blocks.end() || bytes > it->second.capacity) {
    fail_later(0, "handed_out(" + describe(ptr) + ", " + std::to_string(bytes) + "): not an emulated block that large");
    return;
  }
  Block& b = it->second;
  b.live_bytes = bytes;
  const char* base = b.base;
  try {
    enqueue_on_compute(b.device, "block handed out", [base, bytes] {
      auto at = state().blocks.find(base);
      if (at == state().blocks.end()) return;
      at->second.live_bytes_in_stream_order = bytes;
      set_extent(at->second, bytes);
    });
  } catch (const std::exception& e) {
    fail_later(b.device, e.what());
  }
}

void returned(void* ptr) noexcept {
  State& s = state();
  Lock lock(s.mutex);
  auto it = s.blocks.find(static_cast<const char*>(ptr));
  if (it == s.blocks.end()) {
    fail_later(0, "returned(" + describe(ptr) + "): not an emulated device block");
    return;
  }
  Block& b = it->second;
  const DeviceState& d = s.device[static_cast<std::size_t>(b.device)];
  const std::string pending = uses_elsewhere(b.queued_uses, d.compute.get());
  if (!pending.empty())
    fail_later(b.device, "the device block at " + describe(ptr) + " (" + std::to_string(b.live_bytes) +
                             " bytes) was freed while work queued outside the compute stream still uses it (" +
                             pending + "); that stream must be synchronized before the free");
  b.live_bytes = 0;
  const char* base = b.base;
  try {
    enqueue_on_compute(b.device, "block freed", [base] {
      auto at = state().blocks.find(base);
      if (at == state().blocks.end()) return;
      Block& blk = at->second;
      blk.live_bytes_in_stream_order = 0;
      unpoison(blk.base, blk.capacity);
      std::memset(blk.base, 0xFF, blk.capacity);  // stale reads see NaN
      poison(blk.base, blk.capacity);
    });
  } catch (const std::exception& e) {
    fail_later(b.device, e.what());
  }
}

void* pinned_malloc(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  State& s = state();
  Lock lock(s.mutex);
  void* p = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  if (!p) fail("pinned_malloc: out of host memory for ", bytes, " bytes");
  PinnedBlock b;
  b.base = static_cast<char*>(p);
  b.bytes = bytes;
  s.pinned.emplace(b.base, b);
  return p;
}

void pinned_free(void* ptr) noexcept {
  if (!ptr) return;
  State& s = state();
  Lock lock(s.mutex);
  auto it = s.pinned.find(static_cast<const char*>(ptr));
  if (it == s.pinned.end()) {
    fail_later(0, "pinned_free of " + describe(ptr) + ", which pinned_malloc did not return");
    return;
  }
  const std::string pending = uses_elsewhere(it->second.queued_uses, nullptr);
  if (!pending.empty()) {
    int device = 0;
    for (const auto& [stream, n] : it->second.queued_uses)
      if (n > 0) device = stream->device;
    fail_later(device, "pinned host memory at " + describe(ptr) + " was freed while queued copies still read it (" +
                           pending + ")");
  }
  s.pinned.erase(it);
  std::free(ptr);
}

}  // namespace convoy::kernels::emulated
