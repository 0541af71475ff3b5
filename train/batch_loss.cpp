#include "train/batch_loss.h"

#include <algorithm>

#include "kernels/loss.h"

namespace convoy {

BatchScore BatchLoss::compute(Context& ctx, const Tensor& logits, const Tensor& labels_dev,
                              const std::vector<int32_t>& labels, float smoothing, Tensor* dlogits) {
  const int N = static_cast<int>(logits.dim(0)), K = static_cast<int>(logits.dim(1));
  ensure_shape(loss_, {N}, ctx.device);
  kernels::SoftmaxXentArgs a;
  a.N = N;
  a.K = K;
  a.logits = logits.data();
  a.labels = labels_dev.data_as<int32_t>();
  a.smoothing = smoothing;
  a.grad_scale = 1.0f / static_cast<float>(N);
  a.loss = loss_.data();
  if (dlogits) {
    ensure_shape(*dlogits, logits.shape(), ctx.device);
    a.dlogits = dlogits->data();
  }
  kernels::softmax_cross_entropy(ctx.exec, a);

  BatchScore s;
  std::vector<float> losses = loss_.to_vector(), out = logits.to_vector();
  s.predictions.resize(N);
  for (int i = 0; i < N; ++i) {
    s.loss_sum += losses[i];
    const float* row = out.data() + static_cast<int64_t>(i) * K;
    s.predictions[i] = static_cast<int>(std::max_element(row, row + K) - row);
    s.correct += s.predictions[i] == labels[i];
  }
  return s;
}

}  // namespace convoy
