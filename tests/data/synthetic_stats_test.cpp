// The synthetic source and the channel statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "data/sources.h"
#include "data_test_helpers.h"
#include "engine/error.h"
#include "engine/threads.h"

namespace convoy::data {
namespace {

TEST(Synthetic, SizesSeedsAndBalancedClasses) {
  LoadOptions o;
  o.synthetic_train = 503;  // odd
  o.synthetic_test = 101;
  o.synthetic_seed = 7;
  CifarData a = load_cifar("synthetic", o);
  EXPECT_TRUE(a.synthetic);
  ASSERT_EQ(a.train.size(), 503);
  ASSERT_EQ(a.test.size(), 101);
  ASSERT_EQ(a.train.images.size(), 503u * kImageBytes);
  std::vector<int> count(10, 0);
  for (int32_t l : a.train.labels) ++count.at(l);
  for (int c = 0; c < 10; ++c) EXPECT_GE(count[c], 50);
  CifarData b = load_cifar("synthetic", o);
  EXPECT_EQ(a.train.images, b.train.images);
  set_num_threads(1);
  CifarData one_thread = load_cifar("synthetic", o);
  set_num_threads(0);
  EXPECT_EQ(a.train.images, one_thread.train.images);
  o.synthetic_seed = 8;
  CifarData c = load_cifar("synthetic", o);
  EXPECT_NE(a.train.images, c.train.images);
}

// "synthetic:N" (the smoke-run size on the command line): N training and N/5 test images;
// anything but a whole number in range is refused naming the spec.
TEST(Synthetic, SizeInTheSpec) {
  CifarData d = load_cifar("synthetic:600", LoadOptions{});
  EXPECT_TRUE(d.synthetic);
  EXPECT_EQ(d.train.size(), 600);
  EXPECT_EQ(d.test.size(), 120);
  EXPECT_EQ(load_cifar("synthetic:3", LoadOptions{}).test.size(), 1);
  for (const char* bad : {"synthetic:", "synthetic:0", "synthetic:-5", "synthetic:12x", "synthetic:1e3",
                          "synthetic:99999999999999999999", "synthetic:2000000"}) {
    try {
      load_cifar(bad, LoadOptions{});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const convoy::Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("whole number"), std::string::npos) << e.what();
    }
  }
}

// Learnable: a nearest-class-mean classifier on raw pixels beats chance by far.
TEST(Synthetic, NearestClassMeanSeparatesClasses) {
  LoadOptions o;
  o.synthetic_train = 1000;
  o.synthetic_test = 300;
  CifarData d = load_cifar("synthetic", o);
  std::vector<double> mean(10 * kImageBytes, 0.0);
  std::vector<int> count(10, 0);
  for (int64_t i = 0; i < d.train.size(); ++i) {
    ++count[d.train.labels[i]];
    for (int k = 0; k < kImageBytes; ++k) mean[d.train.labels[i] * kImageBytes + k] += d.train.image(i)[k];
  }
  for (int c = 0; c < 10; ++c)
    for (int k = 0; k < kImageBytes; ++k) mean[c * kImageBytes + k] /= count[c];
  int correct = 0;
  for (int64_t i = 0; i < d.test.size(); ++i) {
    int best = -1;
    double best_d = 1e300;
    for (int c = 0; c < 10; ++c) {
      double dist = 0;
      for (int k = 0; k < kImageBytes; ++k) dist += std::pow(d.test.image(i)[k] - mean[c * kImageBytes + k], 2);
      if (dist < best_d) best_d = dist, best = c;
    }
    correct += best == d.test.labels[i];
  }
  EXPECT_GT(correct, d.test.size() / 2);  // chance is 10%
}

TEST(ChannelStats, MatchesDirectComputation) {
  LoadOptions o;
  o.synthetic_train = 37;
  o.load_test = false;
  Dataset d = load_cifar("synthetic", o).train;
  ChannelStats s = channel_stats(d);
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sq = 0, n = 0;
    for (int64_t i = 0; i < d.size(); ++i)
      for (int k = 0; k < 1024; ++k) {
        double v = d.image(i)[c * 1024 + k];
        sum += v, sq += v * v, n += 1;
      }
    double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
    EXPECT_NEAR(s.mean[c], mean, 1e-3);
    EXPECT_NEAR(s.std[c], sd, 1e-3);
    EXPECT_GT(s.std[c], 1.0f);
  }
  ChannelStats k = cifar10_stats();
  EXPECT_FLOAT_EQ(k.mean[0], 125.3f);
  EXPECT_FLOAT_EQ(k.mean[2], 113.9f);
  EXPECT_FLOAT_EQ(k.std[1], 62.1f);
  EXPECT_FLOAT_EQ(k.std[2], 66.7f);
  Dataset empty;
  EXPECT_THROW(channel_stats(empty), Error);
}

}  // namespace
}  // namespace convoy::data
