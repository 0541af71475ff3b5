#include "train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "data/batch_loader.h"
#include "data/flip_batch.h"
#include "engine/allocator.h"
#include "engine/progress.h"
#include "kernels/elementwise.h"
#include "train/device_input.h"
#include "train/batch_loss.h"

namespace convoy {

EvalResult evaluate(Model& model, Context& ctx, const data::Dataset& dataset, const EvalOptions& options) {
  const int batch_size = options.batch_size;  // the loader refuses one below 1
  const int K = model.num_classes();
  EvalResult r;
  r.confusion.assign(K, std::vector<int64_t>(K, 0));
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.drop_last = false;
  lo.augment = false;
  for (int c = 0; c < 3; ++c) {
    lo.stats.mean[c] = model.mean[c];
    lo.stats.std[c] = model.std[c];
  }
  lo.normalize_on_host = ctx.device.is_cpu() || options.host_input;
  data::BatchLoader loader(dataset, lo);
  DeviceInput input;
  const kernels::AugmentArgs augment = augment_args_for(lo);
  loader.start_epoch(0);
  ProgressBar bar("eval", loader.batches_per_epoch(), options.progress);
  data::Batch batches[2];
  data::Batch* batch = &batches[0];
  data::Batch* upcoming = &batches[1];
  Tensor x, logits, labels_dev;
  DeviceInput mirrored_input;  // flip_tta: the mirror images (their own slots)
  data::Batch mirrored;
  Tensor x_mirrored, logits_mirrored, labels_mirrored;
  BatchLoss loss;
  double loss_sum = 0;
  int64_t correct = 0, done = 0;
  const bool saved_training = ctx.training;
  ctx.training = false;
  bool have_batch = loader.next(*batch);
  while (have_batch) {
    const int N = batch->size;
    input.upload(ctx, *batch, augment, x, labels_dev);
    model.forward(ctx, x, logits, nullptr);
    if (options.flip_tta) {
      data::flip_batch(*batch, mirrored);
      mirrored_input.upload(ctx, mirrored, augment, x_mirrored, labels_mirrored);
      model.forward(ctx, x_mirrored, logits_mirrored, nullptr);
      kernels::add(ctx.exec, logits.numel(), logits.data(), logits_mirrored.data(), logits.data());
      kernels::scale(ctx.exec, logits.numel(), 0.5f, logits.data(), logits.data());
    }
    // The next batch goes up on the copy stream while this forward pass runs (train/device_input.h).
    const bool have_upcoming = loader.next(*upcoming);
    if (have_upcoming) input.stage(ctx, *upcoming);
    const BatchScore score = loss.compute(ctx, logits, labels_dev, batch->labels, 0.0f, nullptr);
    loss_sum += score.loss_sum;
    correct += score.correct;
    for (int i = 0; i < N; ++i) {
      const int truth = batch->labels[i];
      if (truth >= 0 && truth < K) r.confusion[truth][score.predictions[i]]++;
    }
    done += N;
    bar.update(batch->index + 1);
    std::swap(batch, upcoming);
    have_batch = have_upcoming;
  }
  ctx.training = saved_training;
  bar.finish();
  r.count = done;
  r.loss = done ? loss_sum / done : 0.0;
  r.accuracy = done ? static_cast<double>(correct) / done : 0.0;
  r.per_class_accuracy.assign(K, 0.0);
  for (int k = 0; k < K; ++k) {
    int64_t total = 0;
    for (int j = 0; j < K; ++j) total += r.confusion[k][j];
    r.per_class_accuracy[k] = total ? static_cast<double>(r.confusion[k][k]) / total : 0.0;
  }
  return r;
}

std::vector<std::vector<float>> predict_probabilities(Model& model, Context& ctx, const Tensor& x) {
  Tensor logits;
  model.forward(ctx, x, logits, nullptr);
  std::vector<float> out = logits.to_vector();
  const int K = model.num_classes();
  const int64_t N = x.dim(0);
  std::vector<std::vector<float>> probs(N, std::vector<float>(K));
  for (int64_t i = 0; i < N; ++i) {
    const float* row = out.data() + i * K;
    float mx = *std::max_element(row, row + K);
    double sum = 0;
    for (int k = 0; k < K; ++k) sum += std::exp(static_cast<double>(row[k] - mx));
    for (int k = 0; k < K; ++k) probs[i][k] = static_cast<float>(std::exp(static_cast<double>(row[k] - mx)) / sum);
  }
  return probs;
}

}  // namespace convoy
