// Learning-rate schedules at points worked out by hand, and the JSON round trip and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/lr_schedule.h"

namespace convoy {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(LrSchedule, Constant) {
  LrSchedule s;
  s.lr = 0.05;
  EXPECT_DOUBLE_EQ(lr_at(s, 0, 100, 10), 0.05);
  EXPECT_DOUBLE_EQ(lr_at(s, 99, 100, 10), 0.05);
}

TEST(LrSchedule, StepEveryStepSizeEpochs) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::step;
  s.lr = 0.1;
  s.step_size = 3;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(lr_at(s, 29, 100, 10), 0.1);    // epoch 2
  EXPECT_DOUBLE_EQ(lr_at(s, 30, 100, 10), 0.05);   // epoch 3
  EXPECT_DOUBLE_EQ(lr_at(s, 65, 100, 10), 0.025);  // epoch 6
}

TEST(LrSchedule, StepAtMilestones) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::step;
  s.lr = 1.0;
  s.milestones = {2, 5};
  s.gamma = 0.1;
  EXPECT_DOUBLE_EQ(lr_at(s, 19, 100, 10), 1.0);
  EXPECT_NEAR(lr_at(s, 20, 100, 10), 0.1, 1e-15);
  EXPECT_NEAR(lr_at(s, 49, 100, 10), 0.1, 1e-15);
  EXPECT_NEAR(lr_at(s, 50, 100, 10), 0.01, 1e-15);
}

TEST(LrSchedule, CosineToFloor) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::cosine;
  s.lr = 0.2;
  s.min_lr = 0.02;
  EXPECT_DOUBLE_EQ(lr_at(s, 0, 100, 10), 0.2);
  EXPECT_NEAR(lr_at(s, 50, 100, 10), 0.11, 1e-12);  // halfway: the mean of lr and the floor
  EXPECT_NEAR(lr_at(s, 25, 100, 10), 0.02 + 0.18 * 0.5 * (1 + std::cos(kPi / 4)), 1e-12);
  EXPECT_GT(lr_at(s, 99, 100, 10), 0.02);
  EXPECT_LT(lr_at(s, 99, 100, 10), 0.0201);
}

TEST(LrSchedule, WarmupThenCosine) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::cosine;
  s.lr = 0.4;
  s.warmup_epochs = 2;  // 20 steps
  EXPECT_NEAR(lr_at(s, 0, 120, 10), 0.02, 1e-12);
  EXPECT_NEAR(lr_at(s, 9, 120, 10), 0.2, 1e-12);
  EXPECT_NEAR(lr_at(s, 19, 120, 10), 0.4, 1e-12);
  EXPECT_NEAR(lr_at(s, 20, 120, 10), 0.4, 1e-12);  // cosine starts after the warm-up
  EXPECT_NEAR(lr_at(s, 70, 120, 10), 0.2, 1e-12);  // half of the remaining 100 steps
}

TEST(LrSchedule, WarmupThenStep) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::step;
  s.lr = 0.1;
  s.warmup_epochs = 0.5;  // 5 steps
  s.milestones = {3};
  EXPECT_NEAR(lr_at(s, 1, 100, 10), 0.04, 1e-12);
  EXPECT_NEAR(lr_at(s, 5, 100, 10), 0.1, 1e-12);
  EXPECT_NEAR(lr_at(s, 30, 100, 10), 0.01, 1e-12);
}

TEST(LrSchedule, OneCycle) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::one_cycle;
  s.lr = 1.0;
  s.pct_start = 0.25;
  s.div_factor = 10;
  s.final_div_factor = 100;
  const int64_t total = 101;  // up over 25.25 steps, down over 74.75
  EXPECT_NEAR(lr_at(s, 0, total, 10), 0.1, 1e-12);
  EXPECT_NEAR(lr_at(s, 10, total, 10), 0.1 + 0.9 * 10 / 25.25, 1e-12);
  EXPECT_NEAR(lr_at(s, 100, total, 10), 0.001, 1e-12);
  double peak = 0;
  for (int64_t i = 0; i < total; ++i) peak = std::max(peak, lr_at(s, i, total, 10));
  EXPECT_GT(peak, 0.99);
  const double mid = (25.25 + 100) / 2;  // halfway down at step 62.625: cosine gives the mean
  s.cosine_anneal = false;
  EXPECT_NEAR(lr_at(s, 62, total, 10), 0.001 + 0.999 * (1 - (62 - 25.25) / 74.75), 1e-12);
  s.cosine_anneal = true;
  EXPECT_NEAR(lr_at(s, 62, total, 10), 0.001 + 0.999 * 0.5 * (1 + std::cos(kPi * (62 - 25.25) / 74.75)), 1e-12);
  EXPECT_LT(std::fabs(lr_at(s, 62, total, 10) - 0.5005), 0.02) << mid;
}

TEST(LrSchedule, JsonRoundTripAndErrors) {
  const auto j = nlohmann::json::parse(R"({"kind": "one_cycle", "lr": 0.8, "pct_start": 0.2, "anneal": "linear"})");
  LrSchedule s = j.get<LrSchedule>();
  EXPECT_EQ(s.kind, LrSchedule::Kind::one_cycle);
  EXPECT_DOUBLE_EQ(s.lr, 0.8);
  EXPECT_FALSE(s.cosine_anneal);
  LrSchedule back = nlohmann::json(s).get<LrSchedule>();
  EXPECT_EQ(back.kind, s.kind);
  EXPECT_DOUBLE_EQ(back.pct_start, 0.2);
  EXPECT_DOUBLE_EQ(lr_at(back, 7, 50, 5), lr_at(s, 7, 50, 5));

  LrSchedule st;
  st.kind = LrSchedule::Kind::step;
  st.milestones = {3, 8};
  EXPECT_EQ(nlohmann::json(st).get<LrSchedule>().milestones, st.milestones);

  EXPECT_THROW(nlohmann::json::parse(R"({"kind": "cosin"})").get<LrSchedule>(), Error);
  EXPECT_THROW(nlohmann::json::parse(R"({"kind": "cosine", "lr_min": 0})").get<LrSchedule>(), Error);
  EXPECT_THROW(nlohmann::json::parse(R"({"kind": "step"})").get<LrSchedule>(), Error);
  EXPECT_THROW(nlohmann::json::parse(R"({"lr": "fast"})").get<LrSchedule>(), Error);
  EXPECT_THROW(lr_at(LrSchedule{}, 0, 10, 0), Error);
}

}  // namespace
}  // namespace convoy
