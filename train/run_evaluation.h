// run_evaluation(): a saved model evaluated on the CIFAR-10 test set, as convoy-eval does it,
// for any program: load the model and the data, evaluate on a device, and describe the result
// as text (accuracy, per-class accuracy, confusion matrix) or JSON.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/evaluate.h"

namespace convoy {

struct EvalRunOptions {
  std::string model_path;        // a model file written by convoy-train (model.convoy)
  std::string data_spec;         // "" = data::default_data_spec()
  std::string device = "cpu";    // cpu | cuda | cuda:N | auto
  int threads = 0;               // 0 = all hardware threads
  EvalOptions eval;              // batch size, progress bar, flip TTA
};

struct EvalRun {
  std::string model_path;
  std::string data_source;
  bool synthetic_data = false;
  std::vector<std::string> class_names;  // the model's, else the data's
  bool flip_tta = false;
  EvalResult result;

  nlohmann::json to_json() const;
  // "test_acc=... test_loss=... images=...", then per-class accuracy and the confusion matrix.
  std::string to_text() const;
};

EvalRun run_evaluation(const EvalRunOptions& options);

}  // namespace convoy
