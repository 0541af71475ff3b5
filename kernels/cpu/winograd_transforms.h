// The Winograd data transforms (kernels/cpu/winograd.h), written once and compiled per ISA by
// the files that include this header: everything here has internal linkage, so the AVX2
// copies never stand in for the baseline ones. Plain loops over lanes, which the compiler
// vectorises; the output tile side M is a template parameter, chosen once per call. No
// standard headers (see gemm_internal.h on header hygiene).
#pragma once
#include "kernels/cpu/winograd.h"

namespace convoy::kernels::cpu::winograd {
namespace {

#define CONVOY_INLINE inline __attribute__((always_inline))

// v = B^T d for one column of 6 values (B^T in winograd.h), sharing the sums the rows have
// in common.
CONVOY_INLINE void bt(float d0, float d1, float d2, float d3, float d4, float d5, float& v0, float& v1, float& v2,
                      float& v3, float& v4, float& v5) {
  v0 = 4.0f * d0 - 5.0f * d2 + d4;
  const float p = d4 - 4.0f * d2, q = 4.0f * d1 - d3;
  v1 = p - q;
  v2 = p + q;
  const float r = d4 - d2, s = 2.0f * (d3 - d1);
  v3 = r + s;
  v4 = r - s;
  v5 = 4.0f * d1 - 5.0f * d3 + d5;
}

// y = A^T p for one column of 6 values: the first M rows of A^T.
template <int M>
CONVOY_INLINE void at(const float* p, float* y) {
  const float s12 = p[1] + p[2], d12 = p[1] - p[2], s34 = p[3] + p[4], d34 = p[3] - p[4];
  if constexpr (M == 2) {
    y[0] = (p[0] + p[1]) + (p[2] + p[3]) + p[4];
    y[1] = d12 + 2.0f * d34 + p[5];
  } else {
    y[0] = (p[0] + s12) + s34;
    y[1] = d12 + 2.0f * d34;
    y[2] = s12 + 4.0f * s34;
    y[3] = d12 + 8.0f * d34 + p[5];
  }
}

// z = A y for one column of M values (the 6 x M matrix A = (A^T)^T).
template <int M>
CONVOY_INLINE void a6(const float* y, float* z) {
  if constexpr (M == 2) {
    z[0] = y[0];
    z[1] = y[0] + y[1];
    z[2] = y[0] - y[1];
    z[3] = y[0] + 2.0f * y[1];
    z[4] = y[0] - 2.0f * y[1];
    z[5] = y[1];
  } else {
    const float e = y[0] + y[2], o = y[1] + y[3], e4 = y[0] + 4.0f * y[2], o8 = 2.0f * y[1] + 8.0f * y[3];
    z[0] = y[0];
    z[1] = e + o;
    z[2] = e - o;
    z[3] = e4 + o8;
    z[4] = e4 - o8;
    z[5] = y[3];
  }
}

template <int M>
void input_rows_m(const float* plane, long wp, int rows, int tw, float* h, int h_lanes) {
  for (int r = 0; r < rows; ++r) {
    const float* __restrict row = plane + r * wp;
    float* __restrict out = h + static_cast<long>(r) * kTile * h_lanes;
#pragma omp simd
    for (int j = 0; j < tw; ++j) {
      const float* d = row + M * j;
      float v0, v1, v2, v3, v4, v5;
      bt(d[0], d[1], d[2], d[3], d[4], d[5], v0, v1, v2, v3, v4, v5);
      out[j] = v0;
      out[h_lanes + j] = v1;
      out[2 * h_lanes + j] = v2;
      out[3 * h_lanes + j] = v3;
      out[4 * h_lanes + j] = v4;
      out[5 * h_lanes + j] = v5;
    }
  }
}

void input_rows(int m, const float* plane, long wp, int rows, int tw, float* h, int h_lanes) {
  if (m == 2) return input_rows_m<2>(plane, wp, rows, tw, h, h_lanes);
  input_rows_m<4>(plane, wp, rows, tw, h, h_lanes);
}

void input_cols(int m, const float* h, int lanes, int i, float* v, long point_step) {
  const long rs = static_cast<long>(kTile) * lanes;  // one padded row of h
  const float* base = h + m * i * rs;
  for (int b = 0; b < kTile; ++b) {
    const float* __restrict c = base + b * lanes;
    float* __restrict o = v + b * point_step;
#pragma omp simd
    for (int j = 0; j < lanes; ++j) {
      float v0, v1, v2, v3, v4, v5;
      bt(c[j], c[rs + j], c[2 * rs + j], c[3 * rs + j], c[4 * rs + j], c[5 * rs + j], v0, v1, v2, v3, v4, v5);
      o[j] = v0;
      o[6 * point_step + j] = v1;
      o[12 * point_step + j] = v2;
      o[18 * point_step + j] = v3;
      o[24 * point_step + j] = v4;
      o[30 * point_step + j] = v5;
    }
  }
}

template <int M>
void output_tiles_m(const float* p, long point_step, int lanes, float* out) {
  const float* __restrict src = p;
  float* __restrict o = out;
  const long ps = point_step;
#pragma omp simd
  for (int j = 0; j < lanes; ++j) {
    float t[M][kTile];  // p A, by columns: t[v][a]
    for (int a = 0; a < kTile; ++a) {
      const float* row = src + a * kTile * ps + j;
      const float col[kTile] = {row[0], row[ps], row[2 * ps], row[3 * ps], row[4 * ps], row[5 * ps]};
      float y[M];
      at<M>(col, y);
      for (int v = 0; v < M; ++v) t[v][a] = y[v];
    }
    for (int v = 0; v < M; ++v) {
      float y[M];
      at<M>(t[v], y);
      for (int u = 0; u < M; ++u) o[u * M * lanes + M * j + v] = y[u];
    }
  }
}

void output_tiles(int m, const float* p, long point_step, int lanes, float* out) {
  if (m == 2) return output_tiles_m<2>(p, point_step, lanes, out);
  output_tiles_m<4>(p, point_step, lanes, out);
}

// Channel-lane transforms: L lanes per pass, 8 and then a last 4 if the count asks for it.
template <int L>
void input_tile_lanes(const float* x, long row_step, long col_step, float* v, long point_step) {
  float tmp[kPoints * L];  // B^T applied along each row: tmp[(a * 6 + b) * L + l]
  for (int a = 0; a < kTile; ++a) {
    const float* __restrict row = x + a * row_step;
    float* __restrict t = tmp + a * kTile * L;
#pragma omp simd
    for (int l = 0; l < L; ++l)
      bt(row[l], row[col_step + l], row[2 * col_step + l], row[3 * col_step + l], row[4 * col_step + l],
         row[5 * col_step + l], t[l], t[L + l], t[2 * L + l], t[3 * L + l], t[4 * L + l], t[5 * L + l]);
  }
  for (int b = 0; b < kTile; ++b) {
    const float* __restrict t = tmp + b * L;
    float* __restrict o = v + b * point_step;
    constexpr int rs = kTile * L;
#pragma omp simd
    for (int l = 0; l < L; ++l)
      bt(t[l], t[rs + l], t[2 * rs + l], t[3 * rs + l], t[4 * rs + l], t[5 * rs + l], o[l], o[6 * point_step + l],
         o[12 * point_step + l], o[18 * point_step + l], o[24 * point_step + l], o[30 * point_step + l]);
  }
}

template <int M, int L>
void dy_tile_lanes(const float* dy, long row_step, long col_step, float* z, long point_step) {
  const float* __restrict y = dy;
  float* __restrict o = z;
  const long ps = point_step;
#pragma omp simd
  for (int l = 0; l < L; ++l) {
    float r[M][kTile];  // A applied along each of the M rows
    for (int u = 0; u < M; ++u) {
      float row[M];
      for (int v = 0; v < M; ++v) row[v] = y[u * row_step + v * col_step + l];
      a6<M>(row, r[u]);
    }
    for (int b = 0; b < kTile; ++b) {
      float col[M], zc[kTile];
      for (int u = 0; u < M; ++u) col[u] = r[u][b];
      a6<M>(col, zc);
      for (int a = 0; a < kTile; ++a) o[(a * kTile + b) * ps + l] = zc[a];
    }
  }
}

void input_tile_channels(const float* x, long row_step, long col_step, int lanes, float* v, long point_step) {
  int l0 = 0;
  for (; l0 + 8 <= lanes; l0 += 8) input_tile_lanes<8>(x + l0, row_step, col_step, v + l0, point_step);
  if (l0 < lanes) input_tile_lanes<4>(x + l0, row_step, col_step, v + l0, point_step);
}

template <int M>
void dy_tile_channels_m(const float* dy, long row_step, long col_step, int lanes, float* z, long point_step) {
  int l0 = 0;
  for (; l0 + 8 <= lanes; l0 += 8) dy_tile_lanes<M, 8>(dy + l0, row_step, col_step, z + l0, point_step);
  if (l0 < lanes) dy_tile_lanes<M, 4>(dy + l0, row_step, col_step, z + l0, point_step);
}

void dy_tile_channels(int m, const float* dy, long row_step, long col_step, int lanes, float* z, long point_step) {
  if (m == 2) return dy_tile_channels_m<2>(dy, row_step, col_step, lanes, z, point_step);
  dy_tile_channels_m<4>(dy, row_step, col_step, lanes, z, point_step);
}

#undef CONVOY_INLINE

}  // namespace
}  // namespace convoy::kernels::cpu::winograd
