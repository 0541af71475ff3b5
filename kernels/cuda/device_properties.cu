// Properties of a CUDA device that launch code sizes its grids by.
#include <array>

#include "kernels/cuda/cuda_util.cuh"

namespace convoy::kernels::cuda {

int multiprocessor_count(int device) {
  static std::array<int, 64> cache{};
  if (device < 0 || device >= static_cast<int>(cache.size())) fail("multiprocessor_count: device ", device);
  if (cache[device] == 0) {
    int n = 0;
    CONVOY_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    cache[device] = n;
  }
  return cache[device];
}

}  // namespace convoy::kernels::cuda
