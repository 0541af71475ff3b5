// Context: what a forward/backward call needs to know about where it runs. No global
// state: the device, the stream, the kernel choice and the mode travel here.
#pragma once
#include <cstdint>

#include "engine/device.h"
#include "kernels/exec.h"

namespace convoy {

class Collective;  // engine/collective.h

// The kernels' view of a device (compute stream of the device; own kernels).
kernels::Exec exec_for(Device device, kernels::Impl impl = kernels::Impl::own);

struct Context {
  Device device = Device::cpu();
  kernels::Exec exec;   // derived from device; carries the CUDA stream
  bool training = false;
  uint64_t step = 0;    // global step, for layers that draw random numbers
  uint64_t seed = 0;
  // Data-parallel training: the cross-process collective (null: one process) and whether
  // batch-norm layers synchronise their batch statistics through it (--sync-bn).
  Collective* collective = nullptr;
  bool sync_batchnorm = false;
  // Layers may run adjacent layers as one fused op in training (layers/fusion.h); off, every
  // layer runs on its own (the tests compare the two).
  bool fuse_layers = true;

  static Context make(Device device, kernels::Impl impl = kernels::Impl::own) {
    Context c;
    c.device = device;
    c.exec = exec_for(device, impl);
    return c;
  }
};

}  // namespace convoy
