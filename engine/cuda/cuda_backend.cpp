// The engine's CUDA runtime backend: device discovery (cached, never throws), one
// non-blocking compute stream and one copy stream per device (created lazily), blocking
// copies ordered on the compute stream, async copies on any stream, pinned host memory,
// events, and the per-device caching allocators.
#include "engine/cuda_backend.h"

#include <memory>
#include <mutex>
#include <vector>

#include "engine/caching_allocator.h"
#include "kernels/cuda/cuda_check.h"

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

// Device memory through cudaMalloc / cudaFree, for the caching allocator.
class CudaMemory final : public DeviceMemory {
 public:
  explicit CudaMemory(int device) : device_(device) {}
  void* allocate(std::size_t bytes) override {
    DeviceScope scope(device_);
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky: clear it so the retry and later calls see no error
      return nullptr;
    }
    CONVOY_CUDA_CHECK(err);
    return p;
  }
  void free(void* ptr) noexcept override {
    cudaFree(ptr);  // a failure here (driver shut down at exit) has no one to tell
  }
  void synchronize() override {
    DeviceScope scope(device_);
    CONVOY_CUDA_CHECK(cudaDeviceSynchronize());
  }
  std::string out_of_memory() const override { return cudaGetErrorString(cudaErrorMemoryAllocation); }

 private:
  int device_;
};

// Per-device state, built on first use and never destroyed: tensors with static storage
// may be freed during exit, after any destructor of ours would have run.
struct LazyStream {
  std::once_flag once;
  cudaStream_t stream = nullptr;
};

struct DeviceState {
  LazyStream compute, copy;
  std::unique_ptr<CachingAllocator> allocator;
};

std::vector<DeviceState*>& states() {
  static auto* s = [] {
    auto* v = new std::vector<DeviceState*>();
    int n = discovery().count;
    for (int i = 0; i < n; ++i) {
      auto* st = new DeviceState();
      st->allocator = std::make_unique<CachingAllocator>(i, std::make_unique<CudaMemory>(i));
      v->push_back(st);
    }
    return v;
  }();
  return *s;
}

// The device that owns a device pointer (for choosing the stream of a copy).
int device_of(const void* ptr) {
  cudaPointerAttributes attr{};
  CONVOY_CUDA_CHECK(cudaPointerGetAttributes(&attr, ptr));
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    fail("cuda copy: pointer ", ptr, " is not device memory");
  return attr.device;
}

// A non-blocking stream of `device`, made on first use.
cudaStream_t lazy_stream(int device, LazyStream& s) {
  std::call_once(s.once, [&] {
    DeviceScope scope(device);
    CONVOY_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
  });
  return s.stream;
}

}  // namespace

bool emulated() { return false; }

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
  return lazy_stream(device, states()[device]->compute);
}

void synchronize(int device) {
  check_index(device, "synchronize");
  DeviceScope scope(device);
  CONVOY_CUDA_CHECK(cudaDeviceSynchronize());
}

namespace {

// The runtime's kind of a copy and the device whose stream orders it.
struct CopyRoute {
  cudaMemcpyKind kind;
  int device;
};

CopyRoute route(void* dst, const void* src, CopyKind kind) {
  switch (kind) {
    case CopyKind::host_to_device: return {cudaMemcpyHostToDevice, device_of(dst)};
    case CopyKind::device_to_host: return {cudaMemcpyDeviceToHost, device_of(src)};
    case CopyKind::device_to_device: break;
  }
  return {cudaMemcpyDeviceToDevice, device_of(src)};
}

}  // namespace

void copy(void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  if (bytes == 0) return;
  const auto [k, device] = route(dst, src, kind);
  auto stream = static_cast<cudaStream_t>(default_stream(device));
  DeviceScope scope(device);
  // On the compute stream, so the copy is ordered after the kernels queued there.
  CONVOY_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, stream));
  CONVOY_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void stream_synchronize(void* stream) {
  CONVOY_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

void* copy_stream(int device) {
  check_index(device, "copy_stream");
  return lazy_stream(device, states()[device]->copy);
}

void copy_async(void* dst, const void* src, std::size_t bytes, CopyKind kind, void* stream) {
  if (bytes == 0) return;
  const auto [k, device] = route(dst, src, kind);
  DeviceScope scope(device);
  CONVOY_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, static_cast<cudaStream_t>(stream)));
}

void* pinned_allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  CONVOY_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocPortable));
  return p;
}

void pinned_free(void* ptr) {
  if (ptr) cudaFreeHost(ptr);  // a failure here (driver shut down at exit) has no one to tell
}

void* event_create(int device) {
  check_index(device, "event_create");
  DeviceScope scope(device);
  cudaEvent_t e = nullptr;
  CONVOY_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

void event_destroy(void* event) {
  if (event) cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

void event_record(void* event, void* stream) {
  CONVOY_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)));
}

void stream_wait_event(void* stream, void* event) {
  CONVOY_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream), static_cast<cudaEvent_t>(event), 0));
}

void event_synchronize(void* event) { CONVOY_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event))); }

bool event_done(void* event) {
  const cudaError_t err = cudaEventQuery(static_cast<cudaEvent_t>(event));
  if (err == cudaErrorNotReady) return false;
  CONVOY_CUDA_CHECK(err);
  return true;
}

std::string device_name(int device) {
  check_index(device, "device_name");
  cudaDeviceProp prop{};
  CONVOY_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

}  // namespace convoy::cuda_backend
