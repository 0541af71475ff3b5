// The loss of one batch of logits against its labels (softmax cross-entropy with label
// smoothing), and the host-side score of it: loss sum, correct count, predicted classes.
// Shared by the training loop (with the gradient) and evaluation (without).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/context.h"
#include "engine/tensor.h"

namespace convoy {

struct BatchScore {
  double loss_sum = 0;
  int64_t correct = 0;
  std::vector<int> predictions;  // argmax class of each row
};

class BatchLoss {
 public:
  // logits (N, K) and labels_dev (N, int32) on ctx.device; labels the same
  // labels on the host. dlogits != nullptr: also writes the gradient of the mean loss.
  BatchScore compute(Context& ctx, const Tensor& logits, const Tensor& labels_dev,
                     const std::vector<int32_t>& labels, float smoothing, Tensor* dlogits);

 private:
  Tensor loss_;  // (N) per-sample losses
};

}  // namespace convoy
