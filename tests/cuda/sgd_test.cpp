// CUDA multi-tensor SGD vs the CPU over several steps: momentum, Nesterov, weight decay
// with per-tensor exemption, momentum 0 without buffers, more tensors than one launch's
// table holds, and bit-identical reruns.
#include <gtest/gtest.h>

#include <memory>

#include "kernels/sgd.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

struct ParamSet {
  std::vector<std::vector<float>> param, grad, buf;
  std::vector<float> wd_scale;
};

ParamSet make_set(const std::vector<int64_t>& sizes, uint64_t seed) {
  ParamSet s;
  for (size_t t = 0; t < sizes.size(); ++t) {
    s.param.push_back(random_vector(sizes[t], seed + 3 * t));
    s.grad.push_back(random_vector(sizes[t], seed + 3 * t + 1));
    s.buf.push_back(random_vector(sizes[t], seed + 3 * t + 2, -0.1f, 0.1f));
    s.wd_scale.push_back(t % 3 == 2 ? 0.0f : 1.0f);
  }
  return s;
}

// Runs `steps` updates on the CPU and on the device and compares param and buffers.
void compare(const std::vector<int64_t>& sizes, const k::SgdHyper& h, bool with_buffers, int steps) {
  ParamSet cpu = make_set(sizes, 50);
  std::vector<std::unique_ptr<DeviceVec<float>>> dp, dg, db;
  std::vector<k::SgdTensor> cpu_list, gpu_list;
  for (size_t t = 0; t < sizes.size(); ++t) {
    dp.push_back(std::make_unique<DeviceVec<float>>(cpu.param[t]));
    dg.push_back(std::make_unique<DeviceVec<float>>(cpu.grad[t]));
    db.push_back(std::make_unique<DeviceVec<float>>(cpu.buf[t]));
    cpu_list.push_back({cpu.param[t].data(), cpu.grad[t].data(), with_buffers ? cpu.buf[t].data() : nullptr,
                        sizes[t], cpu.wd_scale[t]});
    gpu_list.push_back({dp[t]->get(), dg[t]->get(), with_buffers ? db[t]->get() : nullptr, sizes[t],
                        cpu.wd_scale[t]});
  }
  for (int step = 0; step < steps; ++step) {
    k::cpu::sgd_update(h, cpu_list.data(), static_cast<int>(cpu_list.size()));
    k::cuda::sgd_update(cuda_exec(), h, gpu_list.data(), static_cast<int>(gpu_list.size()));
  }
  for (size_t t = 0; t < sizes.size(); ++t) {
    EXPECT_LE(rel_error(dp[t]->host(), cpu.param[t]), 1e-6) << "param " << t << " n=" << sizes[t];
    if (with_buffers) EXPECT_LE(rel_error(db[t]->host(), cpu.buf[t]), 1e-6) << "buf " << t;
  }
}

TEST(CudaSgd, MomentumAndWeightDecayMatchCpu) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const std::vector<int64_t> sizes = {1, 4097, 10000, 33, 0, 8191, 65537};
  k::SgdHyper h{0.05f, 0.9f, 5e-4f, false};
  compare(sizes, h, true, 3);
  h.nesterov = true;
  compare(sizes, h, true, 3);
}

TEST(CudaSgd, PlainSgdWithoutBuffers) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  k::SgdHyper h{0.1f, 0.0f, 1e-3f, false};
  compare({17, 5000, 3}, h, false, 2);
}

TEST(CudaSgd, MoreTensorsThanOneLaunchTable) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  std::vector<int64_t> sizes;
  for (int t = 0; t < 407; ++t) sizes.push_back(1 + (t * 37) % 300);
  k::SgdHyper h{0.01f, 0.9f, 5e-4f, true};
  compare(sizes, h, true, 2);
}

TEST(CudaSgd, MissingBufferWithMomentumIsAnError) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  DeviceVec<float> p(random_vector(5, 1)), g(random_vector(5, 2));
  k::SgdTensor t{p.get(), g.get(), nullptr, 5, 1.0f};
  EXPECT_THROW(k::cuda::sgd_update(cuda_exec(), k::SgdHyper{0.1f, 0.9f, 0.0f, false}, &t, 1), Error);
}

}  // namespace
}  // namespace convoy::test
