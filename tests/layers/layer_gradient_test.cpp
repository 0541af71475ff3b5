// Every layer's backward pass against central finite differences.
#include <gtest/gtest.h>

#include "layers/activation_layers.h"
#include "layers/batchnorm_layer.h"
#include "layers/conv2d_layer.h"
#include "layers/linear_layer.h"
#include "layers/pool_layers.h"
#include "layers/sequential.h"
#include "layers/shape_layers.h"
#include "tests/layers/gradient_checker.h"

namespace convoy {
namespace {

using test::check_layer_gradients;
using test::GradCheckOptions;

// Inputs kept away from the kinks of ReLU/max so that +-eps never crosses one.
std::vector<float> away_from_zero(int64_t n, uint64_t seed) {
  auto v = test::random_vector(n, seed, 0.1f, 1.0f);
  auto s = test::random_vector(n, seed + 99, -1.f, 1.f);
  for (int64_t i = 0; i < n; ++i) v[i] = s[i] < 0 ? -v[i] : v[i];
  return v;
}

TEST(LayerGradient, Conv2dStride1Pad1) {
  Conv2dLayer layer({3, 4, 3, 1, 1, true});
  check_layer_gradients(layer, {2, 3, 5, 6}, 11);
}

TEST(LayerGradient, Conv2dStride2NoBias5x5) {
  Conv2dLayer layer({2, 3, 5, 2, 2, false});
  check_layer_gradients(layer, {2, 2, 7, 7}, 12);
}

TEST(LayerGradient, Conv2d1x1) {
  Conv2dLayer layer({4, 3, 1, 1, 0, true});
  check_layer_gradients(layer, {3, 4, 3, 5}, 13);
}

TEST(LayerGradient, LinearWithBias) {
  LinearLayer layer({7, 5, true});
  check_layer_gradients(layer, {4, 7}, 14);
}

TEST(LayerGradient, LinearOnImageInput) {
  LinearLayer layer({2 * 3 * 3, 4, false});
  check_layer_gradients(layer, {3, 2, 3, 3}, 15);
}

TEST(LayerGradient, BatchNormTraining) {
  BatchNormLayer layer({3, 1e-5f, 0.1f, false});
  GradCheckOptions o;
  o.eps = 1e-2f;
  check_layer_gradients(layer, {4, 3, 3, 3}, 16, o);
}

TEST(LayerGradient, BatchNormFusedRelu) {
  BatchNormLayer layer({3, 1e-5f, 0.1f, true});
  GradCheckOptions o;
  o.eps = 1e-3f;
  o.tolerance = 3e-2;
  check_layer_gradients(layer, {4, 3, 3, 3}, 17, o);
}

TEST(LayerGradient, BatchNormAfterLinear) {
  BatchNormLayer layer({5, 1e-5f, 0.1f, false});
  check_layer_gradients(layer, {6, 5}, 18);
}

TEST(LayerGradient, Relu) {
  ReluLayer layer;
  auto v = away_from_zero(2 * 3 * 4 * 4, 19);
  check_layer_gradients(layer, {2, 3, 4, 4}, 19, {}, true, &v);
}

TEST(LayerGradient, Gelu) {
  GeluLayer layer;
  GradCheckOptions o;
  o.eps = 1e-3f;
  check_layer_gradients(layer, {2, 3, 4, 4}, 20, o);
}

TEST(LayerGradient, MaxPool3Stride2Pad1) {
  PoolLayer layer({kernels::PoolKind::max, 3, 2, 1, false});
  GradCheckOptions o;
  o.eps = 1e-3f;
  check_layer_gradients(layer, {2, 2, 7, 6}, 21, o);
}

TEST(LayerGradient, AvgPool3Stride2Pad1) {
  PoolLayer layer({kernels::PoolKind::avg, 3, 2, 1, false});
  check_layer_gradients(layer, {2, 2, 7, 6}, 22);
}

TEST(LayerGradient, GlobalMaxPool) {
  PoolLayer layer({kernels::PoolKind::max, 0, 0, 0, true});
  GradCheckOptions o;
  o.eps = 1e-3f;
  check_layer_gradients(layer, {2, 3, 4, 4}, 23, o);
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
  GradCheckOptions o;
  o.eps = 3e-3f;
  o.tolerance = 3e-2;
  check_layer_gradients(layer, {3, 3, 4, 4}, 25, o);
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

TEST(LayerGradient, BatchNormInferenceUsesRunningStats) {
  BatchNormLayer layer({2, 1e-5f, 0.5f, false});
  Context ctx = Context::make(Device::cpu());
  for (Param* p : layer.params()) p->grad = Tensor::zeros(p->value.shape());
  Tensor x = Tensor::from_vector({4, 2, 1, 1}, {1, 10, 3, 20, 5, 30, 7, 40});
  Tensor y;
  Saved saved;
  layer.forward(ctx, x, y, &saved);  // running_mean = 0.5 * 0 + 0.5 * (4, 25)
  auto bufs = layer.buffers();
  ASSERT_EQ(bufs.size(), 2u);
  auto rm = bufs[0].value->to_vector();
  EXPECT_NEAR(rm[0], 2.0f, 1e-5);
  EXPECT_NEAR(rm[1], 12.5f, 1e-5);
  Tensor yi;
  layer.forward(ctx, x, yi, nullptr);
  auto rv = bufs[1].value->to_vector();  // 0.5 * 1 + 0.5 * unbiased var
  float expect0 = (x.data()[0] - rm[0]) / std::sqrt(rv[0] + 1e-5f);
  EXPECT_NEAR(yi.data()[0], expect0, 1e-4);
}

}  // namespace
}  // namespace convoy
