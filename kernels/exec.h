// Where and how a kernel runs. Every dispatching entry point in kernels/*.h takes an Exec
// first and picks the CPU or CUDA implementation from `backend` at run time; a CUDA call in
// a build without CUDA throws a convoy::Error that says so. Kernels know nothing of
// tensors or layers: they take raw pointers and shape structs. An Exec is made by the
// engine (convoy::exec_for, convoy::Context), which fills in the stream and the workspace
// provider of its device; kernels/ never reaches up for them.
//
// Scratch memory belongs to the caller, as in CUTLASS: a CUDA kernel that needs a workspace
// asks the Exec's provider for it (ScratchBuffer) and gives it back once its work is queued.
// (CPU kernels run on the calling thread and its OpenMP team; each thread keeps its own
// grow-only buffers, kernels/cpu/thread_scratch.h, and no stream is involved.)
//
// The stream-safety rule, the one rule for every scratch buffer on a device:
//   A buffer may be released as soon as the work that uses it is queued, when that work runs
//   on the device's compute stream: the provider hands a released block out again only to
//   work that is queued after it on that stream. For work on any other stream, release
//   first waits for that stream. ScratchBuffer passes the Exec's stream to release(), and
//   the provider applies the rule; no kernel frees scratch memory any other way.
#pragma once
#include <cstddef>

namespace convoy::kernels {

enum class Backend { cpu, cuda };
// own: convoy's hand-written kernels (the default). vendor: cuBLAS/cuDNN on CUDA, used as
// the yardstick and as a fallback (`--kernels vendor`); on the CPU it means the same as own.
enum class Impl { own, vendor };

// Scratch memory of one device, owned by the engine (the device's caching allocator, or the
// host heap for the CPU).
class WorkspaceProvider {
 public:
  virtual ~WorkspaceProvider() = default;
  virtual void* acquire(std::size_t bytes) = 0;  // throws convoy::Error when it cannot
  // Gives a buffer back under the stream-safety rule above; `stream` is where the work that
  // used it was queued (nullptr: the compute stream). Never throws.
  virtual void release(void* ptr, std::size_t bytes, void* stream) noexcept = 0;
};

struct Exec {
  Backend backend = Backend::cpu;
  int device = 0;                             // CUDA device index
  void* stream = nullptr;                     // cudaStream_t; nullptr = the device's compute stream
  Impl impl = Impl::own;
  WorkspaceProvider* workspace = nullptr;     // scratch memory of `device`

  bool is_cuda() const { return backend == Backend::cuda; }
};

// A scratch buffer for the duration of a kernel's host-side launch code, from the Exec's
// provider, returned under the stream-safety rule when it goes out of scope.
class ScratchBuffer {
 public:
  ScratchBuffer(const Exec& exec, std::size_t bytes);  // fails when the Exec has no provider
  ~ScratchBuffer();
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  WorkspaceProvider* provider_;
  void* stream_;
  std::size_t bytes_;
  void* ptr_ = nullptr;
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
