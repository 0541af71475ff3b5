// The engine's CUDA backend over the emulated device (kernels/emulated/device_runtime.h):
// the same caching allocator as on a GPU, with the emulator's guarded blocks underneath, and
// the same compute and copy streams, events and copies, all checked. Built with
// -DCONVOY_CUDA=emulated; device names and Device::to_string() say "(emulated)".
#include <memory>
#include <mutex>
#include <vector>

#include "engine/caching_allocator.h"
#include "engine/cuda_backend.h"
#include "engine/error.h"
#include "kernels/emulated/device_runtime.h"

namespace convoy::cuda_backend {
namespace {

namespace emu = kernels::emulated;

class EmulatedMemory final : public DeviceMemory {
 public:
  explicit EmulatedMemory(int device) : device_(device) {}
  void* allocate(std::size_t bytes) override { return emu::device_malloc(device_, bytes); }
  void free(void* ptr) noexcept override { emu::device_free(ptr); }
  void synchronize() override { emu::device_synchronize(device_); }
  std::string out_of_memory() const override { return "the host could not map more emulated device memory"; }
  void handed_out(void* ptr, std::size_t bytes) noexcept override { emu::handed_out(ptr, bytes); }
  void returned(void* ptr) noexcept override { emu::returned(ptr); }

 private:
  int device_;
};

void check_index(int device, const char* what) {
  const int n = device_count();
  if (device < 0 || device >= n)
    fail(what, ": CUDA device ", device, " does not exist (", n, " emulated",
         n == 0 ? "; " + unavailable_reason() : std::string(), ")");
}

// One caching allocator per device, never destroyed (tensors may be freed during exit).
std::vector<CachingAllocator*>& allocators() {
  static auto* all = [] {
    auto* v = new std::vector<CachingAllocator*>();
    for (int i = 0; i < emu::device_count(); ++i)
      v->push_back(new CachingAllocator(i, std::make_unique<EmulatedMemory>(i)));
    return v;
  }();
  return *all;
}

emu::Dir dir_of(CopyKind kind) {
  switch (kind) {
    case CopyKind::host_to_device: return emu::Dir::host_to_device;
    case CopyKind::device_to_host: return emu::Dir::device_to_host;
    case CopyKind::device_to_device: break;
  }
  return emu::Dir::device_to_device;
}

}  // namespace

bool emulated() { return true; }
int device_count() { return emu::device_count(); }
std::string unavailable_reason() { return emu::unavailable_reason(); }

CachingAllocator& caching_allocator(int device) {
  check_index(device, "CUDA allocator");
  return *allocators()[static_cast<std::size_t>(device)];
}

Allocator& allocator(int device) { return caching_allocator(device); }

void set_device(int device) { check_index(device, "set_device"); }

void* default_stream(int device) {
  check_index(device, "default_stream");
  return emu::compute_stream(device);
}

void synchronize(int device) {
  check_index(device, "synchronize");
  emu::device_synchronize(device);
}

void stream_synchronize(void* stream) { emu::stream_synchronize(-1, stream); }

void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind) { emu::copy(dst, src, bytes, dir_of(kind)); }

std::string device_name(int device) {
  check_index(device, "device_name");
  return emu::device_name(device);
}

void* copy_stream(int device) {
  check_index(device, "copy_stream");
  return emu::copy_stream(device);
}

void copy_async(void* dst, const void* src, std::size_t bytes, CopyKind kind, void* stream) {
  if (!stream) fail("copy_async: no stream given");
  emu::copy_async(dst, src, bytes, dir_of(kind), -1, stream);
}

void* pinned_allocate(std::size_t bytes) { return emu::pinned_malloc(bytes); }
void pinned_free(void* ptr) { emu::pinned_free(ptr); }

void* event_create(int device) {
  check_index(device, "event_create");
  return emu::event_create(device);
}
void event_destroy(void* event) { emu::event_destroy(event); }
void event_record(void* event, void* stream) { emu::event_record(event, -1, stream); }
void stream_wait_event(void* stream, void* event) { emu::stream_wait_event(-1, stream, event); }
void event_synchronize(void* event) { emu::event_synchronize(event); }
bool event_done(void* event) { return emu::event_done(event); }

}  // namespace convoy::cuda_backend
