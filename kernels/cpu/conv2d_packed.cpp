// CPU 2-D convolution, variant "packed": the im2col gather is fused into the GEMM's panel
// packing, and the sgemm micro-kernel (gemm_internal.h) is driven directly.
//
// Why: with im2col + sgemm every col element is written once by im2col, read and written
// again by sgemm's B packing, and only then used for K (32..64) multiply-adds; on the
// quick model's layers that traffic is a large share of the time. Here each kc x NR
// micro-panel is gathered straight from a zero-bordered copy of the images into packed
// form, right before the micro-kernel uses it from L1/L2. Rows of the output-channel
// dimension are padded to a multiple of MR (and columns to NR) inside private buffers, so
// there are no edge tiles either.
//
// Blocking (the Goto/BLIS loops with the micro-kernel's own mc/kc): for each kc block of
// the shared dimension, the B block (kc x columns, <= ~256 KiB) is packed once and stays
// in L2, the A block (mc x kc) in L2, and each kc x NR micro-panel in L1.
//   forward:          A = W packed once per call (K x CRS), B = col (CRS x pixels of a
//                     group of images), C = (K, pixels) then scattered to NCHW + bias.
//   backward weights: A = dy (K x pixels), B = col^T (pixels x taps) gathered from a
//                     channels-last copy of the images with taps ordered (r, s, c), so each
//                     B row is a few contiguous runs; C = this thread's partial dW (taps
//                     in that order); partials are summed in thread order (deterministic).
// Each C element is summed over k in a fixed order, so results depend only on the thread
// count (through which images share a partial).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/conv2d_flip.h"
#include "kernels/cpu/conv2d_check.h"
#include "kernels/cpu/conv2d_parallel.h"
#include "kernels/cpu/conv2d_variants.h"
#include "kernels/cpu/gemm_internal.h"

