// The training loop and the whole training run. A tool parses flags into TrainRunOptions
// and calls run_training() (train/run_training.cpp); everything else (loading data,
// building the model, the loop, evaluation, checkpoints and resume, the per-epoch metric
// line, metrics.jsonl, report.json and model.convoy) lives in the library, so an embedding
// program gets the same behaviour.
//
// The loop is the Trainer class (train/trainer.cpp): one optimizer step is
// Trainer::train_step, the single place where per-step hooks (gradient allreduce, ...)
// belong; train_model() is the one-call form.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "dist/gradient_buckets.h"
#include "engine/lr_schedule.h"
#include "layers/model.h"
#include "train/evaluate.h"
#include "train/optimizer.h"
#include "train/train_state.h"

namespace convoy {

namespace data {
class BatchLoader;
struct Batch;
}  // namespace data

// Data-parallel training across ranks (docs/distributed.md). With a communicator of world
// size W > 1, TrainOptions::batch_size is the GLOBAL batch (split evenly, batch_size / W per
// rank), gradients are averaged in buckets during backward, the metrics are summed over the
// ranks, and every rank evaluates its share of the test set.
struct DataParallel {
  dist::Communicator* comm = nullptr;  // null or a world of one: one process
  double bucket_mb = dist::kDefaultBucketMb;
  bool sync_batchnorm = false;         // --sync-bn: batch statistics over the global batch
  dist::BucketCompression compression = dist::BucketCompression::none;  // --grad-compression
};

// Where a rank's training time goes, summed over the steps of the run so far.
struct StepTimes {
  double data_s = 0;          // waiting for the loader's next batch
  double compute_s = 0;       // input upload, forward, loss, backward (bucket launches included)
  double exposed_comm_s = 0;  // waiting for the gradient allreduce after backward
  double optimizer_s = 0;
  int64_t steps = 0;
  nlohmann::json to_json() const;
};

// The learning-rate schedule of the default recipe: one cycle up to a peak of 0.2.
LrSchedule default_schedule();

// Every default here is the recipe convoy-train trains with (quick reaches 80% on CIFAR-10 in
// 10 epochs on 2 CPU cores, bench/RESULTS.md): a program that embeds convoy and convoy-train
// train the same way unless told otherwise; the tool only turns flags into these fields.
struct TrainOptions {
  int epochs = 10;
  int batch_size = 128;
  LrSchedule schedule = default_schedule();  // lr and its shape over the run
  SgdOptions sgd;                            // momentum 0.9, Nesterov, weight decay 5e-4
  float label_smoothing = 0.1f;
  bool augment = true;
  int crop_pad = 4;
  bool flip = true;
  int cutout = 0;
  uint64_t seed = 0;
  int eval_batch_size = 500;
  bool flip_tta = false;          // evaluate each test image with its mirror image (--tta)
  int eval_every = 1;             // evaluate the test set after every N-th epoch and the last (0: the last only)
  bool progress = true;           // progress bar on a terminal
  bool host_input = false;        // on a GPU too, normalise and augment on the host
  bool force_lr = false;          // allow lr above kSaneLrLimit (--force-lr)
  DataParallel parallel;
};

// The largest learning rate accepted without TrainOptions::force_lr: SGD on these models
// diverges within a few steps far below it.
inline constexpr double kSaneLrLimit = 10;

struct TrainCallbacks {
  // After every optimizer step; the state is consistent there (a checkpoint written from
  // it resumes exactly).
  std::function<void(const TrainState&)> on_step;
  // After each epoch's evaluation; Trainer::state() has already moved on to the next epoch
  // and its history ends with `m`.
  std::function<void(const EpochMetrics&)> on_epoch;
  // Polled after every step and every epoch end: true makes Trainer::run() return early
  // (a stop request, e.g. SIGTERM); the state is then consistent and resumable.
  std::function<bool()> should_stop;
};

class Trainer {
 public:
  // `model` is already on ctx.device; `data` must outlive the trainer.
  Trainer(Model& model, Context& ctx, const data::CifarData& data, const TrainOptions& options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Continue from a saved state (the model and optimizer() restored by the caller).
  void restore(const TrainState& state);
  // Trains until the last epoch ends (returns true) or callbacks.should_stop() says stop
  // (returns false; run() again continues).
  bool run(const TrainCallbacks& callbacks = {});

  const TrainState& state() const { return state_; }
  SgdOptimizer& optimizer() { return optimizer_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t total_steps() const { return steps_per_epoch_ * options_.epochs; }
  const TrainOptions& options() const { return options_; }
  const StepTimes& step_times() const { return times_; }
  int world_size() const { return world_size_; }
  int rank() const { return rank_; }
  const dist::GradientBuckets* buckets() const { return buckets_.get(); }

 private:
  // One optimizer step: forward, backward, update. `prefetch` runs on the host once the
  // forward pass is queued (on a GPU it overlaps it): it fetches and stages the next batch.
  void train_step(const data::Batch& batch, const std::function<void()>& prefetch);
  EpochMetrics finish_epoch();                // evaluation and the epoch's metrics
  bool next_batch(data::Batch& batch);        // the loader's next batch, timed
  EvalResult evaluate_test_set();             // this rank's share, combined over the ranks

  int world_size_ = 1, rank_ = 0;  // set first: the loader's shard depends on them
  Model& model_;
  Context& ctx_;
  const data::CifarData& data_;
  TrainOptions options_;
  std::unique_ptr<data::BatchLoader> loader_;
  int64_t steps_per_epoch_ = 0;
  SgdOptimizer optimizer_;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;  // input, activations, loss: reused every step
  TrainState state_;
  std::unique_ptr<dist::GradientBuckets> buckets_;  // data-parallel runs only
  data::Dataset test_shard_;                        // this rank's share of the test set (world > 1)
  StepTimes times_;
};

// The recipe of `options` as report.json records it ("hyperparameters", with the run's
// threads and kernels added by run_training).
nlohmann::json recipe_json(const TrainOptions& options);

// Trains `model` (already on ctx.device) from scratch and returns the metrics of every epoch.
std::vector<EpochMetrics> train_model(Model& model, Context& ctx, const data::CifarData& data,
                                      const TrainOptions& options, const TrainCallbacks& callbacks = {});

struct TrainRunOptions {
  std::string data_spec;          // "" = default_data_spec()
  int train_batches = 5;
  std::string model_spec = "quick";
  std::string device = "cpu";     // cpu | cuda | cuda:N | auto
  std::string kernels = "own";    // own | vendor
  int threads = 0;                // 0 = all hardware threads
  std::string out_dir = "runs/latest";
  TrainOptions train;
  // Checkpoints (docs/checkpoints.md).
  std::string checkpoint_dir;     // "" = out_dir/checkpoints, or the folder resumed from
  int64_t checkpoint_every = 200; // steps between checkpoints; 0 = only at epoch ends
  int keep_checkpoints = 3;       // newest K kept
  std::string resume_dir;         // "" = a fresh run; else continue from its newest checkpoint
  // A fresh run refuses an out_dir (or checkpoint folder) holding another run's model.convoy,
  // report.json, metrics.jsonl or checkpoints; overwrite removes them first instead.
  bool overwrite = false;
  int64_t log_every = 50;         // steps between metrics.jsonl records
  std::function<bool()> should_stop;  // polled after every step (e.g. convoy::stop_requested)
  std::string dist_backend = "auto";  // auto | local | mpi | nccl (docs/distributed.md)
  // Seconds a rank may wait in one collective before it ends the job (0 = for ever).
  double collective_timeout_s = dist::kDefaultCollectiveTimeoutS;
};

// The whole run: prints one metric line per epoch to `metrics_out` and human lines to
// `log`; writes out_dir/metrics.jsonl, checkpoints, and at the end out_dir/model.convoy and
// out_dir/report.json. Returns the report. When should_stop() ends the run early, it writes
// a checkpoint, says where on `log` and returns a report with "stopped": true and
// "checkpoint": its path (no model.convoy, no report.json).
nlohmann::json run_training(const TrainRunOptions& options, std::ostream& metrics_out, std::ostream& log);

}  // namespace convoy
