#include "engine/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace convoy {

namespace {

constexpr double kPi = 3.14159265358979323846;

// 1 at p = 0 down to 0 at p = 1, by half a cosine or a straight line.
double anneal_factor(double p, bool cosine) {
  p = std::clamp(p, 0.0, 1.0);
  return cosine ? 0.5 * (1.0 + std::cos(kPi * p)) : 1.0 - p;
}

double step_decay(const LrSchedule& s, int64_t epoch) {
  int64_t k = 0;
  if (!s.milestones.empty()) {
    for (int m : s.milestones) k += epoch >= m ? 1 : 0;
  } else if (s.step_size > 0) {
    k = epoch / s.step_size;
  }
  return s.lr * std::pow(s.gamma, static_cast<double>(k));
}

}  // namespace

void LrSchedule::validate() const {
  if (!(lr > 0)) fail("lr schedule: lr must be positive, got ", lr);
  if (!(warmup_epochs >= 0)) fail("lr schedule: warmup_epochs must not be negative, got ", warmup_epochs);
  if (kind == Kind::step) {
    if (milestones.empty() && step_size <= 0)
      fail("lr schedule 'step': give step_size (epochs, > 0) or milestones");
    if (!std::is_sorted(milestones.begin(), milestones.end()))
      fail("lr schedule 'step': milestones must be in increasing order");
  }
  if (kind == Kind::cosine && !(min_lr >= 0 && min_lr <= lr))
    fail("lr schedule 'cosine': min_lr ", min_lr, " must lie in [0, lr = ", lr, "]");
  if (kind == Kind::one_cycle) {
    if (!(pct_start > 0 && pct_start < 1)) fail("lr schedule 'one_cycle': pct_start must lie in (0, 1), got ", pct_start);
    if (!(div_factor >= 1) || !(final_div_factor >= 1))
      fail("lr schedule 'one_cycle': div_factor and final_div_factor must be >= 1");
    if (warmup_epochs != 0) fail("lr schedule 'one_cycle' has its own ramp: set warmup_epochs to 0");
  }
}

double lr_at(const LrSchedule& s, int64_t step, int64_t total_steps, int64_t steps_per_epoch) {
  if (steps_per_epoch <= 0) fail("lr_at: steps_per_epoch must be positive, got ", steps_per_epoch);
  if (total_steps <= 0) fail("lr_at: total_steps must be positive, got ", total_steps);
  step = std::clamp<int64_t>(step, 0, total_steps - 1);

  if (s.kind == LrSchedule::Kind::one_cycle) {
    const double start = s.lr / s.div_factor, end = start / s.final_div_factor;
    const double up = s.pct_start * static_cast<double>(total_steps);
    if (step < up) return start + (s.lr - start) * (static_cast<double>(step) / up);
    const double down = static_cast<double>(total_steps - 1) - up;
    const double p = down > 0 ? (static_cast<double>(step) - up) / down : 1.0;
    return end + (s.lr - end) * anneal_factor(p, s.cosine_anneal);
  }

  const int64_t warmup = std::llround(s.warmup_epochs * static_cast<double>(steps_per_epoch));
  if (step < warmup) return s.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);

  switch (s.kind) {
    case LrSchedule::Kind::constant:
      return s.lr;
    case LrSchedule::Kind::step:
      return step_decay(s, step / steps_per_epoch);
    case LrSchedule::Kind::cosine: {
      const int64_t span = total_steps - warmup;
      const double p = span > 0 ? static_cast<double>(step - warmup) / static_cast<double>(span) : 1.0;
      return s.min_lr + (s.lr - s.min_lr) * anneal_factor(p, true);
    }
    case LrSchedule::Kind::one_cycle:
      break;
  }
  return s.lr;
}

std::string to_string(LrSchedule::Kind kind) {
  switch (kind) {
    case LrSchedule::Kind::constant: return "constant";
    case LrSchedule::Kind::step: return "step";
    case LrSchedule::Kind::cosine: return "cosine";
    case LrSchedule::Kind::one_cycle: return "one_cycle";
  }
  return "?";
}

LrSchedule::Kind parse_lr_schedule_kind(const std::string& name) {
  for (auto k : {LrSchedule::Kind::constant, LrSchedule::Kind::step, LrSchedule::Kind::cosine,
                 LrSchedule::Kind::one_cycle})
    if (name == to_string(k)) return k;
  fail("unknown lr schedule '", name, "': use constant, step, cosine or one_cycle");
}

void to_json(nlohmann::json& j, const LrSchedule& s) {
  j = nlohmann::json{{"kind", to_string(s.kind)}, {"lr", s.lr}, {"warmup_epochs", s.warmup_epochs}};
  switch (s.kind) {
    case LrSchedule::Kind::constant:
      break;
    case LrSchedule::Kind::step:
      j["gamma"] = s.gamma;
      if (s.milestones.empty()) j["step_size"] = s.step_size;
      else j["milestones"] = s.milestones;
      break;
    case LrSchedule::Kind::cosine:
      j["min_lr"] = s.min_lr;
      break;
    case LrSchedule::Kind::one_cycle:
      j["pct_start"] = s.pct_start;
      j["div_factor"] = s.div_factor;
      j["final_div_factor"] = s.final_div_factor;
      j["anneal"] = s.cosine_anneal ? "cos" : "linear";
      break;
  }
}

void from_json(const nlohmann::json& j, LrSchedule& s) {
  if (!j.is_object()) fail("lr schedule: expected a JSON object, got ", j.dump());
  s = LrSchedule{};
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "kind") s.kind = parse_lr_schedule_kind(value.get<std::string>());
      else if (key == "lr") s.lr = value.get<double>();
      else if (key == "warmup_epochs") s.warmup_epochs = value.get<double>();
      else if (key == "gamma") s.gamma = value.get<double>();
      else if (key == "step_size") s.step_size = value.get<int>();
      else if (key == "milestones") s.milestones = value.get<std::vector<int>>();
      else if (key == "min_lr") s.min_lr = value.get<double>();
      else if (key == "pct_start") s.pct_start = value.get<double>();
      else if (key == "div_factor") s.div_factor = value.get<double>();
      else if (key == "final_div_factor") s.final_div_factor = value.get<double>();
      else if (key == "anneal") {
        const std::string a = value.get<std::string>();
        if (a != "cos" && a != "linear") fail("lr schedule: anneal must be \"cos\" or \"linear\", got \"", a, "\"");
        s.cosine_anneal = a == "cos";
      } else {
        fail("lr schedule: unknown field \"", key, "\"");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail("lr schedule ", j.dump(), ": a field has the wrong type (", e.what(), ")");
  }
  s.validate();
}

}  // namespace convoy