namespace convoy::kernels::cpu {

namespace {

using conv::for_image_ranges;
using conv::scratch;
using gemm::MicroKernel;

constexpr int kTargetColumns = 256;  // pixels per forward GEMM: B block = kc x 256 floats = 256 KiB
constexpr int kTapBlock = 256;       // taps per backward-weights B block: kc x 256 floats = 256 KiB (L2)
constexpr int kMaxPanelWidth = 64;   // widest micro-kernel NR the panel gather splits into runs of 8

inline int round_up(int v, int m) { return (v + m - 1) / m * m; }

struct Geometry {
  int P, Q, PQ, CRS;
  int Hp, Wp;
  long plane, padded_image;  // floats in one padded plane / padded image
  size_t x_image, y_image;
  int group;                 // images per group
  std::vector<long> tap_off; // (c, r, t) -> offset in a padded image
  std::vector<long> pix_off; // pixel j of a group (image j / PQ) -> offset of its window corner
  // The same for channels-last padded images (Hp, Wp, C), with taps ordered (r, s, c) so
  // that a filter row's S*C taps are one contiguous run (backward weights). When rounding
  // S*C up to a multiple of NR (or of NR/2, NR/4, down to 8) costs at most a quarter more
  // (conv1: 15 -> 16), each filter row gets row_taps = that many columns, the extra ones
  // reading on past the row (junk, never summed into dW), so that a panel row is a few
  // equal runs that gather_panel copies as fixed-size blocks.
  int row_taps;
  std::vector<long> tap_off_hwc, pix_off_hwc;  // tap_off_hwc has R * row_taps entries
};

Geometry geometry(const Conv2dShape& s, int nr) {
  Geometry g;
  g.P = s.P();
  g.Q = s.Q();
  g.PQ = g.P * g.Q;
  g.CRS = s.C * s.R * s.S;
  g.Hp = s.H + 2 * s.pad_h;
  g.Wp = s.W + 2 * s.pad_w;
  g.plane = static_cast<long>(g.Hp) * g.Wp;
  g.padded_image = g.plane * s.C;
  g.x_image = static_cast<size_t>(s.C) * s.H * s.W;
  g.y_image = static_cast<size_t>(s.K) * g.PQ;
  g.group = std::max(1, std::min(s.N, kTargetColumns / g.PQ));
  g.tap_off.resize(g.CRS);
  for (int c = 0; c < s.C; ++c)
    for (int r = 0; r < s.R; ++r)
      for (int t = 0; t < s.S; ++t) g.tap_off[(c * s.R + r) * s.S + t] = c * g.plane + r * g.Wp + t;
  g.pix_off.resize(static_cast<size_t>(g.group) * g.PQ);
  for (int i = 0; i < g.group; ++i)
    for (int p = 0; p < g.P; ++p)
      for (int q = 0; q < g.Q; ++q)
        g.pix_off[(static_cast<size_t>(i) * g.P + p) * g.Q + q] =
            i * g.padded_image + static_cast<long>(p) * s.stride_h * g.Wp + static_cast<long>(q) * s.stride_w;
  const int sc = s.S * s.C;
  g.row_taps = sc;
  // The run length (NR, NR/2, ... while a multiple of 8, then 8) that pads least, the widest
  // of those that pad alike, and only if it wastes at most 1/4.
  for (int unit = nr; unit >= 8; unit = unit % 16 == 0 ? unit / 2 : 8) {
    const int padded = round_up(sc, unit);
    if (4 * padded <= 5 * sc && (g.row_taps == sc || padded < g.row_taps)) g.row_taps = padded;
    if (unit == 8) break;
  }
  g.tap_off_hwc.resize(static_cast<size_t>(s.R) * g.row_taps);
  for (int r = 0; r < s.R; ++r)
    for (int j = 0; j < g.row_taps; ++j) g.tap_off_hwc[r * g.row_taps + j] = static_cast<long>(r) * g.Wp * s.C + j;
  g.pix_off_hwc.resize(g.pix_off.size());
  for (int i = 0; i < g.group; ++i)
    for (int p = 0; p < g.P; ++p)
      for (int q = 0; q < g.Q; ++q)
        g.pix_off_hwc[(static_cast<size_t>(i) * g.P + p) * g.Q + q] =
            i * g.padded_image + (static_cast<long>(p) * s.stride_h * g.Wp + static_cast<long>(q) * s.stride_w) * s.C;
  return g;
}

// Images [n, n+b) copied into zero-bordered channels-last (b, Hp, Wp, C): a transpose,
// paid once per image so that every gathered run below is contiguous.
void pad_images_hwc(const Conv2dShape& s, const Geometry& g, const float* x, int b, float* out) {
  std::fill(out, out + b * g.padded_image, 0.0f);
  for (int i = 0; i < b; ++i)
    for (int h = 0; h < s.H; ++h) {
      float* row = out + i * g.padded_image + ((static_cast<long>(h) + s.pad_h) * g.Wp + s.pad_w) * s.C;
      for (int c = 0; c < s.C; ++c) {
        const float* src = x + i * g.x_image + (static_cast<size_t>(c) * s.H + h) * s.W;
        for (int w = 0; w < s.W; ++w) row[static_cast<long>(w) * s.C + c] = src[w];
      }
    }
}

// Images [n, n+b) copied into zero-bordered (b, C, Hp, Wp).
void pad_images(const Conv2dShape& s, const Geometry& g, const float* x, int b, float* out) {
  std::fill(out, out + b * g.padded_image, 0.0f);
  for (int i = 0; i < b; ++i)
    for (int c = 0; c < s.C; ++c) {
      const float* src = x + i * g.x_image + static_cast<size_t>(c) * s.H * s.W;
      float* dst = out + i * g.padded_image + c * g.plane + static_cast<long>(s.pad_h) * g.Wp + s.pad_w;
      for (int h = 0; h < s.H; ++h) std::memcpy(dst + static_cast<long>(h) * g.Wp, src + h * s.W, sizeof(float) * s.W);
    }
}

// A micro-panel row is NR values gathered at base + off[j]; consecutive offsets form runs
// that are copied as blocks (a whole output row of pixels, or the S taps of a filter row).
struct Run {
  int j, len;
  long off;  // < 0: zero fill (past the valid columns)
};

int make_runs(const long* off, int j0, int valid, int nr, Run* runs) {
  int n = 0;
  for (int j = j0; j < j0 + nr;) {
    if (j >= valid) {
      runs[n++] = {j - j0, j0 + nr - j, -1};
      break;
    }
    const int end = std::min(j0 + nr, valid);
    int len = 1;
    while (j + len < end && off[j + len] == off[j] + len) ++len;
    runs[n++] = {j - j0, len, off[j]};
    j += len;
  }
  return n;
}

inline void gather_row(const float* base, const Run* runs, int nruns, float* dst) {
  for (int i = 0; i < nruns; ++i) {
    const Run& r = runs[i];
    float* __restrict d = dst + r.j;
    if (r.off < 0) {
      for (int x = 0; x < r.len; ++x) d[x] = 0.0f;
    } else {
      const float* __restrict src = base + r.off;
      for (int x = 0; x < r.len; ++x) d[x] = src[x];
    }
  }
}

// Row k of a panel as nruns runs of L values each, all inside the images: fixed-size copies
// the compiler turns into vector moves.
template <int L>
void gather_panel_fixed(const float* base, const long* row_off, int kc, const Run* runs, int nruns, int nr,
                        float* panel) {
  for (int k = 0; k < kc; ++k) {
    const float* row = base + row_off[k];
    float* dst = panel + static_cast<long>(k) * nr;
    for (int i = 0; i < nruns; ++i) std::memcpy(dst + i * L, row + runs[i].off, L * sizeof(float));
  }
}

// A kc x NR micro-panel: row k gathers the runs at base + row_off[k]. The common cases are
// runs of equal length inside the images: one run of NR (a row of output pixels, or NR taps
// of one filter row) or NR/L runs of L pixels (output rows of width L); they are fixed-size
// copies. Anything else (the edge of the columns, odd widths) is copied value by value.
void gather_panel(const float* base, const long* row_off, int kc, const Run* runs, int nruns, int nr,
                  float* panel) {
  bool uniform = true, eights = true;
  for (int i = 0; i < nruns; ++i) {
    uniform = uniform && runs[i].off >= 0 && runs[i].len * nruns == nr;
    eights = eights && runs[i].off >= 0 && runs[i].len % 8 == 0;
  }
  if (uniform) {
    switch (nr / nruns) {
      case 32: return gather_panel_fixed<32>(base, row_off, kc, runs, nruns, nr, panel);
      case 16: return gather_panel_fixed<16>(base, row_off, kc, runs, nruns, nr, panel);
      case 8: return gather_panel_fixed<8>(base, row_off, kc, runs, nruns, nr, panel);
      default: break;
    }
  }
  if (eights && nr <= kMaxPanelWidth) {  // runs of 8, 16, ... mixed (NR = 24: 16 + 8): cut into runs of 8
    Run split[kMaxPanelWidth / 8];
    int n = 0;
    for (int i = 0; i < nruns; ++i)
      for (int x = 0; x < runs[i].len; x += 8) split[n++] = {runs[i].j + x, 8, runs[i].off + x};
    return gather_panel_fixed<8>(base, row_off, kc, split, n, nr, panel);
  }
  for (int k = 0; k < kc; ++k) gather_row(base + row_off[k], runs, nruns, panel + k * nr);
}

// Weights as the A operand: for each kc block of taps, Mp/MR panels of kc x MR (k-major),
// rows past K zero. Block pc starts at pc * Mp.
void pack_weights(const Conv2dShape& s, const Geometry& g, const MicroKernel& uk, int Mp, const float* w,
                  float* out) {
  const int MR = uk.mr;
  for (int pc = 0; pc < g.CRS; pc += uk.kc) {
    const int kc = std::min(uk.kc, g.CRS - pc);
    float* block = out + static_cast<long>(pc) * Mp;
    for (int m0 = 0; m0 < Mp; m0 += MR) {
      float* panel = block + static_cast<long>(m0) * kc;
      for (int r = 0; r < MR; ++r) {
        const int k = m0 + r;
        for (int t = 0; t < kc; ++t) panel[t * MR + r] = k < s.K ? w[static_cast<long>(k) * g.CRS + pc + t] : 0.0f;
      }
    }
  }
}

// Rows m0..m0+MR of dy (channels, rows past K zero) over pixels pc..pc+kc of the group, as a
// kc x MR panel (k-major). Pixel runs that stay inside one image are MR rows of dy, packed
// with register transposes (gemm::pack_rows_k_major) when all MR rows are channels; the rows
// past K are copied from row pointers and zero-filled.
void pack_dy_panel(const Conv2dShape& s, const Geometry& g, const float* dyg, int m0, int MR, int pc, int kc,
                   float* panel) {
  constexpr int kMaxRows = 32;  // every micro-kernel's MR is below (12 at most)
  const float* rows[kMaxRows];
  if (MR > kMaxRows) fail("conv2d: micro-kernel with ", MR, " rows; the dy packing holds at most ", kMaxRows);
  const int live = std::max(0, std::min(MR, s.K - m0));
  for (int j = 0; j < kc;) {
    const int i = (pc + j) / g.PQ, pq = (pc + j) % g.PQ;
    const int seg = std::min(kc - j, g.PQ - pq);
    if (live == MR) {  // MR whole rows: register transposes
      gemm::pack_rows_k_major(MR, dyg + i * g.y_image + static_cast<size_t>(m0) * g.PQ + pq, g.PQ, seg,
                              panel + static_cast<long>(j) * MR);
      j += seg;
      continue;
    }
    for (int r = 0; r < live; ++r) rows[r] = dyg + i * g.y_image + static_cast<size_t>(m0 + r) * g.PQ + pq;
    for (int x = 0; x < seg; ++x) {
      float* __restrict d = panel + static_cast<long>(j + x) * MR;
      for (int r = 0; r < live; ++r) d[r] = rows[r][x];
      for (int r = live; r < MR; ++r) d[r] = 0.0f;
    }
    j += seg;
  }
}

// The tile for backward weights: C is K x (R * row_taps), and row_taps depends on the tile's
// NR, so each candidate is asked with the columns it would have.
const MicroKernel& backward_weights_kernel(const Conv2dShape& s) {
  const MicroKernel& best = gemm::microkernel_best();
  const int best_cols = s.R * geometry(s, best.nr).row_taps;
  const MicroKernel& chosen = gemm::microkernel_for_shape(s.K, best_cols);
  if (&chosen == &best) return best;
  auto area = [&](const MicroKernel& k) {
    return static_cast<long>(round_up(s.K, k.mr)) * round_up(s.R * geometry(s, k.nr).row_taps, k.nr);
  };
  return area(chosen) < area(best) ? chosen : best;
}

// The micro-kernel loops over one packed A block (Mp x kc) and B block (kc x n).
void multiply_block(const MicroKernel& uk, int kc, int Mp, int n, const float* a, const float* b, float* c,
                    long ldc, float beta) {
  const int MR = uk.mr, NR = uk.nr;
  const int MC = std::max(MR, uk.mc / MR * MR);
  for (int ic = 0; ic < Mp; ic += MC) {
    const int mc_end = std::min(Mp, ic + MC);
    for (int jr = 0; jr < n; jr += NR) {
      const float* bp = b + static_cast<long>(jr) * kc;
      for (int ir = ic; ir < mc_end; ir += MR)
        uk.fn(kc, a + static_cast<long>(ir) * kc, MR, bp, NR, c + ir * ldc + jr, ldc, 1.0f, beta);
    }
  }
}

}  // namespace

void conv2d_forward_packed(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  check_conv2d_shape(s, "conv2d_forward");
  const MicroKernel& uk = gemm::microkernel_for_shape(s.K, std::max(1, std::min(s.N, kTargetColumns / (s.P() * s.Q()))) * s.P() * s.Q());
  const Geometry g = geometry(s, uk.nr);
  const int MR = uk.mr, NR = uk.nr;
  const int Mp = round_up(s.K, MR);
  std::vector<float> a(static_cast<size_t>(Mp) * g.CRS);  // shared, read-only in the region
  pack_weights(s, g, uk, Mp, w, a.data());

  for_image_ranges(s.N, [&](int n0, int n1, int, int) {
    std::vector<Run> runs(NR + 1);
    for (int n = n0; n < n1; n += g.group) {
      const int b = std::min(g.group, n1 - n);
      const int cols = b * g.PQ, npad = round_up(cols, NR);
      float* padded = scratch(0, b * g.padded_image);
      float* bblock = scratch(1, static_cast<size_t>(std::min(uk.kc, g.CRS)) * npad);
      float* c = scratch(2, static_cast<size_t>(Mp) * npad);
      pad_images(s, g, x + n * g.x_image, b, padded);
      for (int pc = 0; pc < g.CRS; pc += uk.kc) {
        const int kc = std::min(uk.kc, g.CRS - pc);
        for (int j0 = 0; j0 < npad; j0 += NR) {  // B micro-panel: kc taps x NR pixels
          const int nruns = make_runs(g.pix_off.data(), j0, cols, NR, runs.data());
          gather_panel(padded, g.tap_off.data() + pc, kc, runs.data(), nruns, NR, bblock + static_cast<long>(j0) * kc);
        }
        multiply_block(uk, kc, Mp, npad, a.data() + static_cast<long>(pc) * Mp, bblock, c, npad,
                       pc == 0 ? 0.0f : 1.0f);
      }
      for (int i = 0; i < b; ++i)  // scatter to NCHW, adding the bias
        for (int k = 0; k < s.K; ++k) {
          const float* src = c + static_cast<long>(k) * npad + i * g.PQ;
          float* dst = y + (n + i) * g.y_image + static_cast<size_t>(k) * g.PQ;
          const float add = bias ? bias[k] : 0.0f;
          for (int j = 0; j < g.PQ; ++j) dst[j] = src[j] + add;
        }
    }
  });
}

void conv2d_backward_weights_packed(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                    float* dbias) {
  check_conv2d_shape(s, "conv2d_backward_weights");
  const MicroKernel& uk = backward_weights_kernel(s);
  const Geometry g = geometry(s, uk.nr);
  const int MR = uk.mr, NR = uk.nr;
  const int taps = s.R * g.row_taps;  // B columns, junk ones included
  const int Mp = round_up(s.K, MR), Np = round_up(taps, NR);
  const int tap_block = std::max(NR, kTapBlock / NR * NR);
  const size_t part_size = static_cast<size_t>(Mp) * Np + s.K;  // dW (Mp x Np), then dbias (K)
  std::vector<float*> partials(std::max(1, omp_get_max_threads()), nullptr);
  int used_threads = 1;

  for_image_ranges(s.N, [&](int n0, int n1, int t, int nt) {
    if (t == 0) used_threads = nt;
    float* part = scratch(3, part_size);
    std::fill(part, part + part_size, 0.0f);
    partials[t] = part;
    float* dbt = part + static_cast<size_t>(Mp) * Np;
    std::vector<Run> runs(NR + 1);
    for (int n = n0; n < n1; n += g.group) {
      const int b = std::min(g.group, n1 - n);
      const int cols = b * g.PQ;
      const float* dyg = dy + n * g.y_image;
      const long slack = g.row_taps;  // junk columns may read this far past the last image
      float* padded = scratch(0, b * g.padded_image + slack);
      std::fill(padded + b * g.padded_image, padded + b * g.padded_image + slack, 0.0f);
      float* ablock = scratch(4, static_cast<size_t>(Mp) * std::min(uk.kc, cols));
      float* bblock = scratch(1, static_cast<size_t>(std::min(uk.kc, cols)) * tap_block);
      pad_images_hwc(s, g, x + n * g.x_image, b, padded);
      for (int pc = 0; pc < cols; pc += uk.kc) {  // kc pixels of the group
        const int kc = std::min(uk.kc, cols - pc);
        for (int m0 = 0; m0 < Mp; m0 += MR)  // A: dy as Mp/MR panels of kc x MR
          pack_dy_panel(s, g, dyg, m0, MR, pc, kc, ablock + static_cast<long>(m0) * kc);
        for (int jc = 0; jc < Np; jc += tap_block) {
          const int nc = std::min(tap_block, Np - jc);
          for (int j0 = jc; j0 < jc + nc; j0 += NR) {  // B micro-panel: kc pixels x NR taps
            const int nruns = make_runs(g.tap_off_hwc.data(), j0, taps, NR, runs.data());
            gather_panel(padded, g.pix_off_hwc.data() + pc, kc, runs.data(), nruns, NR,
                         bblock + static_cast<long>(j0 - jc) * kc);
          }
          multiply_block(uk, kc, Mp, nc, ablock, bblock, part + jc, Np, 1.0f);
        }
      }
      if (dbias)
        for (int i = 0; i < b; ++i)
          for (int k = 0; k < s.K; ++k) {
            const float* row = dyg + i * g.y_image + static_cast<size_t>(k) * g.PQ;
            float acc = 0.0f;
            for (int j = 0; j < g.PQ; ++j) acc += row[j];
            dbt[k] += acc;
          }
    }
  });

  // Fixed-order reduction: dw[k][c,r,s] += partial_0 + partial_1 + ... (partials hold the
  // taps in (r, s, c) order).
  const int nt = used_threads;
  const long rows = s.K + 1;  // K rows of dW, then the dbias row
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (long k = 0; k < rows; ++k) {
    if (k < s.K) {
      for (int c = 0; c < s.C; ++c)
        for (int rs = 0; rs < s.R * s.S; ++rs) {
          const long j = static_cast<long>(rs / s.S) * g.row_taps + (rs % s.S) * s.C + c;
          float acc = 0.0f;
          for (int t = 0; t < nt; ++t) acc += partials[t][k * Np + j];
          dw[k * g.CRS + c * s.R * s.S + rs] += acc;
        }
    } else if (dbias) {
      for (int j = 0; j < s.K; ++j) {
        float acc = 0.0f;
        for (int t = 0; t < nt; ++t) acc += partials[t][static_cast<size_t>(Mp) * Np + j];
        dbias[j] += acc;
      }
    }
  }
}

// Stride 1: dx is the packed forward of dy with the flipped filters (kernels/conv2d_flip.h),
// with no col2im; other strides fall back to im2col + col2im.
void conv2d_backward_data_packed(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  check_conv2d_shape(s, "conv2d_backward_data");
  if (!backward_data_is_flipped_forward(s)) return conv2d_backward_data_im2col(s, dy, w, dx);
  std::vector<float> flipped(static_cast<size_t>(s.K) * s.C * s.R * s.S);
  conv2d_flip_filters(s, w, flipped.data());
  conv2d_forward_packed(flipped_forward_shape(s), dy, flipped.data(), nullptr, dx);
}

}  // namespace convoy::kernels::cpu
