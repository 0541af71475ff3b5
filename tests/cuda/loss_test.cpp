// CUDA softmax cross-entropy vs the double-precision CPU reference: label smoothing,
// grad_scale, K both below and above the warp width, null dlogits, determinism, and the
// GPU-only contract for an out-of-range label (NaN row instead of an out-of-bounds read).
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/loss.h"
#include "tests/common/test_util.h"
#include "tests/cuda/ops_test_util.h"

namespace convoy::test {
namespace {

namespace k = convoy::kernels;

std::vector<int32_t> random_labels(int N, int K, uint64_t seed) {
  const auto u = random_vector(N, seed, 0.0f, 1.0f);
  std::vector<int32_t> labels(N);
  for (int i = 0; i < N; ++i) labels[i] = std::min(K - 1, static_cast<int>(u[i] * K));
  return labels;
}

TEST(CudaLoss, SoftmaxXentMatchesReference) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  for (auto [N, K] : {std::pair{37, 10}, std::pair{19, 1000}, std::pair{5, 33}}) {
    for (float smoothing : {0.0f, 0.1f}) {
      const auto logits = random_vector(int64_t{N} * K, 41, -6.0f, 6.0f);
      const auto labels = random_labels(N, K, 42);
      std::vector<float> loss(N), dlogits(int64_t{N} * K);
      k::SoftmaxXentArgs a;
      a.N = N; a.K = K; a.logits = logits.data(); a.labels = labels.data();
      a.smoothing = smoothing; a.grad_scale = 1.0f / N; a.loss = loss.data(); a.dlogits = dlogits.data();
      k::cpu::softmax_cross_entropy_reference(a);

      DeviceVec<float> dz(logits), dloss(poisoned(N)), dd(poisoned(int64_t{N} * K));
      DeviceVec<int32_t> dlabels(labels);
      a.logits = dz.get(); a.labels = dlabels.get(); a.loss = dloss.get(); a.dlogits = dd.get();
      k::cuda::softmax_cross_entropy(cuda_exec(), a);
      const auto got_loss = dloss.host(), got_d = dd.host();
      EXPECT_LE(rel_error(got_loss, loss), 1e-5) << N << "x" << K << " s=" << smoothing;
      EXPECT_LE(rel_error(got_d, dlogits), 1e-5) << N << "x" << K << " s=" << smoothing;

      // Loss only (dlogits null), and the same bits again.
      dloss.upload(poisoned(N));
      a.dlogits = nullptr;
      k::cuda::softmax_cross_entropy(cuda_exec(), a);
      EXPECT_TRUE(bit_identical(dloss.host(), got_loss));
    }
  }
}

TEST(CudaLoss, OutOfRangeLabelGivesNanRow) {
  CONVOY_REQUIRE_CUDA_DEVICE();
  const int N = 3, K = 10;
  const auto logits = random_vector(N * K, 43);
  std::vector<int32_t> labels = {1, 10, 2};
  DeviceVec<float> dz(logits), dloss(random_vector(N, 44)), dd(random_vector(N * K, 45));
  DeviceVec<int32_t> dlabels(labels);
  k::SoftmaxXentArgs a;
  a.N = N; a.K = K; a.logits = dz.get(); a.labels = dlabels.get(); a.loss = dloss.get(); a.dlogits = dd.get();
  k::cuda::softmax_cross_entropy(cuda_exec(), a);
  const auto loss = dloss.host(), d = dd.host();
  EXPECT_TRUE(std::isfinite(loss[0]));
  EXPECT_TRUE(std::isnan(loss[1]));
  EXPECT_TRUE(std::isfinite(loss[2]));
  for (int k2 = 0; k2 < K; ++k2) EXPECT_TRUE(std::isnan(d[K + k2]));
}

}  // namespace
}  // namespace convoy::test
