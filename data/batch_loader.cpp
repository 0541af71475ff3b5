// The batch loader: one Fisher-Yates shuffle per epoch from Rng(seed, epoch), per-rank
// shards of every global batch, and a background thread that prepares up to `prefetch`
// batches ahead (bounded queue under a mutex and two condition variables). A restart
// (start_epoch) bumps a generation number, so batches of an abandoned epoch are dropped.
#include "data/batch_loader.h"

#include <omp.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "engine/error.h"
#include "engine/rng.h"
#include "kernels/augment.h"

namespace convoy::data {

namespace {

// Rows [begin, end) of this rank's share of global batch `b` (positions in the epoch order).
struct Span {
  int64_t begin, end;
};

}  // namespace

struct BatchLoader::Impl {
  const Dataset& dataset;
  LoaderOptions options;
  int64_t global_batch = 0;   // world_size * batch_size
  int64_t batches = 0;        // per epoch, same on every rank

  std::mutex mutex;
  std::condition_variable work_ready;   // the worker waits on this
  std::condition_variable batch_ready;  // next() waits on this
  std::deque<Batch> queue;
  bool stopping = false;
  bool started = false;
  uint64_t generation = 0;
  uint64_t epoch = 0;
  std::vector<uint64_t> order;  // global order of this epoch
  int64_t next_to_make = 0;
  int64_t next_to_hand_out = 0;
  std::exception_ptr error;
  // The worker prepares a batch on one thread: an OpenMP team of its own would compete for
  // the cores with the training step's team, and its idle threads spin (libgomp's default
  // wait policy) while the step runs.
  std::thread worker;

  Impl(const Dataset& d, LoaderOptions o) : dataset(d), options(std::move(o)) {}

  Span span(int64_t b) const {
    const int64_t n = dataset.size();
    const int64_t start = b * global_batch;
    const int64_t rows = std::min(global_batch, n - start);
    if (rows == global_batch)
      return {start + options.rank * options.batch_size, start + (options.rank + 1) * options.batch_size};
    // The ragged last global batch (evaluation): split as evenly as possible over the ranks.
    const int64_t w = options.world_size;
    return {start + rows * options.rank / w, start + rows * (options.rank + 1) / w};
  }

  std::vector<uint64_t> global_order(uint64_t e) const {
    std::vector<uint64_t> o(static_cast<size_t>(dataset.size()));
    std::iota(o.begin(), o.end(), uint64_t(0));
    if (options.shuffle) {
      Rng rng(options.seed, e);
      for (size_t i = o.size(); i > 1; --i) std::swap(o[i - 1], o[rng.next_below(static_cast<uint32_t>(i))]);
    }
    return o;
  }

