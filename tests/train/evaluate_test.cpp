// evaluate(): with flip_tta the logits of each image and its mirror image are averaged before
// the loss and the argmax. Checked against the same sums done here by hand from two forward
// passes; the batch size does not change the result; a non-positive batch size is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "data/batch_loader.h"
#include "data/flip_batch.h"
#include "data/sources.h"
#include "engine/error.h"
#include "train/evaluate.h"

namespace convoy {
namespace {

struct Expected {
  double loss = 0, accuracy = 0;
};

// The whole test set in one normalised batch, forward as it is and mirrored, logits averaged.
Expected by_hand(Model& m, Context& ctx, const data::Dataset& test) {
  data::LoaderOptions lo;
  lo.batch_size = static_cast<int>(test.size());
  lo.shuffle = false;
  lo.drop_last = false;
  lo.augment = false;
  for (int c = 0; c < 3; ++c) {
    lo.stats.mean[c] = m.mean[c];
    lo.stats.std[c] = m.std[c];
  }
  data::BatchLoader loader(test, lo);
  loader.start_epoch(0);
  data::Batch b, mirrored;
  EXPECT_TRUE(loader.next(b));
  data::flip_batch(b, mirrored);
  const Shape shape{b.size, 3, 32, 32};
  Tensor x = Tensor::from_vector(shape, b.images), xm = Tensor::from_vector(shape, mirrored.images), y, ym;
  m.forward(ctx, x, y, nullptr);
  m.forward(ctx, xm, ym, nullptr);
  const std::vector<float> a = y.to_vector(), am = ym.to_vector();
  const int K = m.num_classes();
  Expected e;
  for (int i = 0; i < b.size; ++i) {
    std::vector<double> z(K);
    for (int k = 0; k < K; ++k) z[k] = 0.5 * (a[i * K + k] + am[i * K + k]);
    const double mx = *std::max_element(z.begin(), z.end());
    double sum = 0;
    for (double v : z) sum += std::exp(v - mx);
    e.loss += -(z[b.labels[i]] - mx - std::log(sum));
    e.accuracy += (std::max_element(z.begin(), z.end()) - z.begin()) == b.labels[i];
  }
  e.loss /= b.size;
  e.accuracy /= b.size;
  return e;
}

data::CifarData synthetic_test_set(int images) {
  data::LoadOptions lo;
  lo.synthetic_train = 10;
  lo.synthetic_test = images;
  return data::load_cifar("synthetic", lo);
}

Model quick_model(uint64_t seed) {
  Model m = Model::from_spec("quick");
  m.init_params(seed);
  return m;
}

TEST(Evaluate, FlipTtaAveragesTheLogitsOfEachImageAndItsMirror) {
  const auto data = synthetic_test_set(300);
  Model m = quick_model(6);
  Context ctx = Context::make(Device::cpu());
  const Expected want = by_hand(m, ctx, data.test);
  EvalOptions o;
  o.flip_tta = true;
  for (int batch : {300, 128, 7}) {
    o.batch_size = batch;
    const EvalResult got = evaluate(m, ctx, data.test, o);
    EXPECT_EQ(got.count, 300);
    EXPECT_NEAR(got.loss, want.loss, 1e-5) << "batch " << batch;
    EXPECT_DOUBLE_EQ(got.accuracy, want.accuracy) << "batch " << batch;
  }
  const EvalResult plain = evaluate(m, ctx, data.test);
  EXPECT_GT(std::abs(plain.loss - want.loss), 1e-4);  // the mirror images do count
}

TEST(Evaluate, RefusesANonPositiveBatchSize) {
  const auto data = synthetic_test_set(20);
  Model m = quick_model(1);
  Context ctx = Context::make(Device::cpu());
  EvalOptions o;
  o.batch_size = 0;
  EXPECT_THROW(evaluate(m, ctx, data.test, o), Error);
}

}  // namespace
}  // namespace convoy
