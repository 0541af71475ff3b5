// WorkerPool: a fixed set of threads that run submitted jobs, first come first served. The
// HTTP server (serve/http_server.h) hands it the requests that may take long (decoding and
// predicting), so its event loop only moves bytes. stop() runs the jobs already queued, then
// joins the threads; later submit() calls are refused with convoy::Error.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace convoy::serve {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Thread-safe. A job that throws has its exception dropped: jobs report through their own
  // means (the server's jobs catch everything and answer 500).
  void submit(std::function<void()> job);
  void stop();
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace convoy::serve
