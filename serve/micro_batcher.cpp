#include "serve/micro_batcher.h"

#include <algorithm>

#include "data/dataset.h"
#include "engine/error.h"

namespace convoy::serve {

MicroBatcher::MicroBatcher(Predictor& predictor, const BatcherOptions& options)
    : predictor_(predictor), options_(options) {
  if (options_.max_batch < 1) fail("micro-batcher: max batch is ", options_.max_batch, ", must be at least 1");
  if (options_.max_wait.count() < 0) fail("micro-batcher: max wait must not be negative");
  thread_ = std::thread([this] { run(); });
}

MicroBatcher::~MicroBatcher() { stop(); }

std::vector<Prediction> MicroBatcher::predict(std::vector<uint8_t> images, int64_t count) {
  CONVOY_CHECK(images.size() == static_cast<size_t>(count) * data::kImageBytes,
               count << " images need " << count * data::kImageBytes << " bytes, got " << images.size());
  if (count == 0) return {};
  std::future<std::vector<Prediction>> answer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (expected_ > 0) --expected_;
    if (stopping_) fail("the server is shutting down");
    Pending p;
    p.images = std::move(images);
    p.count = count;
    answer = p.answer.get_future();
    queue_.push_back(std::move(p));
  }
  cv_.notify_all();
  return answer.get();
}

void MicroBatcher::expect_request() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++expected_;
}

void MicroBatcher::cancel_expected() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (expected_ > 0) --expected_;
  }
  cv_.notify_all();
}

void MicroBatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BatcherStats MicroBatcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void MicroBatcher::run() {
  if (options_.warm_up) {
    try {
      const int n = std::min(options_.max_batch, 256);
      const std::vector<uint8_t> blank(static_cast<size_t>(n) * data::kImageBytes, 0);
      predictor_.predict(blank.data(), n);
    } catch (...) {
      // A model that cannot predict fails every request the same way, with the reason.
    }
  }
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    // The first request opens the batch; others join while there is room and time.
    std::vector<Pending> batch;
    int64_t images = 0;
    const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
    while (true) {
      while (!queue_.empty() && (batch.empty() || images + queue_.front().count <= options_.max_batch)) {
        images += queue_.front().count;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      const bool full = images >= options_.max_batch || !queue_.empty();
      if (full || stopping_ || expected_ == 0) break;
      if (!cv_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty() || expected_ == 0; })) break;
    }
    stats_.requests += static_cast<int64_t>(batch.size());
    stats_.images += images;
    stats_.passes += 1;
    lock.unlock();
    run_pass(batch);
    lock.lock();
  }
}

void MicroBatcher::run_pass(std::vector<Pending>& batch) {
  try {
    std::vector<uint8_t> joined;
    const std::vector<uint8_t>* input = &batch.front().images;
    int64_t total = batch.front().count;
    if (batch.size() > 1) {
      total = 0;
      for (const auto& p : batch) total += p.count;
      joined.reserve(static_cast<size_t>(total) * data::kImageBytes);
      for (const auto& p : batch) joined.insert(joined.end(), p.images.begin(), p.images.end());
      input = &joined;
    }
    std::vector<Prediction> all = predictor_.predict(input->data(), total);
    auto it = all.begin();
    for (auto& p : batch) {
      std::vector<Prediction> mine(std::make_move_iterator(it), std::make_move_iterator(it + p.count));
      it += p.count;
      p.answer.set_value(std::move(mine));
    }
  } catch (...) {
    for (auto& p : batch) {
      try {
        p.answer.set_exception(std::current_exception());
      } catch (const std::future_error&) {
        // this request was already answered before the failure
      }
    }
  }
}

}  // namespace convoy::serve
