// Where a training run stands: the metrics of its finished epochs and everything the loop
// needs to continue exactly where it stopped (checkpoints write and read this, and the
// resumed epoch line is the same as an uninterrupted run's, times aside).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace convoy {

struct EpochMetrics {
  int epoch = 0;                  // 1-based
  double train_loss = 0, train_acc = 0;
  double test_loss = 0, test_acc = 0;
  bool evaluated = true;          // false: the test set was skipped after this epoch (eval_every)
  double images_per_sec = 0;      // training images over training time of the epoch
  double epoch_s = 0;             // training time of the epoch
  double elapsed_s = 0;           // since training began, evaluation included
  double lr = 0;                  // at the end of the epoch
  nlohmann::json to_json() const;
  static EpochMetrics from_json(const nlohmann::json& j);  // throws naming the missing field
  // "epoch=3 train_loss=1.234 train_acc=0.5612 test_loss=1.101 test_acc=0.6093 images_per_sec=812.4 elapsed_s=61.2"
  // (without the test_ fields when the epoch was not evaluated, in JSON too)
  std::string to_line() const;
};

struct TrainState {
  int epoch = 0;                  // 0-based epoch in progress; equals the epoch count once done
  int64_t batch = 0;              // batches of `epoch` already trained
  int64_t step = 0;               // optimizer steps over the whole run (the next step's number)
  // Running sums of the epoch in progress.
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  double epoch_train_s = 0;       // training time of the epoch in progress so far
  double elapsed_s = 0;           // since training began, over every process of a resumed run
  double lr = 0;                  // of the last step
  std::vector<EpochMetrics> history;  // finished epochs

  nlohmann::json to_json() const;
  // `where` names the source (a checkpoint path) in errors.
  static TrainState from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace convoy
