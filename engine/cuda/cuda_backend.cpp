// The engine's CUDA runtime backend: device discovery (cached, never throws), one
// non-blocking compute stream per device (created lazily), blocking copies ordered on
// that stream, and the per-device caching allocators.
#include "engine/cuda_backend.h"

#include <memory>
#include <mutex>
#include <vector>

#include "engine/cuda/caching_allocator.h"
#include "engine/cuda/cuda_check.h"

namespace convoy::cuda_backend {
namespace {

struct Discovery {
  int count = 0;
  std::string reason;
};

const Discovery& discovery() {
  static const Discovery d = [] {
    Discovery r;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cudaGetLastError();
      r.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(err);
      return r;
    }
    if (n <= 0) {
      r.reason = "no CUDA device found";
      return r;
    }
    r.count = n;
    return r;
  }();
  return d;
}

void check_index(int device, const char* what) {
  const int n = device_count();
  if (device < 0 || device >= n)
    fail(what, ": CUDA device ", device, " does not exist (", n, " usable",
         n == 0 ? "; " + unavailable_reason() : std::string(), ")");
}

// Per-device state, built on first use and never destroyed: tensors with static storage
// may be freed during exit, after any destructor of ours would have run.
struct DeviceState {
  std::once_flag stream_once;
  cudaStream_t stream = nullptr;
  std::unique_ptr<CachingAllocator> allocator;
};

std::vector<DeviceState*>& states() {
  static auto* s = [] {
    auto* v = new std::vector<DeviceState*>();
    int n = discovery().count;
    for (int i = 0; i < n; ++i) {
      auto* st = new DeviceState();
      st->allocator = std::make_unique<CachingAllocator>(i);
      v->push_back(st);
    }
    return v;
  }();
  return *s;
}

class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    CONVOY_CUDA_CHECK(cudaGetDevice(&previous_));
    changed_ = previous_ != device;
    if (changed_) CONVOY_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceScope() {
    if (changed_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

// The device that owns a device pointer (for choosing the stream of a copy).
int device_of(const void* ptr) {
  cudaPointerAttributes attr{};
  CONVOY_CUDA_CHECK(cudaPointerGetAttributes(&attr, ptr));
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    fail("cuda copy: pointer ", ptr, " is not device memory");
  return attr.device;
}

}  // namespace

int device_count() { return discovery().count; }

std::string unavailable_reason() { return discovery().reason; }

CachingAllocator& caching_allocator(int device) {
  check_index(device, "CUDA allocator");
  return *states()[device]->allocator;
}

Allocator& allocator(int device) { return caching_allocator(device); }

void set_device(int device) {
  check_index(device, "set_device");
  CONVOY_CUDA_CHECK(cudaSetDevice(device));
}

void* default_stream(int device) {
  check_index(device, "default_stream");
  DeviceState& st = *states()[device];
  std::call_once(st.stream_once, [&] {
    DeviceScope scope(device);
    CONVOY_CUDA_CHECK(cudaStreamCreateWithFlags(&st.stream, cudaStreamNonBlocking));
  });
  return st.stream;
}

void synchronize(int device) {
  check_index(device, "synchronize");
  DeviceScope scope(device);
  CONVOY_CUDA_CHECK(cudaDeviceSynchronize());
}

void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  if (bytes == 0) return;
  cudaMemcpyKind k = cudaMemcpyDeviceToDevice;
  int device = 0;
  switch (kind) {
    case CopyKind::host_to_device: k = cudaMemcpyHostToDevice; device = device_of(dst); break;
    case CopyKind::device_to_host: k = cudaMemcpyDeviceToHost; device = device_of(src); break;
    case CopyKind::device_to_device: k = cudaMemcpyDeviceToDevice; device = device_of(src); break;
  }
  auto stream = static_cast<cudaStream_t>(default_stream(device));
  DeviceScope scope(device);
  // On the compute stream, so the copy is ordered after the kernels queued there.
  CONVOY_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, stream));
  CONVOY_CUDA_CHECK(cudaStreamSynchronize(stream));
}

std::string device_name(int device) {
  check_index(device, "device_name");
  cudaDeviceProp prop{};
  CONVOY_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

}  // namespace convoy::cuda_backend
