#include "engine/workspace.h"

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "engine/allocator.h"
#include "engine/cuda_backend.h"

namespace convoy {
namespace {

class DeviceWorkspace final : public kernels::WorkspaceProvider {
 public:
  explicit DeviceWorkspace(Device device) : device_(device) {}

  void* acquire(std::size_t bytes) override { return allocator_for(device_).allocate(bytes); }

  void release(void* ptr, std::size_t bytes, void* stream) noexcept override {
    try {
      if (device_.is_cuda() && stream && stream != cuda_backend::default_stream(device_.index))
        cuda_backend::stream_synchronize(stream);  // work on a side stream may still read it
      allocator_for(device_).deallocate(ptr, bytes);
    } catch (const std::exception& e) {
      // A destructor's path: nothing above can be told. The memory stays with the allocator.
      std::fprintf(stderr, "convoy: releasing %zu bytes of kernel scratch memory on %s failed: %s\n", bytes,
                   device_.to_string().c_str(), e.what());
    }
  }

 private:
  Device device_;
};

}  // namespace

kernels::WorkspaceProvider& workspace_for(Device device) {
  // Never destroyed: kernels may release scratch memory from destructors that run at exit.
  static auto* providers = new std::map<std::pair<int, int>, std::unique_ptr<DeviceWorkspace>>();
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto& p = (*providers)[{static_cast<int>(device.kind), device.index}];
  if (!p) p = std::make_unique<DeviceWorkspace>(device);
  return *p;
}

}  // namespace convoy
