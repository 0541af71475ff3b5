#include "engine/context.h"

#include "engine/cuda_backend.h"
#include "engine/workspace.h"

namespace convoy {

kernels::Exec exec_for(Device device, kernels::Impl impl) {
  kernels::Exec e;
  e.impl = impl;
  e.workspace = &workspace_for(device);
  if (device.is_cuda()) {
    e.backend = kernels::Backend::cuda;
    e.device = device.index;
    e.stream = cuda_backend::default_stream(device.index);
  }
  return e;
}

}  // namespace convoy
