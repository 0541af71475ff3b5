// Winograd convolution on 6 x 6 input tiles (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016), in two sizes that share those tiles:
//   F(2x2, 5x5): each tile gives 2 x 2 outputs of a 5x5 window, 100/36 = 2.8x fewer multiplies;
//   F(4x4, 3x3): each tile gives 4 x 4 outputs of a 3x3 window, 144/36 = 4x fewer.
// With the Toom-Cook points 0, 1, -1, 2, -2 and infinity, for an m x m output tile:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A          (.) = element-wise, on 36 points xi = (a, b)
// B^T is the same for both sizes (it depends on the points only):
//   B^T = [ 4  0 -5  0  1  0 ]
//         [ 0 -4 -4  1  1  0 ]
//         [ 0  4 -4 -1  1  0 ]
//         [ 0 -2 -1  2  1  0 ]
//         [ 0  2 -1 -2  1  0 ]
//         [ 0  4  0 -5  0  1 ]
// A^T holds the first m of the rows   [ 1 1  1 1  1 0 ]   (the last column is 1 in row m-1
//                                     [ 0 1 -1 2 -2 . ]    only: the point at infinity)
//                                     [ 0 1  1 4  4 . ]
//                                     [ 0 1 -1 8 -8 . ]
// and G (6 x r) holds p^k / prod_{l != j} (p_j - p_l) in row j for the finite points p_j
// (1/4, -1/6, -1/6, 1/24, 1/24 times powers of the point), 1 at (5, r-1).
// The sum over input channels becomes 36 independent GEMMs (one per point). B^T and A^T hold
// small integers, so the data transforms add little rounding; the fractions sit in G, applied
// to the filters once per call in double. The weight gradient is the same algebra transposed:
//   dg = G^T [ sum over tiles of (A dY A^T) (.) (B^T d B) ] G.
//
// The data transforms, compiled once for the baseline ISA and once for AVX2 + FMA
// (winograd_generic.cpp, winograd_avx2.cpp); this header holds plain declarations only (see
// gemm_internal.h on header hygiene). `m` below is the output tile side, 2 or 4.
#pragma once

namespace convoy::kernels::cpu::winograd {

constexpr int kTile = 6;     // input tile side: m outputs + r taps - 1, for (m, r) = (2, 5) and (4, 3)
constexpr int kPoints = 36;  // transform-domain points per tile, xi = a * 6 + b

// Lanes are independent problems laid side by side in memory (tiles along a row, or
// channels), so every transform is a loop over lanes the compiler vectorises.
struct Transforms {
  const char* isa;
  // Tiles along a row as lanes. input_rows: for each row r < rows of a zero-padded plane
  // (rows wp floats apart), h[(r * 6 + b) * h_lanes + j] = (B^T applied along the row to the
  // 6 values at column m * j)[b], for the tw tiles j of the row; h_lanes >= tw leaves room
  // for the tiles of other images beside them (h + tw * image).
  void (*input_rows)(int m, const float* plane, long wp, int rows, int tw, float* h, int h_lanes);
  // input_cols: the column pass over `lanes` lanes for tile row i of input_rows' output
  // (h_lanes = lanes): point xi of lane j goes to v[xi * point_step + j].
  void (*input_cols)(int m, const float* h, int lanes, int i, float* v, long point_step);
  // output_tiles: `lanes` tiles, point xi of tile j at p[xi * point_step + j], to their
  // m x m outputs A^T p A: out[u * m * lanes + m * j + v].
  void (*output_tiles)(int m, const float* p, long point_step, int lanes, float* out);
  // Channels as lanes (a multiple of 4). input_tile_channels: one 6 x 6 tile whose element
  // (a, b) is at x + a * row_step + b * col_step, lanes contiguous; point xi goes to
  // v + xi * point_step.
  void (*input_tile_channels)(const float* x, long row_step, long col_step, int lanes, float* v,
                              long point_step);
  // dy_tile_channels: one m x m output-gradient tile (element (u, v) at dy + u * row_step +
  // v * col_step) to its 36 points A dY A^T at z + xi * point_step.
  void (*dy_tile_channels)(int m, const float* dy, long row_step, long col_step, int lanes, float* z,
                           long point_step);
};

const Transforms& transforms_generic();
const Transforms& transforms_avx2();  // may only be called when the CPU has AVX2 and FMA
const Transforms& transforms_best();  // AVX2 unless cpu_isa() is generic

}  // namespace convoy::kernels::cpu::winograd