  // Gathers the uint8 images of `ids` and runs the augmentation/normalisation kernel on them.
  Batch make_batch(std::vector<uint64_t> ids, int64_t b, uint64_t e) const {
    Batch batch;
    batch.index = b;
    batch.size = static_cast<int>(ids.size());
    batch.ids = std::move(ids);
    batch.labels.resize(batch.size);
    std::vector<uint8_t> staged(static_cast<size_t>(batch.size) * kImageBytes);
    for (int i = 0; i < batch.size; ++i) {
      const uint64_t id = batch.ids[i];
      batch.labels[i] = dataset.labels[id];
      std::copy(dataset.image(static_cast<int64_t>(id)), dataset.image(static_cast<int64_t>(id)) + kImageBytes,
                staged.begin() + static_cast<size_t>(i) * kImageBytes);
    }
    batch.epoch = e;
    if (!options.normalize_on_host) {
      batch.raw = std::move(staged);
      return batch;
    }
    batch.images.resize(staged.size());
    kernels::AugmentArgs a;
    a.N = batch.size;
    a.images = staged.data();
    a.sample_ids = batch.ids.data();
    for (int c = 0; c < 3; ++c) {
      a.mean[c] = options.stats.mean[c];
      a.inv_std[c] = 1.0f / options.stats.std[c];
    }
    a.augment = options.augment;
    a.crop_pad = options.crop_pad;
    a.flip = options.flip;
    a.cutout = options.cutout;
    a.seed = options.seed;
    a.epoch = e;
    a.out = batch.images.data();
    if (a.N > 0) kernels::cpu::augment_normalize(a);
    return batch;
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      work_ready.wait(lock, [&] {
        return stopping || (started && !error && next_to_make < batches &&
                            static_cast<int64_t>(queue.size()) < options.prefetch);
      });
      if (stopping) return;
      const uint64_t gen = generation, e = epoch;
      const int64_t b = next_to_make++;
      omp_set_num_threads(1);
      // Copy this batch's ids while locked: start_epoch may replace `order` meanwhile.
      const Span s = span(b);
      std::vector<uint64_t> ids(order.begin() + s.begin, order.begin() + s.end);
      lock.unlock();
      Batch batch;
      std::exception_ptr failure;
      try {
        batch = make_batch(std::move(ids), b, e);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      if (gen != generation) continue;  // the epoch was restarted meanwhile: drop it
      if (failure) error = failure;
      else queue.push_back(std::move(batch));
      batch_ready.notify_all();
    }
  }
};

BatchLoader::BatchLoader(const Dataset& dataset, LoaderOptions options)
    : impl_(std::make_unique<Impl>(dataset, std::move(options))) {
  const LoaderOptions& o = impl_->options;
  if (o.batch_size < 1) fail("batch loader: batch size ", o.batch_size, " must be at least 1");
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size)
    fail("batch loader: rank ", o.rank, " must be in 0..world_size-1 (world_size ", o.world_size, ")");
  if (o.prefetch < 1) impl_->options.prefetch = 1;
  for (int c = 0; c < 3; ++c)
    if (!(o.stats.std[c] > 0)) fail("batch loader: channel ", c, " standard deviation ", o.stats.std[c], " must be > 0");
  if (static_cast<int64_t>(dataset.images.size()) != dataset.size() * kImageBytes)
    fail("batch loader: data set ", dataset.origin, " holds ", dataset.images.size(), " image bytes for ",
         dataset.size(), " labels");
  impl_->global_batch = static_cast<int64_t>(o.batch_size) * o.world_size;
  const int64_t n = dataset.size();
  impl_->batches = o.drop_last ? n / impl_->global_batch : (n + impl_->global_batch - 1) / impl_->global_batch;
  impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->work_ready.notify_all();
  impl_->worker.join();
}

void BatchLoader::start_epoch(uint64_t epoch, int64_t skip_batches) {
  Impl& m = *impl_;
  if (skip_batches < 0 || skip_batches > m.batches)
    fail("batch loader: skip_batches ", skip_batches, " must be in 0..", m.batches, " (batches per epoch)");
  std::vector<uint64_t> order = m.global_order(epoch);
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    ++m.generation;
    m.queue.clear();
    m.error = nullptr;
    m.epoch = epoch;
    m.order = std::move(order);
    m.next_to_make = skip_batches;
    m.next_to_hand_out = skip_batches;
    m.started = true;
  }
  m.work_ready.notify_all();
}

bool BatchLoader::next(Batch& batch) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mutex);
  if (!m.started) fail("batch loader: next() called before start_epoch()");
  if (m.next_to_hand_out >= m.batches) return false;
  m.batch_ready.wait(lock, [&] { return !m.queue.empty() || m.error; });
  if (m.queue.empty() && m.error) {
    std::exception_ptr e = m.error;
    m.next_to_hand_out = m.batches;  // the epoch is over; start_epoch restarts cleanly
    std::rethrow_exception(e);
  }
  batch = std::move(m.queue.front());
  m.queue.pop_front();
  ++m.next_to_hand_out;
  lock.unlock();
  m.work_ready.notify_all();
  return true;
}

int64_t BatchLoader::batches_per_epoch() const { return impl_->batches; }

std::vector<uint64_t> BatchLoader::epoch_order(uint64_t epoch) const {
  const Impl& m = *impl_;
  const std::vector<uint64_t> order = m.global_order(epoch);
  std::vector<uint64_t> mine;
  for (int64_t b = 0; b < m.batches; ++b) {
    Span s = m.span(b);
    mine.insert(mine.end(), order.begin() + s.begin, order.begin() + s.end);
  }
  return mine;
}

}  // namespace convoy::data
