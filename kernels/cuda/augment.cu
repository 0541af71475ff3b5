// CUDA input stage (contract and pixel conventions in kernels/augment.h and
// kernels/cpu/augment.cpp): uint8 (N, C, H, W) already on the device to normalised float,
// with crop, flip and cutout fused in one pass.
// One block per image: every thread draws the sample's Philox numbers itself (10 rounds,
// amortised over the C*H*W/256 ~ 12 pixels it writes; cheaper than a shared-memory
// broadcast and its barrier), then walks the image with consecutive threads on
// consecutive output pixels (coalesced float stores). Bound by the 4-byte stores.
// Arithmetic is float(pixel) * inv_std + (-mean * inv_std) with separately rounded
// multiply and add (__fmul_rn/__fadd_rn, no FMA contraction), as the CPU computes it, so
// both produce the same bits.
#include <cuda_runtime.h>

#include "kernels/augment.h"
#include "kernels/cuda/ops_launch.cuh"

namespace convoy::kernels::cuda {

namespace {

__global__ void augment_normalize_kernel(const AugmentArgs a) {
  const int i = blockIdx.x;
  const AugmentDraw d = augment_draw(a, a.sample_ids[i]);
  const int plane = a.H * a.W, count = a.C * plane;
  const int cut_y0 = d.cut_y - a.cutout / 2, cut_x0 = d.cut_x - a.cutout / 2;
  const uint8_t* src = a.images + static_cast<int64_t>(i) * count;
  float* dst = a.out + static_cast<int64_t>(i) * count;
  for (int k = threadIdx.x; k < count; k += blockDim.x) {
    const int c = k / plane, yx = k - c * plane;
    const int y = yx / a.W, x = yx - y * a.W;
    const float scale = a.inv_std[c], bias = -a.mean[c] * a.inv_std[c];
    const int sy = y + d.dy, sx = (d.flip ? a.W - 1 - x : x) + d.dx;
    float v = bias;
    if (sy >= 0 && sy < a.H && sx >= 0 && sx < a.W)
      v = __fadd_rn(__fmul_rn(static_cast<float>(src[c * plane + sy * a.W + sx]), scale), bias);
    if (a.cutout > 0 && y >= cut_y0 && y < cut_y0 + a.cutout && x >= cut_x0 && x < cut_x0 + a.cutout) v = 0.0f;
    dst[k] = v;
  }
}

}  // namespace

void augment_normalize(const Exec& exec, const AugmentArgs& a) {
  const char* op = "cuda::augment_normalize";
  if (a.N < 0 || a.C <= 0 || a.C > 3 || a.H <= 0 || a.W <= 0)
    fail(op, ": shape N=", a.N, " C=", a.C, " H=", a.H, " W=", a.W, " (C must be 1..3)");
  if (a.augment && (a.crop_pad < 0 || a.cutout < 0))
    fail(op, ": crop_pad ", a.crop_pad, " and cutout ", a.cutout, " must not be negative");
  if (int64_t{a.C} * a.H * a.W > (int64_t{1} << 30)) fail(op, ": image of ", a.C, "x", a.H, "x", a.W, " is too large");
  if (a.N == 0) return;
  if (!a.images || !a.sample_ids || !a.out) fail(op, ": null images, sample_ids or out");
  DeviceGuard guard(exec.device);
  augment_normalize_kernel<<<static_cast<unsigned>(a.N), ops::kBlock, 0, stream_of(exec)>>>(a);
  CONVOY_CUDA_CHECK_LAUNCH("augment_normalize_kernel");
}

}  // namespace convoy::kernels::cuda
