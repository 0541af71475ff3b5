// Where and how a kernel runs. Every dispatching entry point in kernels/*.h takes an Exec
// first and picks the CPU or CUDA implementation from `backend` at run time; a CUDA call in
// a build without CUDA throws a convoy::Error that says so. Kernels know nothing of
// tensors or layers: they take raw pointers and shape structs.
#pragma once

namespace convoy::kernels {

enum class Backend { cpu, cuda };
// own: convoy's hand-written kernels (the default). vendor: cuBLAS/cuDNN on CUDA, used as
// the yardstick and as a fallback (`--kernels vendor`); on the CPU it means the same as own.
enum class Impl { own, vendor };

struct Exec {
  Backend backend = Backend::cpu;
  int device = 0;          // CUDA device index
  void* stream = nullptr;  // cudaStream_t; nullptr = the device's compute stream
  Impl impl = Impl::own;

  bool is_cuda() const { return backend == Backend::cuda; }
};

// Throws the "built without CUDA" error for `op`; used by the dispatchers.
[[noreturn]] void cuda_not_built(const char* op);

}  // namespace convoy::kernels

// Host/device qualifier for small helpers shared by CPU and CUDA code.
#if defined(__CUDACC__)
#define CONVOY_HD __host__ __device__ __forceinline__
#else
#define CONVOY_HD inline
#endif
