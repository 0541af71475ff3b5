// Kernel scratch memory under kernels/exec.h's stream-safety rule: a kernel queued on a side
// stream (not the device's compute stream) gets its workspace back only after that stream
// has run it. On the emulated device a release that did not wait makes the device fail; on
// a GPU it would be a race that another allocation could win.
#include <gtest/gtest.h>

#include "engine/context.h"
#include "engine/cuda_backend.h"
#include "kernels/conv2d.h"
#include "tests/common/test_util.h"
#include "tests/cuda/gpu_test_util.h"

namespace convoy {
namespace {

TEST(KernelWorkspace, AKernelOnASideStreamKeepsItsWorkspaceUntilItRan) {
  CONVOY_SKIP_WITHOUT_GPU();
  kernels::Conv2dShape s{4, 3, 12, 12, 8, 3, 3, 1, 1, 1, 1};
  const auto x = test::random_vector(4 * 3 * 12 * 12, 1), dy = test::random_vector(4 * 8 * 12 * 12, 2);
  Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy), gdw = Tensor::zeros({8 * 3 * 9}, Device::cuda(0));
  cuda_backend::synchronize(0);  // the side stream is not ordered after the compute stream's fill
  kernels::Exec side = exec_for(Device::cuda(0));
  side.stream = cuda_backend::copy_stream(0);
  kernels::conv2d_backward_weights(side, s, gx.data(), gdy.data(), gdw.data(), nullptr);
  // Allocations on the compute stream now may take the workspace's block if it came back early.
  Tensor other = Tensor::filled({8 * 3 * 9}, 7.0f, Device::cuda(0));
  cuda_backend::synchronize(0);
  std::vector<float> want(8 * 3 * 9, 0.0f);
  kernels::cpu::conv2d_backward_weights_reference(s, x.data(), dy.data(), want.data(), nullptr);
  EXPECT_LT(test::rel_error(gdw.to_vector(), want), 1e-4);
  EXPECT_EQ(other.to_vector(), std::vector<float>(8 * 3 * 9, 7.0f));
}

}  // namespace
}  // namespace convoy
