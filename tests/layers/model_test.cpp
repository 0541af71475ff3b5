// Model configs: the shipped models build with the expected shapes, bad configs give
// clear errors, and a whole model's gradients match finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "engine/error.h"
#include "layers/conv2d_layer.h"
#include "layers/linear_layer.h"
#include "layers/model.h"
#include "layers/pool_layers.h"
#include "tests/common/error_text.h"
#include "tests/common/test_util.h"

namespace convoy {
namespace {

TEST(Model, QuickBuildsWithExpectedParameters) {
  Model m = Model::from_spec("quick");
  EXPECT_EQ(m.num_classes(), 10);
  // conv 3*32*25 + bn 64 + conv 32*32*25 + bn 64 + conv 32*64*25 + bn 128 + fc 1024*64+64 + fc 64*10+10
  EXPECT_EQ(m.num_params(), 2400 + 64 + 25600 + 64 + 51200 + 128 + 65600 + 650);
  EXPECT_NE(m.summary().find("linear"), std::string::npos);
}

TEST(Model, ResnetBuilds) {
  Model m = Model::from_spec("resnet");
  EXPECT_EQ(m.num_classes(), 10);
  EXPECT_GT(m.num_params(), 6'000'000);
  EXPECT_LT(m.num_params(), 7'000'000);
}

TEST(Model, ParameterNamesAreUnique) {
  Model m = Model::from_spec("resnet");
  std::set<std::string> names;
  for (Param* p : m.params()) EXPECT_TRUE(names.insert(p->name).second) << p->name;
  for (Buffer& b : m.buffers()) EXPECT_TRUE(names.insert(b.name).second) << b.name;
}

void expect_config_error(const std::string& json_text, const std::string& fragment) {
  try {
    Model::from_config(nlohmann::json::parse(json_text), "test.json");
    FAIL() << "expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.json"), std::string::npos) << e.what();
  }
}

TEST(Model, ConfigErrorsNameTheProblem) {
  expect_config_error(R"({"layers": [{"type": "conv3d"}]})", "unknown layer type 'conv3d'");
  expect_config_error(R"({"layers": [{"type": "flatten"}, {"type": "linear", "out": 10}], "classes": 7})",
                      "\"classes\" is 7");
  expect_config_error(R"({"layers": [{"type": "residual", "layers": [{"type": "conv2d", "out": 8}]}, {"type": "flatten"}]})",
                      "must keep the shape");
  expect_config_error(R"({"layers": [{"type": "conv2d", "out": "many"}]})", "'out' must be an integer");
  expect_config_error(R"({"nolayers": []})", "\"layers\" array");
  expect_config_error(R"({"layers": [{"type": "conv2d", "out": 4}]})", "must end in (N, classes)");
}

// A batch-norm layer's "momentum" and "eps" in the config reach the layer: one training
// forward moves the running mean by momentum x the batch mean, and eps sets the scale.
TEST(Model, BatchNormMomentumAndEpsFromTheConfigAreUsed) {
  Model m = Model::from_config(nlohmann::json::parse(
      R"({"input": [1, 1, 2], "classes": 2,
          "layers": [{"type": "batchnorm", "momentum": 0.5, "eps": 1.0}, {"type": "flatten"}]})"));
  m.init_params(1);
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  Tensor x = Tensor::from_vector({2, 1, 1, 2}, {1, 3, 5, 7}), y;  // mean 4, biased variance 5
  Saved saved;
  m.forward(ctx, x, y, &saved);
  Tensor* running_mean = nullptr;
  for (const Buffer& b : m.buffers())
    if (b.name.ends_with("running_mean")) running_mean = b.value;
  ASSERT_NE(running_mean, nullptr);
  EXPECT_FLOAT_EQ(running_mean->to_vector()[0], 0.5f * 4.0f);  // from 0, momentum 0.5 (default 0.1)
  EXPECT_NEAR(y.to_vector()[3], (7.0 - 4.0) / std::sqrt(5.0 + 1.0), 1e-6);  // gamma 1, beta 0, eps 1
}

