// A progress bar on stderr, drawn only when stderr is a terminal (like tqdm): the
// parseable per-epoch lines go to stdout regardless.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace convoy {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled);
  ~ProgressBar();
  void update(int64_t done, const std::string& suffix = "");
  void finish();
  static bool stderr_is_terminal();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace convoy
