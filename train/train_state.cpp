#include "train/train_state.h"

#include <cstdio>

#include "engine/error.h"

namespace convoy {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

template <typename T>
T field(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.is_object() || !j.contains(name)) fail(where, ": training state has no field '", name, "'");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": training state field '", name, "' has the wrong type: ", e.what());
  }
}

}  // namespace

nlohmann::json EpochMetrics::to_json() const {
  nlohmann::json j = {{"epoch", epoch},     {"train_loss", train_loss}, {"train_acc", train_acc},
                      {"images_per_sec", images_per_sec}, {"epoch_s", epoch_s}, {"elapsed_s", elapsed_s},
                      {"lr", lr}};
  if (evaluated) {
    j["test_loss"] = test_loss;
    j["test_acc"] = test_acc;
  }
  return j;
}

EpochMetrics EpochMetrics::from_json(const nlohmann::json& j) {
  const std::string where = "epoch metrics";
  EpochMetrics m;
  m.epoch = field<int>(j, "epoch", where);
  m.train_loss = field<double>(j, "train_loss", where);
  m.train_acc = field<double>(j, "train_acc", where);
  // An epoch after which the test set was skipped has neither test field; one has both or none.
  m.evaluated = j.is_object() && (j.contains("test_loss") || j.contains("test_acc"));
  if (m.evaluated) {
    m.test_loss = field<double>(j, "test_loss", where);
    m.test_acc = field<double>(j, "test_acc", where);
  }
  m.images_per_sec = field<double>(j, "images_per_sec", where);
  m.epoch_s = field<double>(j, "epoch_s", where);
  m.elapsed_s = field<double>(j, "elapsed_s", where);
  m.lr = field<double>(j, "lr", where);
  return m;
}

std::string EpochMetrics::to_line() const {
  const std::string test =
      evaluated ? " test_loss=" + fixed(test_loss, 4) + " test_acc=" + fixed(test_acc, 4) : std::string();
  return "epoch=" + std::to_string(epoch) + " train_loss=" + fixed(train_loss, 4) + " train_acc=" +
         fixed(train_acc, 4) + test + " images_per_sec=" + fixed(images_per_sec, 1) + " elapsed_s=" +
         fixed(elapsed_s, 1);
}

nlohmann::json TrainState::to_json() const {
  nlohmann::json h = nlohmann::json::array();
  for (const EpochMetrics& m : history) h.push_back(m.to_json());
  return {{"epoch", epoch},     {"batch", batch},
          {"step", step},       {"loss_sum", loss_sum},
          {"correct", correct}, {"seen", seen},
          {"epoch_train_s", epoch_train_s}, {"elapsed_s", elapsed_s},
          {"lr", lr},           {"history", h}};
}

TrainState TrainState::from_json(const nlohmann::json& j, const std::string& where) {
  TrainState s;
  s.epoch = field<int>(j, "epoch", where);
  s.batch = field<int64_t>(j, "batch", where);
  s.step = field<int64_t>(j, "step", where);
  s.loss_sum = field<double>(j, "loss_sum", where);
  s.correct = field<int64_t>(j, "correct", where);
  s.seen = field<int64_t>(j, "seen", where);
  s.epoch_train_s = field<double>(j, "epoch_train_s", where);
  s.elapsed_s = field<double>(j, "elapsed_s", where);
  s.lr = field<double>(j, "lr", where);
  const auto history = field<nlohmann::json>(j, "history", where);
  if (!history.is_array()) fail(where, ": training state field 'history' must be an array");
  for (const auto& m : history) {
    try {
      s.history.push_back(EpochMetrics::from_json(m));
    } catch (const Error& e) {
      fail(where, ": history entry ", s.history.size() + 1, ": ", e.what());
    }
  }
  if (s.epoch < 0 || s.batch < 0 || s.step < 0 || s.seen < 0 || s.history.size() != static_cast<size_t>(s.epoch))
    fail(where, ": inconsistent training state (epoch ", s.epoch, ", batch ", s.batch, ", step ", s.step, ", ",
         s.history.size(), " finished epochs)");
  return s;
}

}  // namespace convoy
