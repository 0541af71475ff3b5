// The convolution shapes of the layer gradient checks, each with the OpenMP thread count it
// runs under and the variant the default CPU dispatch (kernels/cpu/conv2d.cpp) picks for
// each pass. conv_dispatch_test.cpp holds the dispatch to this table; layer_gradient_test.cpp
// checks each case's gradients, so every branch is reached through the public entry points:
//   forward          packed when the batch fills the threads (N >= threads), else im2col
//                    (one image, several images per GEMM, or 1x1 pointwise without im2col);
//   backward data    packed when N >= threads and C >= 16 (more outputs than inputs too): the flipped
//                    forward at stride 1 (3x3 and 5x5 windows, one and several kc blocks),
//                    im2col + col2im at stride 2 (packed falls back); otherwise im2col;
//   backward weights packed when N >= threads (few channels: conv1's 3 included), otherwise
//                    im2col (one partial, or per-thread partials summed in thread order);
//   all three        winograd for 5x5 windows at stride 1 with C, K >= 16 and at least 16
//                    output tiles per image when N >= threads (one and several tile groups
//                    per thread, odd outputs, pads 1 and 2); packed below 16 tiles, and for
//                    3x3 windows (F(4x4, 3x3) is a variant, not a default).
#pragma once

namespace convoy::test {

struct ConvCase {
  const char* name;
  int threads;
  int N, C, H, W, K, kernel, stride, pad;
  bool bias;
  // The variant the dispatch must pick: "im2col", "packed" or "winograd"; "packed=im2col": packed, which
  // falls back to im2col for this shape (the two give the same bits).
  const char* forward;
  const char* backward_data;
  const char* backward_weights;
  unsigned seed;
};

inline const ConvCase kConvCases[] = {
    {"OneImage3x3Pad1", 2, 1, 3, 5, 6, 4, 3, 1, 1, true, "im2col", "im2col", "im2col", 11},
    {"ImagesPerGemm5x5Stride2", 4, 3, 2, 7, 7, 3, 5, 2, 2, false, "im2col", "im2col", "im2col", 12},
    {"Pointwise1x1", 4, 3, 4, 3, 5, 3, 1, 1, 0, true, "im2col", "im2col", "im2col", 13},
    {"FewChannelsThreadPartials", 2, 2, 3, 6, 6, 8, 3, 1, 1, true, "packed", "im2col", "packed", 41},
    {"Packed3x3", 2, 2, 16, 6, 6, 8, 3, 1, 1, true, "packed", "packed", "packed", 42},
    {"Packed5x5", 2, 2, 8, 5, 5, 16, 5, 1, 2, false, "packed", "im2col", "packed", 43},
    {"Winograd5x5", 2, 2, 16, 8, 8, 16, 5, 1, 2, false, "winograd", "winograd", "winograd", 47},
    {"Winograd5x5GroupsOddPad1", 2, 6, 16, 11, 12, 24, 5, 1, 1, true, "winograd", "winograd", "winograd", 48},
    {"Winograd5x5FewImages", 4, 2, 16, 4, 4, 16, 5, 1, 2, true, "im2col", "im2col", "im2col", 49},
    {"Winograd5x5FewTilesPacked", 2, 2, 16, 5, 5, 16, 5, 1, 2, false, "packed", "packed", "packed", 50},
    {"Large3x3Packed", 2, 2, 16, 15, 13, 16, 3, 1, 1, true, "packed", "packed", "packed", 51},
    {"PackedStride2DataIm2col", 2, 2, 16, 7, 7, 8, 3, 2, 1, true, "packed", "packed=im2col", "packed", 44},
    {"MoreOutputsThanInputs", 2, 2, 16, 4, 4, 32, 3, 1, 1, false, "packed", "packed", "packed", 45},
    {"WideInputSeveralKcBlocks", 2, 2, 64, 2, 2, 80, 3, 1, 1, false, "packed", "packed", "packed", 46},
};

}  // namespace convoy::test
