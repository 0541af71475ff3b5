#include "train/trainer.h"

#include <chrono>
#include <cstdio>

#include "data/batch_loader.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "train/batch_loss.h"
#include "train/device_input.h"
#include "train/evaluate.h"

namespace convoy {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

data::LoaderOptions loader_options(const Model& model, const Context& ctx, const TrainOptions& o) {
  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = true;
  lo.drop_last = true;
  lo.augment = o.augment;
  lo.crop_pad = o.crop_pad;
  lo.flip = o.flip;
  lo.cutout = o.cutout;
  lo.seed = o.seed;
  for (int c = 0; c < 3; ++c) {
    lo.stats.mean[c] = model.mean[c];
    lo.stats.std[c] = model.std[c];
  }
  lo.normalize_on_host = ctx.device.is_cpu() || o.host_input;
  return lo;
}

const TrainOptions& validated(const TrainOptions& o, const data::CifarData& data) {
  if (o.epochs <= 0) fail("--epochs must be positive, got ", o.epochs);
  if (o.batch_size <= 0) fail("--batch-size must be positive, got ", o.batch_size);
  if (data.train.size() < o.batch_size)
    fail("the training set has ", data.train.size(), " images, fewer than one batch of ", o.batch_size);
  o.schedule.validate();
  return o;
}

}  // namespace

struct Trainer::Scratch {
  DeviceInput input;
  kernels::AugmentArgs augment;
  Tensor x, logits, dlogits, labels_dev;  // (N,3,32,32), (N,K), (N,K), (N)
  BatchLoss loss;
  data::Batch batch;
};

Trainer::Trainer(Model& model, Context& ctx, const data::CifarData& data, const TrainOptions& options)
    : model_(model),
      ctx_(ctx),
      data_(data),
      options_(validated(options, data)),
      loader_(std::make_unique<data::BatchLoader>(data.train, loader_options(model, ctx, options))),
      steps_per_epoch_(loader_->batches_per_epoch()),
      optimizer_(model, options.sgd),
      scratch_(std::make_unique<Scratch>()) {
  scratch_->augment = augment_args_for(loader_options(model, ctx, options));
}

Trainer::~Trainer() = default;

void Trainer::restore(const TrainState& s) {
  if (s.epoch < 0 || s.epoch > options_.epochs || s.batch < 0 || s.batch > steps_per_epoch_ ||
      s.step != s.epoch * steps_per_epoch_ + s.batch || s.history.size() != static_cast<size_t>(s.epoch))
    fail("cannot continue training from epoch ", s.epoch, " batch ", s.batch, " step ", s.step, ": a run of ",
         options_.epochs, " epochs has ", steps_per_epoch_, " steps per epoch (batch size ", options_.batch_size,
         ", ", data_.train.size(), " training images)");
  state_ = s;
}

void Trainer::train_step(const data::Batch& batch) {
  Scratch& s = *scratch_;
  s.input.upload(ctx_, batch, s.augment, s.x, s.labels_dev);
  Saved saved;
  ctx_.step = static_cast<uint64_t>(state_.step);
  model_.zero_grad(ctx_);
  model_.forward(ctx_, s.x, s.logits, &saved);
  const BatchScore score =
      s.loss.compute(ctx_, s.logits, s.labels_dev, batch.labels, options_.label_smoothing, &s.dlogits);
  model_.backward(ctx_, s.dlogits, saved);
  const double lr = static_cast<float>(lr_at(options_.schedule, state_.step, total_steps(), steps_per_epoch_));
  optimizer_.step(ctx_, static_cast<float>(lr));
  state_.loss_sum += score.loss_sum;
  state_.correct += score.correct;
  state_.seen += batch.size;
  state_.lr = lr;
  ++state_.batch;
  ++state_.step;
}

EpochMetrics Trainer::finish_epoch() {
  EpochMetrics m;
  m.epoch = state_.epoch + 1;
  m.epoch_s = state_.epoch_train_s;
  m.train_loss = state_.seen ? state_.loss_sum / state_.seen : 0;
  m.train_acc = state_.seen ? double(state_.correct) / state_.seen : 0;
  m.images_per_sec = m.epoch_s > 0 ? state_.seen / m.epoch_s : 0;
  m.lr = state_.lr;
  if (data_.test.size() > 0) {
    const bool training = ctx_.training;
    EvalResult e = evaluate(model_, ctx_, data_.test, options_.eval_batch_size, options_.progress, options_.host_input);
    ctx_.training = training;
    m.test_loss = e.loss;
    m.test_acc = e.accuracy;
  }
  return m;
}

bool Trainer::run(const TrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  const double elapsed_before = state_.elapsed_s;
  auto stop_now = [&] { return callbacks.should_stop && callbacks.should_stop(); };
  bool finished = true;
  ctx_.training = true;
  while (state_.epoch < options_.epochs) {
    loader_->start_epoch(static_cast<uint64_t>(state_.epoch), state_.batch);
    ProgressBar bar("epoch " + std::to_string(state_.epoch + 1) + "/" + std::to_string(options_.epochs),
                    steps_per_epoch_, options_.progress);
    const auto epoch_start = Clock::now();
    const double epoch_train_before = state_.epoch_train_s;
    bool stopped = false;
    data::Batch& batch = scratch_->batch;
    while (!stopped && loader_->next(batch)) {
      train_step(batch);
      state_.epoch_train_s = epoch_train_before + seconds_since(epoch_start);
      state_.elapsed_s = elapsed_before + seconds_since(run_start);
      bar.update(state_.batch, "loss " + fixed(state_.loss_sum / state_.seen, 3) + " acc " +
                                   fixed(double(state_.correct) / state_.seen, 3));
      if (callbacks.on_step) callbacks.on_step(state_);
      stopped = stop_now();
    }
    if (stopped && state_.batch < steps_per_epoch_) {
      finished = false;
      break;
    }
    bar.finish();
    EpochMetrics m = finish_epoch();
    m.elapsed_s = state_.elapsed_s = elapsed_before + seconds_since(run_start);
    state_.history.push_back(m);
    ++state_.epoch;
    state_.batch = 0;
    state_.loss_sum = 0;
    state_.correct = state_.seen = 0;
    state_.epoch_train_s = 0;
    if (callbacks.on_epoch) callbacks.on_epoch(m);
    if (state_.epoch < options_.epochs && (stopped || stop_now())) {
      finished = false;
      break;
    }
  }
  ctx_.training = false;
  return finished;
}

std::vector<EpochMetrics> train_model(Model& model, Context& ctx, const data::CifarData& data,
                                      const TrainOptions& options, const TrainCallbacks& callbacks) {
  Trainer trainer(model, ctx, data, options);
  trainer.run(callbacks);
  return trainer.state().history;
}

}  // namespace convoy
