#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "data/batch_loader.h"
#include "engine/error.h"
#include "engine/progress.h"
#include "train/batch_loss.h"
#include "train/device_input.h"
#include "train/evaluate.h"
#include "train/finite_check.h"

namespace convoy {

LrSchedule default_schedule() {
  LrSchedule s;
  s.kind = LrSchedule::Kind::one_cycle;
  s.lr = 0.2;
  return s;
}

nlohmann::json recipe_json(const TrainOptions& t) {
  nlohmann::json schedule;
  to_json(schedule, t.schedule);
  return {{"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"lr", t.schedule.lr},
          {"schedule", schedule},
          {"momentum", t.sgd.momentum},
          {"nesterov", t.sgd.nesterov},
          {"weight_decay", t.sgd.weight_decay},
          {"label_smoothing", t.label_smoothing},
          {"augment", t.augment},
          {"crop_pad", t.crop_pad},
          {"flip", t.flip},
          {"cutout", t.cutout},
          {"tta", t.flip_tta ? "flip" : "none"},
          {"eval_every", t.eval_every},
          {"seed", t.seed}};
}
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string shortest(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

int world_of(const TrainOptions& o) { return o.parallel.comm ? o.parallel.comm->world_size() : 1; }
int rank_of(const TrainOptions& o) { return o.parallel.comm ? o.parallel.comm->rank() : 0; }

// The loader of this rank: its shard of every global batch (batch_size / world rows).
data::LoaderOptions loader_options(const Model& model, const Context& ctx, const TrainOptions& o) {
  data::LoaderOptions lo;
  lo.batch_size = o.batch_size / world_of(o);
  lo.rank = rank_of(o);
  lo.world_size = world_of(o);
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
  if (o.epochs <= 0) fail_option("epochs", o.epochs, " must be positive");
  if (o.batch_size <= 0) fail_option("batch_size", o.batch_size, " must be positive");
  const int world = world_of(o);
  if (o.batch_size % world != 0)
    fail_option("batch_size", o.batch_size, " is the global batch and must split evenly over the ", world,
         " ranks of this job; use a multiple of ", world);
  // NaN fails every comparison below, so each check is written to accept only good values.
  const double lr = o.schedule.lr;
  if (!(std::isfinite(lr) && lr > 0)) fail_option("lr", lr, " must be a positive finite number");
  if (lr > kSaneLrLimit && !o.force_lr)
    fail_option("lr", lr, " is above ", kSaneLrLimit, ", where training diverges within a few steps; set force_lr ",
                "(convoy-train --force-lr) to train with it anyway");
  if (!std::isfinite(o.schedule.warmup_epochs)) fail_option("warmup_epochs", o.schedule.warmup_epochs, " must be finite");
  if (!(o.sgd.momentum >= 0 && o.sgd.momentum < 1)) fail_option("momentum", o.sgd.momentum, " must lie in [0, 1)");
  if (!(std::isfinite(o.sgd.weight_decay) && o.sgd.weight_decay >= 0))
    fail_option("weight_decay", o.sgd.weight_decay, " must be a finite number >= 0");
  if (!(o.label_smoothing >= 0 && o.label_smoothing < 1))
    fail_option("label_smoothing", o.label_smoothing, " must lie in [0, 1)");
  if (o.cutout < 0 || o.cutout > data::kImageSide)
    fail_option("cutout", o.cutout, " must lie in [0, ", data::kImageSide, "] (the images are ", data::kImageSide,
                " x ", data::kImageSide, "; 0 = off)");
  if (o.crop_pad < 0 || o.crop_pad > data::kImageSide)
    fail_option("crop_pad", o.crop_pad, " must lie in [0, ", data::kImageSide, "]");
  if (o.eval_batch_size <= 0) fail_option("eval_batch_size", o.eval_batch_size, " must be positive");
  if (o.eval_every < 0) fail_option("eval_every", o.eval_every, " must be >= 0 (0 = after the last epoch only)");
  if (!(std::isfinite(o.parallel.bucket_mb) && o.parallel.bucket_mb > 0))
    fail_option("bucket_mb", o.parallel.bucket_mb, " must be a positive finite number");
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
  data::Batch batches[2];  // the step's batch and the next one, fetched during the step
};

// Rank r takes test images r, r + W, r + 2W, ...
data::Dataset test_shard(const data::Dataset& test, int rank, int world) {
  data::Dataset shard;
  shard.class_names = test.class_names;
  shard.origin = test.origin + " (rank " + std::to_string(rank) + " of " + std::to_string(world) + ")";
  for (int64_t i = rank; i < test.size(); i += world) {
    shard.images.insert(shard.images.end(), test.image(i), test.image(i) + data::kImageBytes);
    shard.labels.push_back(test.labels[i]);
  }
  return shard;
}

nlohmann::json StepTimes::to_json() const {
  const double n = steps > 0 ? double(steps) : 1.0;
  return {{"steps", steps},
          {"data_ms", 1e3 * data_s / n},
          {"compute_ms", 1e3 * compute_s / n},
          {"exposed_comm_ms", 1e3 * exposed_comm_s / n},
          {"optimizer_ms", 1e3 * optimizer_s / n}};
}

Trainer::Trainer(Model& model, Context& ctx, const data::CifarData& data, const TrainOptions& options)
    : world_size_(world_of(options)),
      rank_(rank_of(options)),
      model_(model),
      ctx_(ctx),
      data_(data),
      options_(validated(options, data)),
      loader_(std::make_unique<data::BatchLoader>(data.train, loader_options(model, ctx, options))),
      steps_per_epoch_(loader_->batches_per_epoch()),
      optimizer_(model, options.sgd),
      scratch_(std::make_unique<Scratch>()) {
  scratch_->augment = augment_args_for(loader_options(model, ctx, options));
  if (world_size_ > 1) {
    dist::Communicator& comm = *options.parallel.comm;
    // Every rank starts from rank 0's weights and statistics (the same seed gives the same
    // draws anyway; this makes it so whatever the initialisation).
    for (Param* p : model.params()) comm.broadcast(p->value, 0);
    for (Buffer& b : model.buffers()) comm.broadcast(*b.value, 0);
    ctx.collective = &comm;
    ctx.sync_batchnorm = options.parallel.sync_batchnorm;
    buckets_ = std::make_unique<dist::GradientBuckets>(
        model, comm, dist::BucketOptions{options.parallel.bucket_mb, options.parallel.compression});
    test_shard_ = test_shard(data.test, rank_, world_size_);
  }
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

void Trainer::train_step(const data::Batch& batch, const std::function<void()>& prefetch) {
  Scratch& s = *scratch_;
  const auto t_compute = Clock::now();
  s.input.upload(ctx_, batch, s.augment, s.x, s.labels_dev);
  Saved saved;
  ctx_.step = static_cast<uint64_t>(state_.step);
  model_.zero_grad(ctx_);
  model_.forward(ctx_, s.x, s.logits, &saved);
  const auto t_prefetch = Clock::now();
  prefetch();  // timed as data, not compute
  const double prefetch_s = seconds_since(t_prefetch);
  const BatchScore score =
      s.loss.compute(ctx_, s.logits, s.labels_dev, batch.labels, options_.label_smoothing, &s.dlogits);
  // A non-finite loss is a diverged run: stop before its gradients reach the weights.
  if (!std::isfinite(score.loss_sum))
    throw TrainingDiverged("training diverged at epoch " + std::to_string(state_.epoch + 1) + " step " +
                           std::to_string(state_.step + 1) + ": loss is " + non_finite_name(score.loss_sum) +
                           "; lower --lr (peak " + shortest(options_.schedule.lr) +
                           ") or check --momentum and --weight-decay");
  if (buckets_) buckets_->begin_backward(ctx_);
  model_.backward(ctx_, s.dlogits, saved);
  const auto t_comm = Clock::now();
  times_.compute_s += std::chrono::duration<double>(t_comm - t_compute).count() - prefetch_s;
  if (buckets_) buckets_->finish(ctx_);  // gradients averaged over the ranks
  const auto t_optimizer = Clock::now();
  times_.exposed_comm_s += std::chrono::duration<double>(t_optimizer - t_comm).count();
  const double lr = static_cast<float>(lr_at(options_.schedule, state_.step, total_steps(), steps_per_epoch_));
  optimizer_.step(ctx_, static_cast<float>(lr));
  times_.optimizer_s += seconds_since(t_optimizer);
  ++times_.steps;
  state_.loss_sum += score.loss_sum;
  state_.correct += score.correct;
  state_.seen += batch.size;
  state_.lr = lr;
  ++state_.batch;
  ++state_.step;
}

bool Trainer::next_batch(data::Batch& batch) {
  const auto t = Clock::now();
  const bool more = loader_->next(batch);
  times_.data_s += seconds_since(t);
  return more;
}

EvalResult Trainer::evaluate_test_set() {
  EvalOptions eo;
  eo.batch_size = options_.eval_batch_size;
  eo.progress = options_.progress && rank_ == 0;
  eo.host_input = options_.host_input;
  eo.flip_tta = options_.flip_tta;
  if (world_size_ == 1) return evaluate(model_, ctx_, data_.test, eo);
  EvalResult e = evaluate(model_, ctx_, test_shard_, eo);
  std::vector<double> sums = {e.loss * e.count, e.accuracy * e.count, double(e.count)};
  options_.parallel.comm->allreduce_sum_host(sums);
  e.count = static_cast<int64_t>(sums[2]);
  e.loss = sums[2] > 0 ? sums[0] / sums[2] : 0;
  e.accuracy = sums[2] > 0 ? sums[1] / sums[2] : 0;
  e.confusion.clear();  // per-rank only; convoy-eval gives the whole matrix
  e.per_class_accuracy.clear();
  return e;
}

EpochMetrics Trainer::finish_epoch() {
  // Metrics over all ranks: sums of loss, correct and seen; time as the ranks' mean.
  std::vector<double> sums = {state_.loss_sum, double(state_.correct), double(state_.seen), state_.epoch_train_s};
  if (world_size_ > 1) {
    options_.parallel.comm->allreduce_sum_host(sums);
    sums[3] /= world_size_;
    // Batch-norm running statistics are rank-local without --sync-bn: rank 0's become
    // everyone's (as PyTorch DDP's broadcast_buffers), so the evaluated model is the saved one.
    for (Buffer& b : model_.buffers()) options_.parallel.comm->broadcast(*b.value, 0);
  }
  const double loss_sum = sums[0], correct = sums[1], seen = sums[2];
  EpochMetrics m;
  m.epoch = state_.epoch + 1;
  m.epoch_s = sums[3];
  m.train_loss = seen > 0 ? loss_sum / seen : 0;
  m.train_acc = seen > 0 ? correct / seen : 0;
  m.images_per_sec = m.epoch_s > 0 ? seen / m.epoch_s : 0;
  m.lr = state_.lr;
  const bool last = m.epoch == options_.epochs;
  m.evaluated = last || (options_.eval_every > 0 && m.epoch % options_.eval_every == 0);
  if (data_.test.size() > 0 && m.evaluated) {
    const bool training = ctx_.training;
    EvalResult e = evaluate_test_set();
    ctx_.training = training;
    m.test_loss = e.loss;
    m.test_acc = e.accuracy;
  }
  return m;
}

bool Trainer::run(const TrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  const double elapsed_before = state_.elapsed_s;
  auto stop_now = [&] {
    if (!callbacks.should_stop) return false;
    bool stop = callbacks.should_stop();
    if (world_size_ > 1) {  // all ranks stop at the same step, or none (a lone stop would hang the rest)
      std::vector<double> votes = {stop ? 1.0 : 0.0};
      options_.parallel.comm->allreduce_sum_host(votes);
      stop = votes[0] > 0;
    }
    return stop;
  };
  bool finished = true;
  ctx_.training = true;
  while (state_.epoch < options_.epochs) {
    loader_->start_epoch(static_cast<uint64_t>(state_.epoch), state_.batch);
    ProgressBar bar("epoch " + std::to_string(state_.epoch + 1) + "/" + std::to_string(options_.epochs),
                    steps_per_epoch_, options_.progress && rank_ == 0);
    const auto epoch_start = Clock::now();
    const double epoch_train_before = state_.epoch_train_s;
    bool stopped = false;
    data::Batch* batch = &scratch_->batches[0];
    data::Batch* upcoming = &scratch_->batches[1];
    bool have_batch = next_batch(*batch);
    while (!stopped && have_batch) {
      bool have_upcoming = false;
      train_step(*batch, [&] {
        have_upcoming = next_batch(*upcoming);
        if (!have_upcoming) return;
        const auto t_stage = Clock::now();
        scratch_->input.stage(ctx_, *upcoming);
        times_.data_s += seconds_since(t_stage);
      });
      std::swap(batch, upcoming);
      have_batch = have_upcoming;
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
