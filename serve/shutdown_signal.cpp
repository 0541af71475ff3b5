#include "serve/shutdown_signal.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "engine/error.h"

namespace convoy::serve {

namespace {

int g_pipe[2] = {-1, -1};
std::atomic<bool> g_active{false};
struct sigaction g_old_term, g_old_int;

void on_shutdown_signal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

ShutdownSignals::ShutdownSignals(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  if (g_active.exchange(true)) fail("ShutdownSignals: only one instance may be active in a process");
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) {
    g_active = false;
    fail("ShutdownSignals: pipe2 failed: ", std::strerror(errno));
  }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_shutdown_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, &g_old_term);
  ::sigaction(SIGINT, &sa, &g_old_int);
  watcher_ = std::thread([this] {
    while (true) {
      unsigned char byte = 0;
      const ssize_t n = ::read(g_pipe[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;  // 0: the destructor asks the watcher to end
      on_signal_(byte);
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::sigaction(SIGINT, &g_old_int, nullptr);
  const unsigned char quit = 0;
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &quit, 1);
  watcher_.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
  g_active = false;
}

}  // namespace convoy::serve
