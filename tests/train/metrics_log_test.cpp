// metrics.jsonl: one record per line, a resume drops records past its checkpoint and a
// torn last line; the stop flag records the signal that asked to stop.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "train/metrics_log.h"
#include "train/stop_request.h"
#include "train_test_util.h"

namespace convoy {
namespace {

std::vector<nlohmann::json> records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(test::file_bytes(path));
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TrainState state_at(int64_t step, int epoch) {
  TrainState s;
  s.step = step;
  s.epoch = epoch;
  s.batch = step % 10;
  s.loss_sum = 1.25 * step;
  s.correct = step;
  s.seen = 4 * step;
  s.lr = 0.01 * step;
  s.elapsed_s = 0.5 * step;
  return s;
}

TEST(MetricsLog, ResumeKeepsRecordsUpToTheCheckpointAndDropsATornLine) {
  const std::string dir = test::temp_dir("metrics");
  const std::string path = dir + "/metrics.jsonl";
  {
    MetricsLog log(path);
    for (int64_t step = 5; step <= 30; step += 5) {
      log.step(state_at(step, static_cast<int>(step / 10)), 100.0 + step);
      if (step % 10 == 0) {
        EpochMetrics m;
        m.epoch = static_cast<int>(step / 10);
        m.train_loss = 0.1 * step;
        log.epoch(m);
      }
    }
  }
  std::vector<nlohmann::json> all = records(path);
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all[0]["kind"], "step");
  EXPECT_EQ(all[0]["step"], 5);
  EXPECT_EQ(all[0]["epoch"], 1);
  EXPECT_DOUBLE_EQ(all[0]["loss"].get<double>(), 1.25 / 4);
  EXPECT_DOUBLE_EQ(all[0]["images_per_sec"].get<double>(), 105.0);
  EXPECT_EQ(all[2]["kind"], "epoch");
  // A writer killed mid-line, then a resume from step 20 with 2 finished epochs.
  test::write_bytes(path, test::file_bytes(path) + "{\"kind\":\"step\",\"st");
  {
    MetricsLog log(path, 20, 2);
    log.step(state_at(25, 2), 1.0);
  }
  std::vector<nlohmann::json> resumed = records(path);
  ASSERT_EQ(resumed.size(), 7u);  // steps 5, 10, epoch 1, 15, 20, epoch 2, then the new 25
  EXPECT_EQ(resumed[4]["step"], 20);
  EXPECT_EQ(resumed[5]["kind"], "epoch");
  EXPECT_EQ(resumed[5]["epoch"], 2);
  EXPECT_EQ(resumed[6]["step"], 25);
  EXPECT_DOUBLE_EQ(resumed[6]["images_per_sec"].get<double>(), 1.0);
  // A fresh run starts the file over.
  { MetricsLog fresh(path); }
  EXPECT_TRUE(records(path).empty());
  std::filesystem::remove_all(dir);
}

TEST(StopRequest, SignalSetsTheFlagAndNamesTheSignal) {
  clear_stop_request();
  install_stop_signal_handlers();
  EXPECT_FALSE(stop_requested());
  std::raise(SIGTERM);  // caught: the test process goes on
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGTERM);
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
  request_stop(SIGINT);
  EXPECT_EQ(stop_signal(), SIGINT);
  clear_stop_request();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace
}  // namespace convoy
