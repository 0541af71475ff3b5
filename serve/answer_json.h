// The JSON shape of an answer, shared by the endpoint (POST /invocations) and convoy-predict,
// so that batch transform and the endpoint read the same. Per image:
//   {"label": "cat", "label_index": 3,
//    "probabilities": [p0, ..., p9],                       // by class index, sum 1
//    "top_k": [{"label": "cat", "index": 3, "probability": 0.81}, ...]}   // most probable first
// Probabilities are written with 7 significant digits.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/predictor.h"

namespace convoy::serve {

nlohmann::json prediction_json(const Prediction& p);
// {"predictions": [per image, ...]}: the application/json answer of the endpoint.
nlohmann::json predictions_json(const std::vector<Prediction>& ps);

}  // namespace convoy::serve
