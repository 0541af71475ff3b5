// Checkpoints: everything a training run needs to continue exactly where it stood
// (docs/checkpoints.md). One file per checkpoint, DIR/checkpoint-<step, 9 digits>.convoy, in
// the .convoy container (engine/model_file.h: CRC-32 per tensor and for the header, written
// atomically through a temporary file, fsync and rename, so no half checkpoint ever carries
// the final name). It holds
//   - the model's parameters and buffers under their own names (train/model_io.h reads them),
//     with the model config, class names and normalisation constants, as a model file does;
//   - the optimizer's momentum buffers as "optimizer.momentum/<parameter name>";
//   - in the header: "format": "convoy-checkpoint", "state" (TrainState: epoch, batch within
//     the epoch, global step, the epoch's running sums, elapsed times, finished epochs),
//     "run_options" (what must match on resume, and what may differ) and "run_id" (the run
//     that wrote it: pruning removes only checkpoints of the writer's own run).
// The data order and augmentation are counter-based (seed, epoch, batch), so (seed, epoch,
// batch) is the whole RNG state.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/model.h"
#include "train/optimizer.h"
#include "train/train_state.h"

namespace convoy {

inline constexpr const char* kCheckpointFormat = "convoy-checkpoint";

struct CheckpointFile {
  std::string path;
  int64_t step = 0;
};

// DIR/checkpoint-000001234.convoy
std::string checkpoint_path(const std::string& dir, int64_t step);
// The checkpoints in `dir`, oldest (lowest step) first; none when `dir` does not exist.
// Temporary files of an interrupted write are not listed.
std::vector<CheckpointFile> list_checkpoints(const std::string& dir);

// Run options recorded in a checkpoint. `must_match` maps a flag name ("--batch-size") to its
// value: a resume with any other value is refused. `may_differ` (threads, device, data path,
// ...) only gives a warning, since a changed thread count or device still trains correctly
// but loses bit-identity with an uninterrupted run.
struct RunFingerprint {
  nlohmann::json must_match = nlohmann::json::object();
  nlohmann::json may_differ = nlohmann::json::object();
};

struct Checkpoint {
  std::string path;
  TrainState state;
  RunFingerprint options;
  std::string run_id;  // "" for a checkpoint written before runs had identities
};

// A fresh run's identity: 16 random hex digits.
std::string new_run_id();
// The "run_id" in the header of checkpoint `path`: "" when it has none, nullopt when the file
// cannot be read as a checkpoint.
std::optional<std::string> checkpoint_run_id(const std::string& path);

// Writes a checkpoint of `model` (any device), the optimizer's momentum and `state` to `path`.
void write_checkpoint(const std::string& path, Model& model, SgdOptimizer& optimizer, const TrainState& state,
                      const RunFingerprint& options, const std::string& run_id = "");
// Reads `path`, checks it belongs to `model` (same tensors and shapes) and restores the model's
// tensors and the optimizer's momentum in place. A truncated, corrupt or foreign file is an
// error naming the file and what is wrong.
Checkpoint read_checkpoint(const std::string& path, Model& model, SgdOptimizer& optimizer);
// Throws if `saved` and `now` differ in a must_match option, naming the option and both
// values; returns one warning line per may_differ option that changed.
std::vector<std::string> check_resume_options(const RunFingerprint& saved, const RunFingerprint& now,
                                              const std::string& path);

// Writes numbered checkpoints of one run into a folder and keeps that run's newest `keep`.
// The run's checkpoints are those it writes and those already in the folder with its run_id
// (a resumed run's); with `adopt_unmarked`, also those with no run_id at all (checkpoints
// older than run identities, and every checkpoint of a writer whose run_id is ""). Another
// run's checkpoints in the same folder are never deleted, whatever their step numbers.
class CheckpointWriter {
 public:
  CheckpointWriter(std::string dir, int keep, std::string run_id = "", bool adopt_unmarked = true);
  // Writes checkpoint-<state.step>.convoy (replacing one of the same step), then deletes all
  // but the run's newest `keep` and any temporary file a killed writer left. Returns the path.
  std::string write(Model& model, SgdOptimizer& optimizer, const TrainState& state, const RunFingerprint& options);
  const std::string& dir() const { return dir_; }
  const std::string& run_id() const { return run_id_; }

 private:
  std::string dir_;
  int keep_;
  std::string run_id_;
  std::vector<CheckpointFile> own_;  // this run's checkpoints on disk, oldest first
};

// The newest checkpoint under `dir` (or under `dir`/checkpoints when `dir` holds none, so a
// run's output folder works too). Throws, naming both places looked, when there is none.
CheckpointFile latest_checkpoint(const std::string& dir);

}  // namespace convoy
