// CPU threading is OpenMP with static schedules, so the same thread count gives the same
// work split and bit-identical results.
#pragma once

namespace convoy {

void set_num_threads(int threads);  // <= 0: all hardware threads
int num_threads();
int hardware_threads();
// A user's thread count (--threads) made usable: 0 stays 0 (all hardware threads), more than
// the machine has becomes hardware_threads() with a one-line warning on stderr, and a negative
// count is an OptionError ("threads").
int usable_threads(int requested);

}  // namespace convoy
