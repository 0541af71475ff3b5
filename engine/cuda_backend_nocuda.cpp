// The CUDA backend when convoy was built without it: every entry explains that.
#include "engine/cuda_backend.h"
#include "engine/error.h"

namespace convoy::cuda_backend {
namespace {
[[noreturn]] void no_cuda() {
  fail("this convoy was built without the CUDA backend (nvcc was not found at configure time); "
       "use --device cpu, or rebuild with the CUDA toolkit installed");
}
}  // namespace

bool emulated() { return false; }
int device_count() { return 0; }
std::string unavailable_reason() { return "built without CUDA"; }
Allocator& allocator(int) { no_cuda(); }
void set_device(int) { no_cuda(); }
void* default_stream(int) { no_cuda(); }
void synchronize(int) { no_cuda(); }
void stream_synchronize(void*) { no_cuda(); }
void copy(void*, const void*, std::size_t, CopyKind) { no_cuda(); }
std::string device_name(int) { no_cuda(); }
void* copy_stream(int) { no_cuda(); }
void copy_async(void*, const void*, std::size_t, CopyKind, void*) { no_cuda(); }
void* pinned_allocate(std::size_t) { no_cuda(); }
void pinned_free(void*) {}
void* event_create(int) { no_cuda(); }
void event_destroy(void*) {}
void event_record(void*, void*) { no_cuda(); }
void stream_wait_event(void*, void*) { no_cuda(); }
void event_synchronize(void*) { no_cuda(); }
bool event_done(void*) { no_cuda(); }

}  // namespace convoy::cuda_backend
