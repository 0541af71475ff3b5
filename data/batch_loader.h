// Shuffled, augmented minibatches prepared by a background thread. One global shuffle
// per epoch from (seed, epoch); with world_size > 1 each rank takes a disjoint shard of
// every global batch (rank r takes rows [r*B, (r+1)*B) of the global batch of
// world_size*B). Output images are normalised float32 (N, 3, 32, 32) on the host;
// labels int32.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace convoy::data {

struct LoaderOptions {
  int batch_size = 128;      // per rank
  bool shuffle = true;
  bool drop_last = true;     // training: drop the ragged last batch; evaluation: keep it
  bool augment = false;
  int crop_pad = 4;
  bool flip = true;
  int cutout = 0;
  uint64_t seed = 0;
  int rank = 0;
  int world_size = 1;
  ChannelStats stats = cifar10_stats();
  int prefetch = 2;          // batches prepared ahead by the background thread
  // false: leave normalisation and augmentation to the caller (Batch::raw holds the uint8
  // images), as the CUDA trainer does on the device with the same kernels::augment_draw.
  bool normalize_on_host = true;
};

struct Batch {
  std::vector<float> images;       // (size, 3, 32, 32) normalised (normalize_on_host)
  std::vector<uint8_t> raw;        // (size, 3, 32, 32) as stored (!normalize_on_host)
  std::vector<int32_t> labels;     // (size)
  std::vector<uint64_t> ids;       // index of each sample in the data set
  int size = 0;
  int64_t index = 0;               // batch number within the epoch
  uint64_t epoch = 0;
};

class BatchLoader {
 public:
  BatchLoader(const Dataset& dataset, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Begins epoch `epoch` (its shuffle and augmentation draws depend on seed and epoch only).
  // `skip_batches` resumes mid-epoch.
  void start_epoch(uint64_t epoch, int64_t skip_batches = 0);
  // The next batch of the epoch, or false at its end.
  bool next(Batch& batch);
  int64_t batches_per_epoch() const;
  // The order of sample ids this rank sees in `epoch` (for tests and resume).
  std::vector<uint64_t> epoch_order(uint64_t epoch) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::data
