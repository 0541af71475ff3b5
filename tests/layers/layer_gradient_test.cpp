// Every layer's backward pass against central differences of its double-precision twin
// (tests/layers/gradient_checker.h), on shapes that reach every branch of the default CPU
// dispatch through the public entry points (the convolution cases are listed with their
// branches in tests/layers/conv_cases.h and checked against them in conv_dispatch_test.cpp).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "layers/activation_layers.h"
#include "layers/batchnorm_layer.h"
#include "layers/conv2d_layer.h"
#include "layers/linear_layer.h"
#include "layers/pool_layers.h"
#include "layers/sequential.h"
#include "layers/shape_layers.h"
#include "tests/layers/conv_cases.h"
#include "tests/layers/gradient_checker.h"

namespace convoy {
namespace {

using test::check_layer_gradients;
using test::ConvCase;
using test::GradCheckOptions;

// Inputs kept away from the kinks of ReLU so that +-h never crosses one.
std::vector<float> away_from_zero(int64_t n, uint64_t seed) {
  auto v = test::random_vector(n, seed, 0.1f, 1.0f);
  auto s = test::random_vector(n, seed + 99, -1.f, 1.f);
  for (int64_t i = 0; i < n; ++i) v[i] = s[i] < 0 ? -v[i] : v[i];
  return v;
}

class ConvGradient : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradient, MatchesDoubleReference) {
  const ConvCase& c = GetParam();
  Conv2dLayer layer({c.C, c.K, c.kernel, c.stride, c.pad, c.bias});
  GradCheckOptions o;
  o.threads = c.threads;
  check_layer_gradients(layer, {c.N, c.C, c.H, c.W}, c.seed, o);
}

INSTANTIATE_TEST_SUITE_P(Dispatch, ConvGradient, ::testing::ValuesIn(test::kConvCases),
                         [](const auto& info) { return std::string(info.param.name); });

// sgemm reads op(A) in place when the output is narrow (linear dW: in_features <= 48) and
// packs it otherwise; both, plus edge tiles (sizes off the micro-tile).
TEST(LayerGradient, LinearWithBiasNarrow) {
  LinearLayer layer({7, 5, true});
  check_layer_gradients(layer, {4, 7}, 14);
}

TEST(LayerGradient, LinearWithBiasWidePackedA) {
  LinearLayer layer({70, 37, true});
  check_layer_gradients(layer, {9, 70}, 27);
}

TEST(LayerGradient, LinearOnImageInput) {
  LinearLayer layer({2 * 3 * 3, 4, false});
  check_layer_gradients(layer, {3, 2, 3, 3}, 15);
}

TEST(LayerGradient, BatchNormTraining) {
  BatchNormLayer layer({3, 1e-5f, 0.1f, false});
  check_layer_gradients(layer, {4, 3, 3, 3}, 16);
}

TEST(LayerGradient, BatchNormFusedRelu) {
  BatchNormLayer layer({3, 1e-5f, 0.1f, true});
  check_layer_gradients(layer, {4, 3, 3, 3}, 17);
}

TEST(LayerGradient, BatchNormAfterLinear) {
  BatchNormLayer layer({5, 1e-5f, 0.1f, false});
  check_layer_gradients(layer, {6, 5}, 18);
}

// More than 2^15 elements: channels split over threads, and planes of more than 2048 values
// summed in several float chunks.
TEST(LayerGradient, BatchNormParallelChunkedChannels) {
  BatchNormLayer layer({2, 1e-5f, 0.1f, true});
  check_layer_gradients(layer, {8, 2, 48, 48}, 28);
}

TEST(LayerGradient, Relu) {
  ReluLayer layer;
  auto v = away_from_zero(2 * 3 * 4 * 4, 19);
  check_layer_gradients(layer, {2, 3, 4, 4}, 19, {}, &v);
}

TEST(LayerGradient, Gelu) {
  GeluLayer layer;
  check_layer_gradients(layer, {2, 3, 4, 4}, 20);
}

// Pooling forms: overlapping padded windows (clipped at every border), non-overlapping
// windows that drop a trailing row and column, stride 1, global, and a single plane (no
// thread split); each for max and average.
TEST(LayerGradient, MaxPool3Stride2Pad1) {
  PoolLayer layer({kernels::PoolKind::max, 3, 2, 1, false});
  check_layer_gradients(layer, {2, 2, 7, 6}, 21);
}

TEST(LayerGradient, AvgPool3Stride2Pad1) {
  PoolLayer layer({kernels::PoolKind::avg, 3, 2, 1, false});
  check_layer_gradients(layer, {2, 2, 7, 6}, 22);
}

TEST(LayerGradient, MaxPool2Stride2OddSize) {
  PoolLayer layer({kernels::PoolKind::max, 2, 2, 0, false});
  check_layer_gradients(layer, {2, 3, 5, 7}, 29);
}

TEST(LayerGradient, AvgPool2Stride2OddSize) {
  PoolLayer layer({kernels::PoolKind::avg, 2, 2, 0, false});
  check_layer_gradients(layer, {2, 3, 5, 7}, 30);
}

TEST(LayerGradient, MaxPool3Stride1Pad1) {
  PoolLayer layer({kernels::PoolKind::max, 3, 1, 1, false});
  check_layer_gradients(layer, {2, 2, 5, 6}, 31);
}

TEST(LayerGradient, AvgPool3Stride1Pad1SinglePlane) {
  PoolLayer layer({kernels::PoolKind::avg, 3, 1, 1, false});
  check_layer_gradients(layer, {1, 1, 6, 5}, 32);
}

TEST(LayerGradient, MaxPoolSinglePlane) {
  PoolLayer layer({kernels::PoolKind::max, 3, 2, 1, false});
  check_layer_gradients(layer, {1, 1, 7, 7}, 33);
}

TEST(LayerGradient, GlobalMaxPool) {
  PoolLayer layer({kernels::PoolKind::max, 0, 0, 0, true});
  check_layer_gradients(layer, {2, 3, 4, 4}, 23);
}

TEST(LayerGradient, GlobalAvgPool) {
  PoolLayer layer({kernels::PoolKind::avg, 0, 0, 0, true});
  check_layer_gradients(layer, {2, 3, 4, 5}, 34);
}

TEST(LayerGradient, ScaleAndFlatten) {
  std::vector<std::unique_ptr<Layer>> ls;
  ls.push_back(std::make_unique<FlattenLayer>());
  ls.push_back(std::make_unique<ScaleLayer>(0.125f));
  SequentialLayer seq(std::move(ls));
  check_layer_gradients(seq, {2, 3, 2, 2}, 24);
}

TEST(LayerGradient, ResidualBlock) {
  auto body = std::make_unique<SequentialLayer>();
  body->add(std::make_unique<Conv2dLayer>(Conv2dConfig{3, 3, 3, 1, 1, false}));
  body->add(std::make_unique<BatchNormLayer>(BatchNormConfig{3, 1e-5f, 0.1f, false}));
  body->add(std::make_unique<GeluLayer>());
  ResidualLayer layer(std::move(body));
  layer.name_params("r.");
  check_layer_gradients(layer, {3, 3, 4, 4}, 25);
}

TEST(LayerGradient, SequentialConvBnPoolLinear) {
  auto seq = std::make_unique<SequentialLayer>();
  seq->add(std::make_unique<Conv2dLayer>(Conv2dConfig{2, 3, 3, 1, 1, false}));
  seq->add(std::make_unique<BatchNormLayer>(BatchNormConfig{3, 1e-5f, 0.1f, false}));
  seq->add(std::make_unique<PoolLayer>(PoolConfig{kernels::PoolKind::avg, 2, 2, 0, false}));
  seq->add(std::make_unique<FlattenLayer>());
  seq->add(std::make_unique<LinearLayer>(LinearConfig{3 * 3 * 3, 4, true}));
  seq->name_params("");
  check_layer_gradients(*seq, {4, 2, 6, 6}, 26);
}

// A ReLU batch-norm followed by a max pool runs fused in training (layers/fusion.h): the pair's
// gradients against the double twin of the two layers.
TEST(LayerGradient, SequentialConvBnReluMaxPoolLinearFused) {
  auto seq = std::make_unique<SequentialLayer>();
  seq->add(std::make_unique<Conv2dLayer>(Conv2dConfig{2, 3, 3, 1, 1, false}));
  seq->add(std::make_unique<BatchNormLayer>(BatchNormConfig{3, 1e-5f, 0.1f, true}));
  seq->add(std::make_unique<PoolLayer>(PoolConfig{kernels::PoolKind::max, 3, 2, 1, false}));
  seq->add(std::make_unique<FlattenLayer>());
  seq->add(std::make_unique<LinearLayer>(LinearConfig{3 * 4 * 4, 4, true}));
  seq->name_params("");
  check_layer_gradients(*seq, {4, 2, 7, 7}, 27);
}

// The checker itself: a sample of a large tensor holds every border row and column of a
// slice and every index of every dimension.
TEST(GradientChecker, LargeTensorSampleCoversBordersAndEveryIndex) {
  GradCheckOptions o;
  const Shape shape{4, 8, 9, 10};
  auto where = test::positions_to_check(shape, o, 1);
  ASSERT_LT(static_cast<int64_t>(where.size()), shape.numel() / 4);
  std::set<int64_t> seen[4];
  std::map<int64_t, int> border_per_slice;
  for (int64_t i : where) {
    const int64_t c = i % 10, r = (i / 10) % 9, ch = (i / 90) % 8, n = i / 720;
    seen[0].insert(n), seen[1].insert(ch), seen[2].insert(r), seen[3].insert(c);
    if (r == 0 || r == 8 || c == 0 || c == 9) ++border_per_slice[i / 90];
  }
  for (int d = 0; d < 4; ++d) EXPECT_EQ(static_cast<int64_t>(seen[d].size()), shape[d]) << "dimension " << d;
  int full = 0;
  for (auto& [s, n] : border_per_slice) full += n == 2 * 10 + 2 * 7;
  EXPECT_GE(full, 1) << "no slice has all of its border rows and columns checked";
  EXPECT_EQ(test::positions_to_check({4, 7}, o, 1).size(), 28u) << "small tensors are checked in full";
}

}  // namespace
}  // namespace convoy
