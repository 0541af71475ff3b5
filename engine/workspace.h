// Kernel scratch memory (kernels/exec.h's WorkspaceProvider), one provider per device, fed by
// that device's allocator: the CUDA caching allocator, or the host heap for the CPU.
// release() applies kernels/exec.h's stream-safety rule: a buffer used on the device's
// compute stream goes back to the allocator at once; one used on any other stream only after
// that stream has finished.
#pragma once
#include "engine/device.h"
#include "kernels/exec.h"

namespace convoy {

kernels::WorkspaceProvider& workspace_for(Device device);  // lives as long as the process

}  // namespace convoy
