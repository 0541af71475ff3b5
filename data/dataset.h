// A CIFAR-10 style data set held in memory as uint8, the way the binary batches store it:
// images (n, 3, 32, 32) channel-planar, one label byte each. Sources (data/sources.h) fill
// it; the batch loader (data/batch_loader.h) turns it into normalised float batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace convoy::data {

inline constexpr int kImageChannels = 3;
inline constexpr int kImageSide = 32;
inline constexpr int kImageBytes = kImageChannels * kImageSide * kImageSide;  // 3072
inline constexpr int kRecordBytes = 1 + kImageBytes;                          // 3073

struct Dataset {
  std::vector<uint8_t> images;  // (size, 3, 32, 32)
  std::vector<int32_t> labels;  // (size), in [0, num_classes)
  std::vector<std::string> class_names;
  std::string origin;           // what it was read from, for reports and errors

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  const uint8_t* image(int64_t i) const { return images.data() + i * kImageBytes; }
};

// Train and test splits together, with a description of where they came from.
struct CifarData {
  Dataset train;
  Dataset test;
  std::string source;        // e.g. "folder of binary batches /x/y", "synthetic (generated)"
  bool synthetic = false;
};

// Per-channel mean and standard deviation in [0, 255] units over a data set.
struct ChannelStats {
  float mean[3];
  float std[3];
};
ChannelStats channel_stats(const Dataset& d);
// CIFAR-10 training-set statistics (the usual constants), used unless the caller computes its own.
ChannelStats cifar10_stats();

}  // namespace convoy::data
