#include "serve/answer_json.h"

#include <cstdio>
#include <cstdlib>

namespace convoy::serve {

namespace {

// 7 significant digits: what a float holds, without the binary tail of its double image.
double seven_digits(float v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.7g", static_cast<double>(v));
  return std::strtod(text, nullptr);
}

}  // namespace

nlohmann::json prediction_json(const Prediction& p) {
  nlohmann::json probs = nlohmann::json::array();
  for (float v : p.probabilities) probs.push_back(seven_digits(v));
  nlohmann::json top = nlohmann::json::array();
  for (const auto& c : p.top) top.push_back({{"label", c.name}, {"index", c.index}, {"probability", seven_digits(c.probability)}});
  nlohmann::json j = nlohmann::json::object();
  if (!p.top.empty()) {
    j["label"] = p.top.front().name;
    j["label_index"] = p.top.front().index;
  }
  j["probabilities"] = std::move(probs);
  j["top_k"] = std::move(top);
  return j;
}

nlohmann::json predictions_json(const std::vector<Prediction>& ps) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& p : ps) all.push_back(prediction_json(p));
  return {{"predictions", std::move(all)}};
}

}  // namespace convoy::serve
