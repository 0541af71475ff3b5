// The Winograd data transforms compiled for AVX2 + FMA (winograd_transforms.h):
// eight lanes per vector instead of four.
#include "kernels/cpu/winograd_transforms.h"

namespace convoy::kernels::cpu::winograd {

const Transforms& transforms_avx2() {
  static const Transforms t{"avx2", input_rows, input_cols, output_tiles, input_tile_channels, dy_tile_channels};
  return t;
}

}  // namespace convoy::kernels::cpu::winograd
