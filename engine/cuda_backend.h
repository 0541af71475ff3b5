// The engine's view of the CUDA runtime, with no CUDA header in sight, so that host code
// compiles without the toolkit. Implemented in engine/cuda/ when the CUDA backend is
// built, and by engine/cuda_backend_nocuda.cpp (which explains that it was not) otherwise.
#pragma once
#include <cstddef>
#include <string>

#include "engine/allocator.h"

namespace convoy::cuda_backend {

int device_count();                    // 0 when no usable device
std::string unavailable_reason();      // why device_count() is 0; "" otherwise
Allocator& allocator(int device);      // the caching allocator of that device
void set_device(int device);
void* default_stream(int device);      // cudaStream_t of the device's compute stream
void synchronize(int device);          // waits for all work on the device
enum class CopyKind { host_to_device, device_to_host, device_to_device };
void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind);  // blocking
std::string device_name(int device);

}  // namespace convoy::cuda_backend
