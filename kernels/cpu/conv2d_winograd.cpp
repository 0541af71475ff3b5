// CPU 2-D convolution, variant "winograd": at stride 1, 5x5 windows by Winograd F(2x2, 5x5)
// and 3x3 windows by F(4x4, 3x3) (kernels/cpu/winograd.h), 2.8x and 4x fewer multiply-adds
// than the packed direct GEMM. Both work on 6 x 6 input tiles, m x m outputs each (m = 2, 4).
//
// Forward, per group of images (about kTargetTiles tiles, so that the group's transformed
// input and products stay in L2):
//   1. each channel's zero-padded plane goes through the input transform with tiles as
//      lanes, giving V[xi][c][tile];
//   2. 36 GEMMs M[xi] (K x tiles) = U[xi] (K x C) * V[xi] (C x tiles), the sgemm micro-kernel
//      reading V in place (a row per channel) and U from panels packed once per call;
//   3. the output transform turns each tile's 36 points into its m x m outputs, plus bias.
// Backward data at stride 1 is the forward of dy with the flipped, channel-transposed
// filters (as in the packed variant). Backward weights, per group of images:
//   1. the images and dy go channels-last, and each tile's input points V[xi][tile][c] and
//      output-gradient points Z[xi][tile][k] are formed with channels as lanes, so that the
//      tiles - the sum's dimension - come first, as the micro-kernel wants its k;
//   2. 36 GEMMs accumulate dU[xi] (K x C) += Z[xi]^T V[xi] into this thread's partial;
//   3. the partials are summed in thread order and taken back through G^T dU G (double).
// Each output is summed in a fixed order, so results depend only on the thread count.
// Other shapes go to the packed variant.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "kernels/conv2d_flip.h"
#include "kernels/cpu/conv2d_check.h"
#include "kernels/cpu/conv2d_parallel.h"
#include "kernels/cpu/conv2d_variants.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/winograd.h"

