#include "train/metrics_log.h"

#include <sstream>

#include "engine/error.h"
#include "engine/model_file.h"

namespace convoy {
namespace {

// The lines of `path` a resume at (step, epochs_done) keeps.
std::string kept_records(const std::string& path, int64_t step, int epochs_done) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline after it: torn by a kill mid-write
    nlohmann::json r = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object()) continue;
    const std::string kind = r.value("kind", std::string());
    if (kind == "step" && r.value("step", int64_t(-1)) > step) continue;
    if (kind == "epoch" && r.value("epoch", 0) > epochs_done) continue;
    kept += line + "\n";
  }
  return kept;
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
  if (!out_) fail("cannot write ", path);
}

MetricsLog::MetricsLog(const std::string& path, int64_t step, int epochs_done) : path_(path) {
  write_file_atomically(path, kept_records(path, step, epochs_done));
  out_.open(path, std::ios::app);
  if (!out_) fail("cannot append to ", path);
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << '\n';
  out_.flush();
  if (!out_) fail("cannot write ", path_, " (disk full?)");
}

void MetricsLog::step(const TrainState& s, double images_per_sec) {
  write({{"kind", "step"},
         {"step", s.step},
         {"epoch", s.epoch + 1},
         {"batch", s.batch},
         {"lr", s.lr},
         {"loss", s.seen ? s.loss_sum / s.seen : 0.0},
         {"acc", s.seen ? double(s.correct) / s.seen : 0.0},
         {"images_per_sec", images_per_sec},
         {"elapsed_s", s.elapsed_s}});
}

void MetricsLog::epoch(const EpochMetrics& m) {
  nlohmann::json r = {{"kind", "epoch"}};
  r.update(m.to_json());
  write(r);
}

}  // namespace convoy
