// Adjacent layers that Sequential runs as one op in training, when Context::fuse_layers is
// on (the default; tests turn it off to hold the fused op to the layers it replaces):
//   batchnorm with a fused ReLU (local statistics) -> maxpool: kernels/bn_relu_maxpool.h,
//   which never stores the normalised activations.
// Each layer keeps its own parameters, buffers, names and Saved slot, so model files,
// checkpoints and the gradient hooks see the same layers either way.
#pragma once
#include "layers/layer.h"

namespace convoy {

// Whether `first` then `second` run fused in a training forward of input shape `in`.
bool fuses_with_next(const Context& ctx, Layer& first, Layer& second, const Shape& in);
// The pair's training forward: x -> y (second's output); fills both Saved slots and marks
// first_saved.fused_with_next.
void fused_forward(Context& ctx, Layer& first, Layer& second, const Tensor& x, Tensor& y, Saved& first_saved,
                   Saved& second_saved);
// The pair's backward from dy (second's output gradient); assigns *dx (nullptr: skip).
void fused_backward(Context& ctx, Layer& first, Layer& second, const Tensor& dy, const Saved& first_saved,
                    const Saved& second_saved, Tensor* dx);

}  // namespace convoy