namespace convoy::kernels::cpu {

namespace {

using conv::for_image_ranges;
using conv::scratch;
using gemm::MicroKernel;
using winograd::kPoints;
using winograd::kTile;

constexpr int kTargetTiles = 64;  // tiles per group: V and M of 32 channels take ~300 KiB each

inline int round_up(int v, int m) { return (v + m - 1) / m * m; }

// The distance between two points' slices of a transformed block, in floats: whole 64-byte
// lines, and an odd number of them, so that the 36 slices a transform writes in one pass
// fall in different L1 sets (a power-of-two distance, such as 32 channels x 64 tiles,
// maps them all to one set).
long point_stride(long floats) {
  const long lines = (floats + 15) / 16;
  return (lines % 2 == 0 ? lines + 1 : lines) * 16;
}

// G of winograd.h for r = 5 and r = 3 (6 x r), exact in double.
constexpr double kG5[kTile][5] = {{1.0 / 4, 0, 0, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
                                  {0, 0, 0, 0, 1}};
constexpr double kG3[kTile][5] = {{1.0 / 4, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};

// The algorithm for a window of r x r taps: output tile side m = 6 - r + 1, and its G.
struct Algorithm {
  int r, m;
  const double (*G)[5];
};

Algorithm algorithm(const Conv2dShape& s) { return s.R == 5 ? Algorithm{5, 2, kG5} : Algorithm{3, 4, kG3}; }

// Output tiles and the zero-padded plane that covers every tile's 6 x 6 reach: the input's
// pad on the top and left, and at least its pad (more for a ragged last tile) on the other sides.
struct Tiling {
  int P, Q, TH, TW, tiles, Hp, Wp;
};

Tiling tiling(const Conv2dShape& s, int m) {
  Tiling t;
  t.P = s.P(), t.Q = s.Q();
  t.TH = (t.P + m - 1) / m, t.TW = (t.Q + m - 1) / m;
  t.tiles = t.TH * t.TW;
  t.Hp = m * t.TH + kTile - m, t.Wp = m * t.TW + kTile - m;
  return t;
}

// U[xi] = G g G^T for one r x r filter, computed in double.
void transform_filter(const Algorithm& al, const float* g, float* u, long point_step) {
  double gt[kTile][5];  // G g
  for (int a = 0; a < kTile; ++a)
    for (int s = 0; s < al.r; ++s) {
      double acc = 0;
      for (int r = 0; r < al.r; ++r) acc += al.G[a][r] * g[r * al.r + s];
      gt[a][s] = acc;
    }
  for (int a = 0; a < kTile; ++a)
    for (int b = 0; b < kTile; ++b) {
      double acc = 0;
      for (int s = 0; s < al.r; ++s) acc += gt[a][s] * al.G[b][s];
      u[(a * kTile + b) * point_step] = static_cast<float>(acc);
    }
}

}  // namespace

bool conv2d_winograd_applies(const Conv2dShape& s) {
  return (s.R == 5 || s.R == 3) && s.S == s.R && s.stride_h == 1 && s.stride_w == 1;
}

int conv2d_winograd_tiles(const Conv2dShape& s) { return tiling(s, algorithm(s).m).tiles; }

void conv2d_forward_winograd(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  check_conv2d_shape(s, "conv2d_forward");
  if (!conv2d_winograd_applies(s)) return conv2d_forward_packed(s, x, w, bias, y);
  const Algorithm al = algorithm(s);
  const int m = al.m, taps = al.r * al.r;
  const Tiling tl = tiling(s, m);
  const int group = std::clamp(kTargetTiles / tl.tiles, 1, s.N);
  const MicroKernel& uk = gemm::microkernel_for_shape(s.K, group * tl.tiles);
  const int MR = uk.mr, NR = uk.nr, C = s.C;
  const int Mp = round_up(s.K, MR);
  const long u_point = static_cast<long>(Mp) * C;  // floats per point of the packed filters

  // Packed U: for each point, Mp/MR panels of C x MR (k-major), rows past K zero.
  std::vector<float> u(static_cast<size_t>(kPoints) * u_point, 0.0f);
  for (int k = 0; k < s.K; ++k)
    for (int c = 0; c < C; ++c)
      transform_filter(al, w + (static_cast<long>(k) * C + c) * taps,
                       u.data() + static_cast<long>(k / MR) * MR * C + static_cast<long>(c) * MR + k % MR, u_point);

  const winograd::Transforms& tf = winograd::transforms_best();
  const size_t x_image = static_cast<size_t>(C) * s.H * s.W, y_image = static_cast<size_t>(s.K) * tl.P * tl.Q;
  for_image_ranges(s.N, [&](int n0, int n1, int, int) {
    float* plane = scratch(0, static_cast<size_t>(tl.Hp) * tl.Wp);
    std::fill(plane, plane + static_cast<size_t>(tl.Hp) * tl.Wp, 0.0f);  // the border stays zero
    for (int n = n0; n < n1; n += group) {
      // Tiles are numbered (tile row, image, tile column), so that one transform pass covers
      // a tile row of every image in the group: lanes = b * TW.
      const int b = std::min(group, n1 - n), lanes = b * tl.TW;
      const int T = b * tl.tiles, Tp = round_up(T, NR);
      const long v_point = point_stride(static_cast<long>(C) * Tp), m_point = point_stride(static_cast<long>(Mp) * Tp);
      float* h = scratch(1, static_cast<size_t>(tl.Hp) * kTile * lanes);
      float* v = scratch(2, static_cast<size_t>(kPoints) * v_point);
      float* prod = scratch(3, static_cast<size_t>(kPoints) * m_point);
      float* out = scratch(4, static_cast<size_t>(m) * m * lanes);
      if (Tp > T)
        for (int xi = 0; xi < kPoints; ++xi)
          for (int c = 0; c < C; ++c) std::fill(v + xi * v_point + c * Tp + T, v + xi * v_point + (c + 1) * Tp, 0.0f);
      for (int c = 0; c < C; ++c) {
        for (int i = 0; i < b; ++i) {
          const float* src = x + (n + i) * x_image + static_cast<size_t>(c) * s.H * s.W;
          for (int r = 0; r < s.H; ++r)
            std::memcpy(plane + static_cast<long>(r + s.pad_h) * tl.Wp + s.pad_w, src + static_cast<long>(r) * s.W,
                        sizeof(float) * s.W);
          tf.input_rows(m, plane, tl.Wp, tl.Hp, tl.TW, h + i * tl.TW, lanes);
        }
        for (int ti = 0; ti < tl.TH; ++ti)
          tf.input_cols(m, h, lanes, ti, v + static_cast<long>(c) * Tp + ti * lanes, v_point);
      }
      for (int xi = 0; xi < kPoints; ++xi) {
        const float* ua = u.data() + xi * u_point;
        const float* vb = v + xi * v_point;
        float* mc = prod + xi * m_point;
        for (int j0 = 0; j0 < Tp; j0 += NR)
          for (int m0 = 0; m0 < Mp; m0 += MR)
            uk.fn(C, ua + static_cast<long>(m0) * C, MR, vb + j0, Tp, mc + static_cast<long>(m0) * Tp + j0, Tp, 1.0f,
                  0.0f);
      }
      for (int k = 0; k < s.K; ++k) {
        const float add = bias ? bias[k] : 0.0f;
        for (int ti = 0; ti < tl.TH; ++ti) {
          tf.output_tiles(m, prod + static_cast<long>(k) * Tp + ti * lanes, m_point, lanes, out);
          for (int i = 0; i < b; ++i) {
            float* dst = y + (n + i) * y_image + static_cast<size_t>(k) * tl.P * tl.Q;
            for (int u = 0; u < m && m * ti + u < tl.P; ++u) {
              float* row = dst + static_cast<long>(m * ti + u) * tl.Q;
              const float* src = out + u * m * lanes + m * i * tl.TW;
              for (int q = 0; q < tl.Q; ++q) row[q] = src[q] + add;
            }
          }
        }
      }
    }
  });
}

void conv2d_backward_data_winograd(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  check_conv2d_shape(s, "conv2d_backward_data");
  if (!conv2d_winograd_applies(s) || !backward_data_is_flipped_forward(s))
    return conv2d_backward_data_packed(s, dy, w, dx);
  std::vector<float> flipped(static_cast<size_t>(s.K) * s.C * s.R * s.S);
  conv2d_flip_filters(s, w, flipped.data());
  conv2d_forward_winograd(flipped_forward_shape(s), dy, flipped.data(), nullptr, dx);
}

void conv2d_backward_weights_winograd(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                      float* dbias) {
  check_conv2d_shape(s, "conv2d_backward_weights");
  if (!conv2d_winograd_applies(s)) return conv2d_backward_weights_packed(s, x, dy, dw, dbias);
  const Algorithm al = algorithm(s);
  const int m = al.m;
  const Tiling tl = tiling(s, m);
  const int group = std::clamp(kTargetTiles / tl.tiles, 1, s.N);
  const MicroKernel& uk = gemm::microkernel_for_shape(s.K, s.C);
  const int MR = uk.mr, NR = uk.nr;
  // Rows and columns padded to whole tiles and to the transforms' 4-lane steps (NR is a
  // multiple of 8 already).
  const int Kp = round_up(s.K, std::lcm(MR, 4)), Cp = round_up(s.C, NR);
  const long du_point = static_cast<long>(Kp) * Cp;
  const size_t part_size = static_cast<size_t>(kPoints) * du_point + s.K;  // dU, then dbias
  const size_t x_image = static_cast<size_t>(s.C) * s.H * s.W, y_image = static_cast<size_t>(s.K) * tl.P * tl.Q;
  const long xh_image = static_cast<long>(tl.Hp) * tl.Wp * Cp, dyh_image = static_cast<long>(m) * m * tl.tiles * Kp;
  const winograd::Transforms& tf = winograd::transforms_best();
  std::vector<float*> partials(std::max(1, omp_get_max_threads()), nullptr);
  int used_threads = 1;

  for_image_ranges(s.N, [&](int n0, int n1, int t, int nt) {
    if (t == 0) used_threads = nt;
    float* part = scratch(5, part_size);
    std::fill(part, part + part_size, 0.0f);
    partials[t] = part;
    float* dbt = part + static_cast<size_t>(kPoints) * du_point;
    for (int n = n0; n < n1; n += group) {
      const int b = std::min(group, n1 - n);
      const int T = b * tl.tiles;
      // Channels-last copies: the images zero-bordered (Hp, Wp, Cp), dy (m TH, m TW, Kp) with
      // zeros past P, Q and K.
      float* xh = scratch(0, b * xh_image);
      float* dyh = scratch(1, b * dyh_image);
      std::fill(xh, xh + b * xh_image, 0.0f);
      std::fill(dyh, dyh + b * dyh_image, 0.0f);
      for (int i = 0; i < b; ++i) {
        for (int c = 0; c < s.C; ++c)
          for (int r = 0; r < s.H; ++r) {
            const float* src = x + (n + i) * x_image + (static_cast<size_t>(c) * s.H + r) * s.W;
            float* dst = xh + i * xh_image + (static_cast<long>(r + s.pad_h) * tl.Wp + s.pad_w) * Cp + c;
            for (int q = 0; q < s.W; ++q) dst[static_cast<long>(q) * Cp] = src[q];
          }
        for (int k = 0; k < s.K; ++k)
          for (int p = 0; p < tl.P; ++p) {
            const float* src = dy + (n + i) * y_image + (static_cast<size_t>(k) * tl.P + p) * tl.Q;
            float* dst = dyh + i * dyh_image + static_cast<long>(p) * m * tl.TW * Kp + k;
            for (int q = 0; q < tl.Q; ++q) dst[static_cast<long>(q) * Kp] = src[q];
          }
      }
      const long v_point = point_stride(static_cast<long>(T) * Cp), z_point = point_stride(static_cast<long>(T) * Kp);
      float* v = scratch(2, static_cast<size_t>(kPoints) * v_point);
      float* z = scratch(3, static_cast<size_t>(kPoints) * z_point);
      for (int i = 0; i < b; ++i)
        for (int ti = 0; ti < tl.TH; ++ti)
          for (int tj = 0; tj < tl.TW; ++tj) {
            const long tile = static_cast<long>(i) * tl.tiles + ti * tl.TW + tj;
            tf.input_tile_channels(xh + i * xh_image + (static_cast<long>(m * ti) * tl.Wp + m * tj) * Cp,
                                   static_cast<long>(tl.Wp) * Cp, Cp, Cp, v + tile * Cp, v_point);
            tf.dy_tile_channels(m, dyh + i * dyh_image + (static_cast<long>(m * ti) * m * tl.TW + m * tj) * Kp,
                                static_cast<long>(m) * tl.TW * Kp, Kp, Kp, z + tile * Kp, z_point);
          }
      for (int xi = 0; xi < kPoints; ++xi) {
        const float* za = z + xi * z_point;
        const float* vb = v + xi * v_point;
        float* du = part + xi * du_point;
        for (int m0 = 0; m0 < Kp; m0 += MR)
          for (int j0 = 0; j0 < Cp; j0 += NR)
            uk.fn(T, za + m0, Kp, vb + j0, Cp, du + static_cast<long>(m0) * Cp + j0, Cp, 1.0f, 1.0f);
      }
      if (dbias)
        for (int i = 0; i < b; ++i)
          for (int k = 0; k < s.K; ++k) {
            const float* row = dy + (n + i) * y_image + static_cast<size_t>(k) * tl.P * tl.Q;
            float acc = 0.0f;
            for (int j = 0; j < tl.P * tl.Q; ++j) acc += row[j];
            dbt[k] += acc;
          }
    }
  });

  // Partials summed in thread order, then dW[k][c] += G^T dU G (in double).
  const int nt = used_threads;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int k = 0; k < s.K; ++k)
    for (int c = 0; c < s.C; ++c) {
      double du[kPoints];
      for (int xi = 0; xi < kPoints; ++xi) {
        float acc = 0.0f;
        for (int t = 0; t < nt; ++t) acc += partials[t][xi * du_point + static_cast<long>(k) * Cp + c];
        du[xi] = acc;
      }
      double gdu[5][kTile];  // G^T dU
      for (int r = 0; r < al.r; ++r)
        for (int b = 0; b < kTile; ++b) {
          double acc = 0;
          for (int a = 0; a < kTile; ++a) acc += al.G[a][r] * du[a * kTile + b];
          gdu[r][b] = acc;
        }
      float* out = dw + (static_cast<long>(k) * s.C + c) * al.r * al.r;
      for (int r = 0; r < al.r; ++r)
        for (int q = 0; q < al.r; ++q) {
          double acc = 0;
          for (int b = 0; b < kTile; ++b) acc += gdu[r][b] * al.G[b][q];
          out[r * al.r + q] += static_cast<float>(acc);
        }
    }
  if (dbias)
    for (int k = 0; k < s.K; ++k) {
      float acc = 0.0f;
      for (int t = 0; t < nt; ++t) acc += partials[t][static_cast<size_t>(kPoints) * du_point + k];
      dbias[k] += acc;
    }
}

}  // namespace convoy::kernels::cpu
