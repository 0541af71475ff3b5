#include "train/stop_request.h"

#include <atomic>
#include <csignal>

namespace convoy {
namespace {

// Lock-free atomics are async-signal-safe.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal) { g_stop_signal.store(signal); }

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &sa, nullptr);
}

bool stop_requested() { return g_stop_signal.load() != 0; }

int stop_signal() { return g_stop_signal.load(); }

void request_stop(int signal) { g_stop_signal.store(signal == 0 ? -1 : signal); }

void clear_stop_request() { g_stop_signal.store(0); }

}  // namespace convoy
