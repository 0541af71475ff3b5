// The engine's view of the CUDA runtime, with no CUDA header in sight, so that host code
// compiles without the toolkit. Implemented in engine/cuda/ over the CUDA runtime (the
// default where nvcc is found), in engine/emulated/ over the emulated device
// (-DCONVOY_CUDA=emulated, kernels/emulated/device_runtime.h), and by
// engine/cuda_backend_nocuda.cpp, which explains that there is none, otherwise.
#pragma once
#include <cstddef>
#include <string>

#include "engine/allocator.h"

namespace convoy::cuda_backend {

bool emulated();                       // the emulated device stands in for CUDA
int device_count();                    // 0 when no usable device
std::string unavailable_reason();      // why device_count() is 0; "" otherwise
Allocator& allocator(int device);      // the caching allocator of that device
void set_device(int device);
void* default_stream(int device);      // cudaStream_t of the device's compute stream
void synchronize(int device);          // waits for all work on the device
void stream_synchronize(void* stream); // waits for the work queued on one stream
enum class CopyKind { host_to_device, device_to_host, device_to_device };
void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind);  // blocking
std::string device_name(int device);

// The copy engine's side: a second non-blocking stream per device for host<->device copies
// that overlap the compute stream, page-locked host memory (what makes an async copy async),
// and events that order one stream after another without blocking the host.
void* copy_stream(int device);                         // cudaStream_t, created lazily
void copy_async(void* dst, const void* src, std::size_t bytes, CopyKind kind, void* stream);
void* pinned_allocate(std::size_t bytes);              // page-locked host memory
void pinned_free(void* ptr);
void* event_create(int device);                        // cudaEvent_t without timing
void event_destroy(void* event);                       // never throws
void event_record(void* event, void* stream);          // marks the stream's queue so far
void stream_wait_event(void* stream, void* event);     // stream's later work waits for it
void event_synchronize(void* event);                   // the host waits for it
bool event_done(void* event);                          // non-blocking query

}  // namespace convoy::cuda_backend
