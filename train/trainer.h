// The training loop and the whole training run. A tool parses flags into TrainRunOptions
// and calls run_training(); everything else (loading data, building the model, the loop,
// evaluation, the per-epoch metric line, report.json and model.convoy) lives here, so an
// embedding program gets the same behaviour.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "engine/lr_schedule.h"
#include "layers/model.h"
#include "train/optimizer.h"

namespace convoy {

struct TrainOptions {
  int epochs = 10;
  int batch_size = 128;
  LrSchedule schedule;            // lr and its shape over the run
  SgdOptions sgd;
  float label_smoothing = 0.0f;
  bool augment = true;
  int crop_pad = 4;
  bool flip = true;
  int cutout = 0;
  uint64_t seed = 0;
  int eval_batch_size = 500;
  bool progress = true;           // progress bar on a terminal
  bool host_input = false;        // on a GPU too, normalise and augment on the host
};

struct EpochMetrics {
  int epoch = 0;                  // 1-based
  double train_loss = 0, train_acc = 0;
  double test_loss = 0, test_acc = 0;
  double images_per_sec = 0;      // training images over training time of the epoch
  double epoch_s = 0;             // training time of the epoch
  double elapsed_s = 0;           // since training began, evaluation included
  double lr = 0;                  // at the end of the epoch
  nlohmann::json to_json() const;
  // "epoch=3 train_loss=1.234 train_acc=0.5612 test_loss=1.101 test_acc=0.6093 images_per_sec=812.4 elapsed_s=61.2"
  std::string to_line() const;
};

struct TrainCallbacks {
  std::function<void(const EpochMetrics&)> on_epoch;
};

// Trains `model` (already on ctx.device) and returns the metrics of every epoch.
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
};

// The whole run: prints one metric line per epoch to `metrics_out` and human lines to
// `log`; writes out_dir/model.convoy and out_dir/report.json. Returns the report.
nlohmann::json run_training(const TrainRunOptions& options, std::ostream& metrics_out, std::ostream& log);

}  // namespace convoy
