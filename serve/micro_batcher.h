// MicroBatcher: gathers the images of concurrent requests into one forward pass. A request
// waits at most `max_wait` for company: the batcher thread takes the first waiting request,
// then keeps taking requests while the batch has room (max_batch images) and the wait has not
// run out, runs the predictor once, and hands each request its own answers. So one client sees
// the latency of a single-image pass plus at most max_wait, and many clients share passes,
// which is where the throughput comes from. max_batch 1 turns batching off.
// The wait is spent only while more requests are known to be on their way (expect_request():
// the server calls it when a request arrives, before decoding its body), so a lone client
// is never delayed.
// A request larger than max_batch runs alone (the predictor chunks it).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/predictor.h"

namespace convoy::serve {

struct BatcherOptions {
  int max_batch = 64;                                 // images per forward pass
  std::chrono::microseconds max_wait{2000};           // how long the first request waits for more
  // Before the first request, run one pass of max_batch blank images (at most 256) on the
  // batcher thread: the model's buffers (and the OpenMP team) then reach the size of the
  // largest batch at start, in one allocation, instead of growing in steps the first times
  // the load makes a larger batch than before (20 MiB less RSS for quick under load).
  bool warm_up = true;
};

struct BatcherStats {
  int64_t requests = 0;
  int64_t images = 0;
  int64_t passes = 0;  // forward passes; images / passes is the mean batch
};

class MicroBatcher {
 public:
  MicroBatcher(Predictor& predictor, const BatcherOptions& options);
  ~MicroBatcher();  // stop()
  MicroBatcher(const MicroBatcher&) = delete;
  MicroBatcher& operator=(const MicroBatcher&) = delete;

  // Queues `count` images (count x 3072 bytes, CHW) and returns their predictions when their
  // pass has run. Thread-safe. Throws what the predictor threw, or convoy::Error once stopped.
  std::vector<Prediction> predict(std::vector<uint8_t> images, int64_t count);

  // A request has arrived and will call predict() (or cancel_expected() if it fails first).
  void expect_request();
  void cancel_expected();

  // Finishes every queued request, then ends the thread. Later predict() calls fail.
  void stop();
  BatcherStats stats() const;

 private:
  struct Pending {
    std::vector<uint8_t> images;
    int64_t count = 0;
    std::promise<std::vector<Prediction>> answer;
  };
  void run();
  void run_pass(std::vector<Pending>& batch);

  Predictor& predictor_;
  BatcherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  int64_t expected_ = 0;  // announced requests not yet queued
  BatcherStats stats_;
  std::thread thread_;
};

}  // namespace convoy::serve
