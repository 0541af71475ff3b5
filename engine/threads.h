// CPU threading is OpenMP with static schedules, so the same thread count gives the same
// work split and bit-identical results.
#pragma once

namespace convoy {

void set_num_threads(int threads);  // <= 0: all hardware threads
int num_threads();
int hardware_threads();

}  // namespace convoy