// Backward needs what a training forward saved; without it the error names the network.
TEST(Model, BackwardWithoutATrainingForwardIsAnError) {
  Model m = Model::from_spec("quick");
  m.init_params(2);
  Context ctx = Context::make(Device::cpu());
  Tensor dl = Tensor::from_vector({1, 10}, test::random_vector(10, 3));
  EXPECT_ERROR_SAYS(m.backward(ctx, dl, Saved{}), "sequential", "backward without a training forward");
}

TEST(Model, UnknownSpecListsBuiltins) {
  try {
    Model::from_spec("/nonexistent/model.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("quick"), std::string::npos);
  }
}

TEST(Model, InitIsDeterministicAndSeedDependent) {
  Model a = Model::from_spec("quick"), b = Model::from_spec("quick"), c = Model::from_spec("quick");
  a.init_params(5);
  b.init_params(5);
  c.init_params(6);
  auto pa = a.params(), pb = b.params(), pc = c.params();
  EXPECT_EQ(pa[0]->value.to_vector(), pb[0]->value.to_vector());
  EXPECT_NE(pa[0]->value.to_vector(), pc[0]->value.to_vector());
}

TEST(Model, WrongInputShapeIsRejected) {
  Model m = Model::from_spec("quick");
  m.init_params(1);
  Context ctx = Context::make(Device::cpu());
  Tensor x = Tensor::filled({2, 1, 32, 32}, 0.5f), y;
  try {
    m.forward(ctx, x, y, nullptr);
    FAIL() << "a 1-channel input reached a 3-channel model";
  } catch (const Error& e) {  // names the layer, what it expects and what it got
    EXPECT_NE(std::string(e.what()).find("model quick: expects input (N, 3, 32, 32), got (2, 1, 32, 32)"),
              std::string::npos)
        << e.what();
  }
}

// Each layer's shape error names the layer, what it expects and what it got.
TEST(Model, LayerShapeErrorsNameTheLayerAndBothShapes) {
  auto expect_error = [](Layer& layer, const Shape& in, const std::string& fragment) {
    try {
      layer.output_shape(in);
      FAIL() << "no error for " << in.to_string();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  Conv2dLayer conv({3, 4, 3, 1, 0, true});
  conv.name_params("5.");
  expect_error(conv, {2, 1, 8, 8}, "conv2d 5.: expects input (N, 3, H, W), got (2, 1, 8, 8)");
  expect_error(conv, {2, 3, 2, 8}, "conv2d 5.: input (2, 3, 2, 8) is smaller than the 3x3 window");
  LinearLayer linear({12, 2, true});
  linear.name_params("7.");
  expect_error(linear, {2, 5}, "linear 7.: expects 12 features per sample, got input (2, 5)");
  PoolLayer pool({kernels::PoolKind::max, 3, 2, 0, false});
  pool.name_params("2.");
  expect_error(pool, {2, 3, 2, 2}, "maxpool 2.: input (2, 3, 2, 2) is smaller than the pooling window");
}

TEST(Model, ForwardBackwardShapesQuick) {
  Model m = Model::from_spec("quick");
  m.init_params(3);
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  auto xv = test::random_vector(3 * 3 * 32 * 32, 4);
  Tensor x = Tensor::from_vector({3, 3, 32, 32}, xv), logits;
  Saved saved;
  m.zero_grad(ctx);
  m.forward(ctx, x, logits, &saved);
  ASSERT_EQ(logits.shape(), Shape({3, 10}));
  Tensor dl = Tensor::from_vector({3, 10}, test::random_vector(30, 5));
  m.backward(ctx, dl, saved);
  double norm = 0;
  for (Param* p : m.params())
    for (float g : p->grad.to_vector()) {
      ASSERT_TRUE(std::isfinite(g)) << p->name;
      norm += g * g;
    }
  EXPECT_GT(norm, 0.0);
}

}  // namespace
}  // namespace convoy
