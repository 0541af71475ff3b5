// Sequential's fused batch-norm + ReLU + max-pool (layers/fusion.h) against the same layers
// run one by one (Context::fuse_layers off): quick's logits, input gradient, every parameter
// gradient and the running statistics agree; the backward hook still sees every layer once,
// in order; and a model whose batch-norm has no ReLU, or an inference forward, is not fused.
#include <gtest/gtest.h>

#include <vector>

#include "engine/threads.h"
#include "layers/model.h"
#include "tests/common/test_util.h"

namespace convoy {
namespace {

struct StepResult {
  std::vector<float> logits, dx;
  std::vector<std::vector<float>> grads, buffers;
  std::vector<size_t> hooks;
  bool first_pair_fused = false;
};

StepResult step(const std::string& spec, bool fuse) {
  set_num_threads(2);
  Model m = Model::from_spec(spec);
  m.init_params(11);
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  ctx.fuse_layers = fuse;
  const Shape xs = m.input_shape(6);
  Tensor x = Tensor::from_vector(xs, test::random_vector(xs.numel(), 5, -1.5f, 1.5f)), logits, dx;
  StepResult r;
  m.set_backward_hook([&](size_t layer) { r.hooks.push_back(layer); });
  Saved saved;
  m.zero_grad(ctx);
  m.forward(ctx, x, logits, &saved);
  Tensor dlogits = Tensor::from_vector(logits.shape(), test::random_vector(logits.numel(), 6));
  m.network().backward(ctx, dlogits, saved, &dx);
  r.logits = logits.to_vector();
  r.dx = dx.to_vector();
  for (Param* p : m.params()) r.grads.push_back(p->grad.to_vector());
  for (const Buffer& b : m.buffers()) r.buffers.push_back(b.value->to_vector());
  r.first_pair_fused = saved.children.size() > 1 && saved.children[1].fused_with_next;
  return r;
}

TEST(LayerFusion, QuickFusedStepMatchesTheLayersOneByOne) {
  const StepResult fused = step("quick", true), plain = step("quick", false);
  EXPECT_TRUE(fused.first_pair_fused) << "quick's batchnorm(relu) -> maxpool should run fused";
  EXPECT_FALSE(plain.first_pair_fused);
  EXPECT_LT(test::rel_error(fused.logits, plain.logits), 1e-5);
  EXPECT_LT(test::rel_error(fused.dx, plain.dx), 1e-4);
  ASSERT_EQ(fused.grads.size(), plain.grads.size());
  for (size_t i = 0; i < fused.grads.size(); ++i)
    EXPECT_LT(test::rel_error(fused.grads[i], plain.grads[i]), 1e-4) << "parameter " << i;
  for (size_t i = 0; i < fused.buffers.size(); ++i)
    EXPECT_LT(test::rel_error(fused.buffers[i], plain.buffers[i]), 1e-5) << "buffer " << i;
  EXPECT_EQ(fused.hooks, plain.hooks);  // every layer, last to first, fused or not
  ASSERT_FALSE(fused.hooks.empty());
  EXPECT_EQ(fused.hooks.front(), fused.hooks.size() - 1);
  EXPECT_EQ(fused.hooks.back(), 0u);
}

TEST(LayerFusion, OnlyAReluBatchNormBeforeAMaxPoolInTrainingIsFused) {
  const auto config = [](bool relu) {
    return nlohmann::json{{"input", {3, 8, 8}},
                          {"classes", 2},
                          {"layers",
                           {{{"type", "conv2d"}, {"out", 4}, {"kernel", 3}, {"pad", 1}},
                            {{"type", "batchnorm"}, {"relu", relu}},
                            {{"type", "maxpool"}, {"kernel", 2}, {"stride", 2}},
                            {{"type", "flatten"}},
                            {{"type", "linear"}, {"out", 2}}}}};
  };
  for (bool relu : {true, false}) {
    Model m = Model::from_config(config(relu));
    m.init_params(3);
    Context ctx = Context::make(Device::cpu());
    ctx.training = true;
    Tensor x = Tensor::from_vector(m.input_shape(2), test::random_vector(2 * 3 * 8 * 8, 9)), y;
    Saved saved;
    m.forward(ctx, x, y, &saved);
    EXPECT_EQ(saved.children[1].fused_with_next, relu) << "relu " << relu;
    Tensor inferred;
    ctx.training = false;
    m.forward(ctx, x, inferred, nullptr);  // inference: the layers one by one, running statistics
    EXPECT_EQ(inferred.shape(), y.shape());
  }
}

}  // namespace
}  // namespace convoy
