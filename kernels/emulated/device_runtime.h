// The emulated CUDA device: a host stand-in for the CUDA runtime, strict where a real device
// is lenient, so that the GPU path's host code (the engine's CUDA backend, the trainer on a
// device, the input pipeline's streams and events, serving, resume) runs and is checked on
// any machine, under AddressSanitizer in CI. Built with -DCONVOY_CUDA=emulated, in place of
// the real runtime; docs/cuda.md says what it checks and what it cannot.
//
// - Device memory is its own mappings, apart from the host heap, with an inaccessible guard
//   page on each side. Every block's size is known; a block the caching allocator holds
//   for reuse is poisoned (ASan) and filled with 0xFF (NaN) until it is handed out again.
// - Every copy and every kernel launch checks each pointer before it is queued: inside one
//   live block of the right kind and device, for the whole byte count; the host side of an
//   asynchronous copy must be pinned memory. A violation is a convoy::Error naming the call,
//   the argument, the pointer and the block it missed.
// - Streams hold their work until something waits for it: a stream or device synchronize,
//   an event the host or another stream waits on, or a blocking copy (which runs the compute
//   stream, as a real blocking copy waits for it). Nothing runs when it is queued, and a
//   device synchronize runs the side streams before the compute stream, so a missing event
//   wait shows up as wrong data instead of passing by luck.
// - Work on two streams that touches the same device bytes, one of them writing, with no
//   event wait or host synchronize ordering the two, is an error when the second is queued:
//   a race detector over vector clocks, so the race is found whatever order the work runs in.
// - A block freed (returned to the caching allocator) is dead in compute-stream order: work
//   queued before the free on the compute stream may still use it, as on a GPU. Freeing a
//   block or pinned buffer that work queued on another stream still uses is an error, and so
//   is work that runs after its block died.
// - An error found while queued work runs makes the device unusable, as a GPU fault does:
//   every later call on that device throws it again.
//
// Kernels run the CPU implementation over the device memory when their turn comes
// (kernels/emulated/). Results therefore equal the CPU's; timings mean nothing.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace convoy::kernels::emulated {

// Devices: CONVOY_EMULATED_DEVICES (0 to 16, default 1).
int device_count();
std::string unavailable_reason();  // "" when device_count() > 0
std::string device_name(int device);

// Device memory. malloc returns a block in use for its whole size; the caching allocator
// narrows that with handed_out() and marks a free with returned() (both never throw: a
// violation found there is reported by the device's next call).
void* device_malloc(int device, std::size_t bytes);  // nullptr when bytes == 0
void device_free(void* ptr) noexcept;
void handed_out(void* ptr, std::size_t bytes) noexcept;
void returned(void* ptr) noexcept;
// Page-locked host memory (what an async copy's host side must be).
void* pinned_malloc(std::size_t bytes);
void pinned_free(void* ptr) noexcept;

// Streams and events. A stream handle is the emulator's own; nullptr names the compute
// stream of `device`. Where a handle is given, device -1 means "the handle's device".
void* compute_stream(int device);
void* copy_stream(int device);
void stream_synchronize(int device, void* stream);
void device_synchronize(int device);
void* event_create(int device);
void event_destroy(void* event) noexcept;
void event_record(void* event, int device, void* stream);
void stream_wait_event(int device, void* stream, void* event);
void event_synchronize(void* event);
bool event_done(void* event);

// Copies: `copy` is blocking (queued on the compute stream, which then runs);
// `copy_async` is queued on `stream`.
enum class Dir { host_to_device, device_to_host, device_to_device };
void copy(void* dst, const void* src, std::size_t bytes, Dir dir);
void copy_async(void* dst, const void* src, std::size_t bytes, Dir dir, int device, void* stream);

// A kernel launch: every span must lie in a live device block of `device`; `work` runs when
// the stream gets to it.
struct Span {
  std::string arg;     // the argument's name, for messages
  const void* ptr;     // nullptr with bytes == 0: an absent optional argument
  std::size_t bytes;
  bool write = false;  // the kernel writes it (outputs, accumulators); else it only reads
};
void launch(int device, void* stream, const char* kernel, const std::vector<Span>& args,
            std::function<void()> work);

}  // namespace convoy::kernels::emulated
