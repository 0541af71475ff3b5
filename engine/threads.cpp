#include "engine/threads.h"

#include <omp.h>

#include <cstdio>
#include <thread>

#include "engine/error.h"

namespace convoy {

void set_num_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : hardware_threads()); }
int num_threads() { return omp_get_max_threads(); }
int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

int usable_threads(int requested) {
  if (requested < 0) fail_option("threads", requested, " must be >= 0 (0 = all hardware threads)");
  const int hardware = hardware_threads();
  if (requested <= hardware) return requested;
  // More threads than cores only oversubscribes them (10,000 threads made no progress at all).
  std::fprintf(stderr, "warning: %d threads asked for, but this machine has %d hardware threads; using %d\n", requested,
               hardware, hardware);
  return hardware;
}

}  // namespace convoy
