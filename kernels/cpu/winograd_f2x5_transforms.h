// The F(2x2, 5x5) data transforms (kernels/cpu/winograd_f2x5.h), written once and compiled
// per ISA by the files that include this header: everything here has internal linkage, so
// the AVX2 copies never stand in for the baseline ones. Plain loops over lanes, which the
// compiler vectorises; no standard headers (see gemm_internal.h on header hygiene).
#pragma once
#include "kernels/cpu/winograd_f2x5.h"

namespace convoy::kernels::cpu::winograd {
namespace {

// v = B^T d for one column of 6 values (the rows of B^T in winograd_f2x5.h), sharing the
// sums the rows have in common.
inline __attribute__((always_inline)) void bt(float d0, float d1, float d2, float d3, float d4, float d5,
                                              float& v0, float& v1, float& v2, float& v3, float& v4, float& v5) {
  v0 = 4.0f * d0 - 5.0f * d2 + d4;
  const float p = d4 - 4.0f * d2, q = 4.0f * d1 - d3;
  v1 = p - q;
  v2 = p + q;
  const float r = d4 - d2, s = 2.0f * (d3 - d1);
  v3 = r + s;
  v4 = r - s;
  v5 = 4.0f * d1 - 5.0f * d3 + d5;
}

// (y0, y1) = A^T m for one column of 6 values.
inline __attribute__((always_inline)) void at(float m0, float m1, float m2, float m3, float m4, float m5,
                                              float& y0, float& y1) {
  y0 = (m0 + m1) + (m2 + m3) + m4;
  y1 = (m1 - m2) + 2.0f * (m3 - m4) + m5;
}

// z = A y for one column of 2 values (the 6 x 2 matrix A = (A^T)^T).
inline __attribute__((always_inline)) void a6(float y0, float y1, float& z0, float& z1, float& z2, float& z3,
                                              float& z4, float& z5) {
  z0 = y0;
  z1 = y0 + y1;
  z2 = y0 - y1;
  z3 = y0 + 2.0f * y1;
  z4 = y0 - 2.0f * y1;
  z5 = y1;
}

void input_rows(const float* plane, long wp, int rows, int tw, float* h, int h_lanes) {
  for (int r = 0; r < rows; ++r) {
    const float* __restrict row = plane + r * wp;
    float* __restrict out = h + static_cast<long>(r) * kTile * h_lanes;
#pragma omp simd
    for (int j = 0; j < tw; ++j) {
      const float* d = row + 2 * j;
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

void input_cols(const float* h, int tw, int i, float* v, long point_step) {
  const long rs = static_cast<long>(kTile) * tw;  // one padded row of h
  const float* base = h + 2 * i * rs;
  for (int b = 0; b < kTile; ++b) {
    const float* __restrict c = base + b * tw;
    float* __restrict o = v + b * point_step;
#pragma omp simd
    for (int j = 0; j < tw; ++j) {
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

void output_tiles(const float* m, long point_step, int tw, float* out) {
  const float* __restrict p = m;
  float* __restrict o = out;
  const long ps = point_step;
#pragma omp simd
  for (int j = 0; j < tw; ++j) {
    float t0[kTile], t1[kTile];  // m A: its two columns
    for (int a = 0; a < kTile; ++a) {
      const float* row = p + a * kTile * ps + j;
      at(row[0], row[ps], row[2 * ps], row[3 * ps], row[4 * ps], row[5 * ps], t0[a], t1[a]);
    }
    float y00, y10, y01, y11;
    at(t0[0], t0[1], t0[2], t0[3], t0[4], t0[5], y00, y10);
    at(t1[0], t1[1], t1[2], t1[3], t1[4], t1[5], y01, y11);
    o[2 * j] = y00;
    o[2 * j + 1] = y01;
    o[2 * tw + 2 * j] = y10;
    o[2 * tw + 2 * j + 1] = y11;
  }
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

template <int L>
void dy_tile_lanes(const float* dy, long row_step, long col_step, float* z, long point_step) {
  const float* __restrict y = dy;
  float* __restrict o = z;
  const long ps = point_step;
#pragma omp simd
  for (int l = 0; l < L; ++l) {
    float r0[kTile], r1[kTile];  // A applied along each of the two rows
    a6(y[l], y[col_step + l], r0[0], r0[1], r0[2], r0[3], r0[4], r0[5]);
    a6(y[row_step + l], y[row_step + col_step + l], r1[0], r1[1], r1[2], r1[3], r1[4], r1[5]);
    for (int b = 0; b < kTile; ++b)
      a6(r0[b], r1[b], o[b * ps + l], o[(6 + b) * ps + l], o[(12 + b) * ps + l], o[(18 + b) * ps + l],
         o[(24 + b) * ps + l], o[(30 + b) * ps + l]);
  }
}

void input_tile_channels(const float* x, long row_step, long col_step, int lanes, float* v, long point_step) {
  int l0 = 0;
  for (; l0 + 8 <= lanes; l0 += 8) input_tile_lanes<8>(x + l0, row_step, col_step, v + l0, point_step);
  if (l0 < lanes) input_tile_lanes<4>(x + l0, row_step, col_step, v + l0, point_step);
}

void dy_tile_channels(const float* dy, long row_step, long col_step, int lanes, float* z, long point_step) {
  int l0 = 0;
  for (; l0 + 8 <= lanes; l0 += 8) dy_tile_lanes<8>(dy + l0, row_step, col_step, z + l0, point_step);
  if (l0 < lanes) dy_tile_lanes<4>(dy + l0, row_step, col_step, z + l0, point_step);
}

}  // namespace
}  // namespace convoy::kernels::cpu::winograd
