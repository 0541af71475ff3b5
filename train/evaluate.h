// Evaluation of a model over a data set: loss, accuracy, per-class accuracy and the
// confusion matrix (rows: true class, columns: predicted).
#pragma once
#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "layers/model.h"

namespace convoy {

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t count = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  std::vector<double> per_class_accuracy;
};

struct EvalOptions {
  int batch_size = 500;
  bool progress = false;    // progress bar on a terminal
  bool host_input = false;  // on a GPU too, normalise on the host
  // Test-time augmentation: each image and its mirror image, their logits averaged (the
  // DAWNBench/airbench evaluation). Twice the forward passes.
  bool flip_tta = false;
};

EvalResult evaluate(Model& model, Context& ctx, const data::Dataset& dataset, const EvalOptions& options = {});

// Class probabilities (softmax) for a batch of normalised images already in `x`.
std::vector<std::vector<float>> predict_probabilities(Model& model, Context& ctx, const Tensor& x);

}  // namespace convoy
