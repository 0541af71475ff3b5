// ShutdownSignals: turns SIGTERM and SIGINT into an ordinary call on a watcher thread (the
// signal handler only writes a byte to a pipe, which is async-signal-safe), so the callback
// may lock, log and stop a server. SageMaker stops a container with SIGTERM; convoy-serve
// then drains its requests and exits 0. One instance at a time per process; the destructor
// puts the previous handlers back.
#pragma once
#include <functional>
#include <thread>

namespace convoy::serve {

class ShutdownSignals {
 public:
  explicit ShutdownSignals(std::function<void(int signal)> on_signal);
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

 private:
  std::function<void(int)> on_signal_;
  std::thread watcher_;
};

}  // namespace convoy::serve
