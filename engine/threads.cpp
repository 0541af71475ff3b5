#include "engine/threads.h"

#include <omp.h>

#include <thread>

namespace convoy {

void set_num_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : hardware_threads()); }
int num_threads() { return omp_get_max_threads(); }
int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

}  // namespace convoy
