// The Winograd data transforms for the baseline ISA (winograd_transforms.h).
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/winograd_transforms.h"

namespace convoy::kernels::cpu::winograd {

const Transforms& transforms_generic() {
  static const Transforms t{"generic", input_rows, input_cols, output_tiles, input_tile_channels, dy_tile_channels};
  return t;
}

const Transforms& transforms_best() {
  static const Transforms& t = cpu_isa() == CpuIsa::generic ? transforms_generic() : transforms_avx2();
  return t;
}

}  // namespace convoy::kernels::cpu::winograd
