// Winograd F(2x2, 5x5): a 5x5, stride-1 convolution computed on 6x6 input tiles that each
// give a 2x2 block of outputs (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016). With the Toom-Cook points 0, 1, -1, 2, -2 and infinity:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A          (.) = element-wise, on 36 points xi = (a, b)
//   B^T = [ 4  0 -5  0  1  0 ]   G = [ 1/4     0     0     0    0 ]   A^T = [ 1 1  1 1  1 0 ]
//         [ 0 -4 -4  1  1  0 ]       [-1/6  -1/6  -1/6  -1/6 -1/6 ]         [ 0 1 -1 2 -2 1 ]
//         [ 0  4 -4 -1  1  0 ]       [-1/6   1/6  -1/6   1/6 -1/6 ]
//         [ 0 -2 -1  2  1  0 ]       [1/24  1/12   1/6   1/3  2/3 ]
//         [ 0  2 -1 -2  1  0 ]       [1/24 -1/12   1/6  -1/3  2/3 ]
//         [ 0  4  0 -5  0  1 ]       [ 0     0     0     0    1   ]
// The sum over input channels becomes 36 independent GEMMs (one per point), with 100/36 =
// 2.8x fewer multiply-adds than the direct convolution. B^T and A^T hold small integers, so
// the data transforms add little rounding; the fractions sit in G, applied to the filters
// once per call in double. The weight gradient is the same algebra transposed:
//   dg = G^T [ sum over tiles of (A dY A^T) (.) (B^T d B) ] G.
//
// The data transforms, compiled once for the baseline ISA and once for AVX2 + FMA
// (winograd_f2x5_generic.cpp, winograd_f2x5_avx2.cpp); this header holds plain
// declarations only (see gemm_internal.h on header hygiene).
#pragma once

namespace convoy::kernels::cpu::winograd {

constexpr int kTile = 6;     // input tile side: 2 outputs + 5 taps - 1
constexpr int kPoints = 36;  // transform-domain points per tile, xi = a * 6 + b

// Lanes are independent problems laid side by side in memory (tiles along a row, or
// channels), so every transform is a loop over lanes the compiler vectorises.
struct Transforms {
  const char* isa;
  // Tiles along a row as lanes. input_rows: for each row r < rows of a zero-padded plane
  // (rows wp floats apart), h[(r * 6 + b) * h_lanes + j] = (B^T applied along the row to the
  // 6 values at column 2j)[b], for the tw tiles j of the row; h_lanes >= tw leaves room for
  // the tiles of other images beside them (h + tw * image).
  void (*input_rows)(const float* plane, long wp, int rows, int tw, float* h, int h_lanes);
  // input_cols: the column pass over `lanes` lanes for tile row i of input_rows' output
  // (h_lanes = lanes): point xi of lane j goes to v[xi * point_step + j].
  void (*input_cols)(const float* h, int lanes, int i, float* v, long point_step);
  // output_tiles: `lanes` tiles, point xi of tile j at m[xi * point_step + j], to their
  // 2 x 2 outputs A^T m A: out[u * 2 * lanes + 2 * j + v].
  void (*output_tiles)(const float* m, long point_step, int lanes, float* out);
  // Channels as lanes (a multiple of 4). input_tile_channels: one 6 x 6 tile whose element
  // (a, b) is at x + a * row_step + b * col_step, lanes contiguous; point xi goes to
  // v + xi * point_step.
  void (*input_tile_channels)(const float* x, long row_step, long col_step, int lanes, float* v,
                              long point_step);
  // dy_tile_channels: one 2 x 2 output-gradient tile (element (u, v) at dy + u * row_step +
  // v * col_step) to its 36 points A dY A^T at z + xi * point_step.
  void (*dy_tile_channels)(const float* dy, long row_step, long col_step, int lanes, float* z,
                           long point_step);
};

const Transforms& transforms_generic();
const Transforms& transforms_avx2();  // may only be called when the CPU has AVX2 and FMA
const Transforms& transforms_best();  // AVX2 unless cpu_isa() is generic

}  // namespace convoy::kernels::cpu::winograd
