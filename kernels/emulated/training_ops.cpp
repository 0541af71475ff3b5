// The training loop's remaining kernels on the emulated device: the loss, the multi-tensor
// SGD update, the input augmentation and the 16-bit gradient packing.
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/augment.h"
#include "kernels/emulated/launch.h"
#include "kernels/half.h"
#include "kernels/loss.h"
#include "kernels/sgd.h"

namespace convoy::kernels::cuda {

using emulated::bytes_of;

namespace {

// As the CUDA kernel: labels live on the device, so a label outside [0, K) cannot throw;
// that row's loss and gradient become NaN and the other rows are computed as usual.
void softmax_rows(const SoftmaxXentArgs& a) {
  bool all_valid = true;
  for (int i = 0; i < a.N; ++i) all_valid = all_valid && a.labels[i] >= 0 && a.labels[i] < a.K;
  if (all_valid) return cpu::softmax_cross_entropy(a);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int i = 0; i < a.N; ++i) {
    SoftmaxXentArgs row = a;
    row.N = 1;
    row.logits = a.logits + static_cast<int64_t>(i) * a.K;
    row.labels = a.labels + i;
    row.loss = a.loss + i;
    row.dlogits = a.dlogits ? a.dlogits + static_cast<int64_t>(i) * a.K : nullptr;
    if (a.labels[i] >= 0 && a.labels[i] < a.K) {
      cpu::softmax_cross_entropy(row);
    } else {
      *row.loss = nan;
      if (row.dlogits) std::fill(row.dlogits, row.dlogits + a.K, nan);
    }
  }
}

}  // namespace

void softmax_cross_entropy(const Exec& exec, const SoftmaxXentArgs& a) {
  if (a.N < 0 || a.K <= 0) fail("cuda::softmax_cross_entropy: N=", a.N, " K=", a.K, " (K must be positive)");
  if (a.N == 0) return;
  const int64_t NK = int64_t{a.N} * a.K;
  emulated::run(exec, "softmax_cross_entropy",
                {{"logits", a.logits, bytes_of(NK)},
                 {"labels", a.labels, bytes_of<int32_t>(a.N)},
                 {"loss", a.loss, bytes_of(a.N), true},
                 {"dlogits", a.dlogits, a.dlogits ? bytes_of(NK) : 0, true}},
                [a] { softmax_rows(a); });
}

// The tensor list is host memory read at launch (CUDA passes it as kernel arguments): it is
// copied here, and every pointer in it is checked as a device buffer.
void sgd_update(const Exec& exec, const SgdHyper& h, const SgdTensor* tensors, int count) {
  if (count < 0) fail("cuda::sgd_update: negative tensor count ", count);
  if (count > 0 && !tensors) fail("cuda::sgd_update: null tensor list for ", count, " tensors");
  std::vector<SgdTensor> list(tensors, tensors + count);
  std::vector<emulated::Span> buffers;
  for (int t = 0; t < count; ++t) {
    const SgdTensor& p = list[static_cast<std::size_t>(t)];
    if (p.n < 0) fail("cuda::sgd_update: tensor ", t, " has negative size ", p.n);
    const std::size_t n = bytes_of(p.n);
    const std::string tensor = " of tensor " + std::to_string(t);
    buffers.push_back({"param" + tensor, p.param, n, true});
    buffers.push_back({"grad" + tensor, p.grad, n});
    if (h.momentum != 0.0f || p.momentum_buf) buffers.push_back({"momentum_buf" + tensor, p.momentum_buf, n, true});
  }
  emulated::run(exec, "sgd_update", buffers,
                [h, list] { cpu::sgd_update(h, list.data(), static_cast<int>(list.size())); });
}

void augment_normalize(const Exec& exec, const AugmentArgs& a) {
  if (a.N < 0 || a.C < 1 || a.C > 3 || a.H <= 0 || a.W <= 0)
    fail("cuda::augment_normalize: shape N=", a.N, " C=", a.C, " H=", a.H, " W=", a.W, " (C must be 1..3)");
  if (a.crop_pad < 0 || a.cutout < 0)
    fail("cuda::augment_normalize: crop_pad ", a.crop_pad, " and cutout ", a.cutout, " must not be negative");
  if (a.N == 0) return;
  const int64_t values = int64_t{a.N} * a.C * a.H * a.W;
  emulated::run(exec, "augment_normalize",
                {{"images", a.images, bytes_of<uint8_t>(values)},
                 {"sample_ids", a.sample_ids, bytes_of<uint64_t>(a.N)},
                 {"out", a.out, bytes_of(values), true}},
                [a] { cpu::augment_normalize(a); });
}

void pack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const float* x, uint16_t* y) {
  emulated::check_count(n, "cuda::pack_16");
  emulated::run(exec, "pack_16", {{"x", x, bytes_of(n)}, {"y", y, bytes_of<uint16_t>(n), true}},
                [=] { cpu::pack_16(format, n, scale, x, y); });
}

void unpack_16(const Exec& exec, HalfFormat format, int64_t n, float scale, const uint16_t* x, float* y) {
  emulated::check_count(n, "cuda::unpack_16");
  emulated::run(exec, "unpack_16", {{"x", x, bytes_of<uint16_t>(n)}, {"y", y, bytes_of(n), true}},
                [=] { cpu::unpack_16(format, n, scale, x, y); });
}

}  // namespace convoy::kernels::cuda
