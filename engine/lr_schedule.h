// Learning-rate schedules as plain data plus one pure function, so a run's schedule is a
// small JSON object in its config and the lr of any step can be recomputed on resume.
//   constant   lr
//   step       lr * gamma^k, k = epochs passed of `milestones` (absolute epoch numbers), or
//              floor(epoch / step_size) when milestones is empty
//   cosine     from lr down to min_lr over the steps after the warm-up (per-step cosine)
//   one_cycle  linear from lr / div_factor up to lr over pct_start of all steps, then down to
//              lr / div_factor / final_div_factor, by cosine or linearly (`anneal`);
//              it has its own ramp, so warmup_epochs must be 0
// warmup_epochs (may be fractional) puts a linear ramp lr * (step + 1) / warmup_steps in front
// of constant, step and cosine. Steps count from 0; epoch = step / steps_per_epoch (floor).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace convoy {

struct LrSchedule {
  enum class Kind { constant, step, cosine, one_cycle };
  Kind kind = Kind::constant;
  double lr = 0.1;                 // base lr; the peak for one_cycle
  double warmup_epochs = 0.0;
  // step
  double gamma = 0.1;
  int step_size = 0;               // epochs; used when milestones is empty
  std::vector<int> milestones;     // epochs
  // cosine
  double min_lr = 0.0;
  // one_cycle
  double pct_start = 0.3;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool cosine_anneal = true;       // JSON "anneal": "cos" or "linear"

  // Throws convoy::Error naming the bad field.
  void validate() const;
};

// The learning rate of optimiser step `step` of `total_steps` (step in [0, total_steps)).
double lr_at(const LrSchedule& s, int64_t step, int64_t total_steps, int64_t steps_per_epoch);

std::string to_string(LrSchedule::Kind kind);
LrSchedule::Kind parse_lr_schedule_kind(const std::string& name);  // throws naming the text

// JSON form: {"kind": "cosine", "lr": 0.1, "warmup_epochs": 1, "min_lr": 0, ...}; fields not
// given keep their defaults, unknown fields are an error (a typo must not pass silently).
void to_json(nlohmann::json& j, const LrSchedule& s);
void from_json(const nlohmann::json& j, LrSchedule& s);

}  // namespace convoy
