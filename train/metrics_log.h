// OUT/metrics.jsonl: one JSON object per line, flushed per line so a tail or a log shipper
// sees each record at once.
//   {"kind": "step", "step": 150, "epoch": 1, "batch": 150, "lr": 0.08, "loss": 1.52, "acc": 0.44,
//    "images_per_sec": 1210.5, "elapsed_s": 16.3}
//     loss and acc are running averages over the epoch so far; images_per_sec since the
//     previous record; step counts finished optimizer steps, epoch is 1-based.
//   {"kind": "epoch", "epoch": 1, "train_loss": ..., "test_acc": ..., ...}  (EpochMetrics)
// A resumed run keeps the records up to its checkpoint and appends after them: records of
// steps past the checkpoint's step and epochs past its finished epochs are dropped first,
// as is a torn last line of a killed writer, so no step appears twice.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "train/train_state.h"

namespace convoy {

class MetricsLog {
 public:
  // A fresh run: `path` starts empty.
  explicit MetricsLog(const std::string& path);
  // A resumed run: keeps the records up to `step` and `epochs_done`, appends after them.
  MetricsLog(const std::string& path, int64_t step, int epochs_done);

  void step(const TrainState& state, double images_per_sec);
  void epoch(const EpochMetrics& m);
  const std::string& path() const { return path_; }

 private:
  void write(const nlohmann::json& record);
  std::string path_;
  std::ofstream out_;
};

}  // namespace convoy
