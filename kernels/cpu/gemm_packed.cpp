// The fast CPU SGEMM driver: packing of op(A) / op(B), the five Goto/BLIS loops around the
// run-time chosen micro-kernel, and the OpenMP split. See gemm_internal.h for the layout.
//
// Threading: C is cut into a tm x tn grid of rectangles on micro-tile boundaries, one per
// thread; each thread runs the whole blocked algorithm on its rectangle with its own
// packing buffers, so there is no barrier and no shared scratch. A thread packs the parts
// of op(A) and op(B) it needs (the duplicated packing is O(MK + KN) against O(MNK) work).
// Every C element is summed over k in the same order (kc blocks in order, k in order inside
// a block) whatever the split, so results do not even depend on the thread count.
// Inside an enclosing omp parallel region (convolution's one-image-per-thread loops) it runs
// on the calling thread only; buffers are thread_local, so concurrent calls are safe.
#include <omp.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "engine/error.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/thread_scratch.h"
#include "kernels/gemm.h"

namespace convoy::kernels::cpu {
namespace gemm {
namespace {

// Shape limits up to which an operand is read in place (see Plan), set by measurement on
// Zen 3 (1 thread): reading A^T in place wins 1.5-2.4x for N <= 32 and breaks even near
// N = 64-96. Reading B in place lost 1.3-4x at every M tried (16..256, N = 1024): rows
// 4 KiB apart all fall in one L1 set, so the kc x NR panel never stays in L1. It stays
// as a tested variant (Packing::direct_where_possible) but automatic never picks it.
constexpr int kDirectBMaxM = 0;
constexpr int kDirectAMaxN = 48;

// ---- packing ---------------------------------------------------------------------------

// One MR-row micro-panel of op(A) = A (rows contiguous in k): MR read streams, one
// contiguous write stream; MR is a constant so the inner loop is fully unrolled.
template <int MR>
void pack_a_rows(const float* src, long lda, int kc, float* dst) {
  const float* rows[MR];
  for (int r = 0; r < MR; ++r) rows[r] = src + r * lda;
  for (int k = 0; k < kc; ++k)
    for (int r = 0; r < MR; ++r) dst[k * MR + r] = rows[r][k];
}

#if defined(__SSE2__)
// MR = 6 with SSE (baseline x86-64): per 4 k, rows 0-3 go through a 4 x 4 register
// transpose and rows 4-5 through an unpack, so 24 values move with 6 loads and 6 stores
// instead of 24 of each; the 6-row panel is where the packing time of small-N calls goes.
template <>
void pack_a_rows<6>(const float* src, long lda, int kc, float* dst) {
  const float *r0 = src, *r1 = src + lda, *r2 = src + 2 * lda, *r3 = src + 3 * lda, *r4 = src + 4 * lda,
              *r5 = src + 5 * lda;
  int k = 0;
  for (; k + 4 <= kc; k += 4) {
    __m128 a0 = _mm_loadu_ps(r0 + k), a1 = _mm_loadu_ps(r1 + k), a2 = _mm_loadu_ps(r2 + k),
           a3 = _mm_loadu_ps(r3 + k);
    const __m128 a4 = _mm_loadu_ps(r4 + k), a5 = _mm_loadu_ps(r5 + k);
    _MM_TRANSPOSE4_PS(a0, a1, a2, a3);               // a_j = rows 0-3 at k + j
    const __m128 lo45 = _mm_unpacklo_ps(a4, a5);     // r4[k] r5[k] r4[k+1] r5[k+1]
    const __m128 hi45 = _mm_unpackhi_ps(a4, a5);     // r4[k+2] r5[k+2] r4[k+3] r5[k+3]
    float* d = dst + k * 6;
    _mm_storeu_ps(d + 0, a0);
    _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), lo45);
    _mm_storeu_ps(d + 6, a1);
    _mm_storeh_pi(reinterpret_cast<__m64*>(d + 10), lo45);
    _mm_storeu_ps(d + 12, a2);
    _mm_storel_pi(reinterpret_cast<__m64*>(d + 16), hi45);
    _mm_storeu_ps(d + 18, a3);
    _mm_storeh_pi(reinterpret_cast<__m64*>(d + 22), hi45);
  }
  for (; k < kc; ++k) {
    float* d = dst + k * 6;
    d[0] = r0[k], d[1] = r1[k], d[2] = r2[k], d[3] = r3[k], d[4] = r4[k], d[5] = r5[k];
  }
}

// MR = 4 with SSE: one 4 x 4 register transpose per 4 k (the 4 x 24 AVX2 tile's A panels).
template <>
void pack_a_rows<4>(const float* src, long lda, int kc, float* dst) {
  const float *r0 = src, *r1 = src + lda, *r2 = src + 2 * lda, *r3 = src + 3 * lda;
  int k = 0;
  for (; k + 4 <= kc; k += 4) {
    __m128 a0 = _mm_loadu_ps(r0 + k), a1 = _mm_loadu_ps(r1 + k), a2 = _mm_loadu_ps(r2 + k),
           a3 = _mm_loadu_ps(r3 + k);
    _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
    float* d = dst + k * 4;
    _mm_storeu_ps(d, a0);
    _mm_storeu_ps(d + 4, a1);
    _mm_storeu_ps(d + 8, a2);
    _mm_storeu_ps(d + 12, a3);
  }
  for (; k < kc; ++k) {
    float* d = dst + k * 4;
    d[0] = r0[k], d[1] = r1[k], d[2] = r2[k], d[3] = r3[k];
  }
}

// One NR-column micro-panel of op(B) = B^T (NR rows of B, each contiguous in k), NR a
// multiple of 4: 4 x 4 register transposes turn 4 rows x 4 k into 4 k x 4 columns.
template <int NR>
void pack_bt_cols_sse(const float* src, long ldb, int kc, float* dst) {
  int k = 0;
  for (; k + 4 <= kc; k += 4) {
    for (int j = 0; j < NR; j += 4) {
      __m128 b0 = _mm_loadu_ps(src + (j + 0) * ldb + k), b1 = _mm_loadu_ps(src + (j + 1) * ldb + k),
             b2 = _mm_loadu_ps(src + (j + 2) * ldb + k), b3 = _mm_loadu_ps(src + (j + 3) * ldb + k);
      _MM_TRANSPOSE4_PS(b0, b1, b2, b3);
      _mm_storeu_ps(dst + (k + 0) * NR + j, b0);
      _mm_storeu_ps(dst + (k + 1) * NR + j, b1);
      _mm_storeu_ps(dst + (k + 2) * NR + j, b2);
      _mm_storeu_ps(dst + (k + 3) * NR + j, b3);
    }
  }
  for (; k < kc; ++k)
    for (int j = 0; j < NR; ++j) dst[k * NR + j] = src[j * ldb + k];
}
#endif

// One NR-column micro-panel of op(B) = B (NR contiguous values per k): a fixed-size copy.
template <int NR>
void pack_b_cols(const float* src, long ldb, int kc, float* dst) {
  for (int k = 0; k < kc; ++k)
    for (int j = 0; j < NR; ++j) dst[k * NR + j] = src[k * ldb + j];
}

// op(A)[i][k] for rows [i0, i0+mc) and columns [k0, k0+kc) into ceil(mc/MR) micro-panels,
// each MR x kc stored k-major (MR values per k), rows past mc zero-filled.
void pack_a(const GemmArgs& g, int i0, int mc, int k0, int kc, int mr, float* dst) {
  const long lda = g.lda;
  for (int p = 0; p < mc; p += mr) {
    const int rows = std::min(mr, mc - p);
    if (g.trans_a == Trans::no && rows == mr && (mr == 6 || mr == 12 || mr == 4)) {
      const float* src = g.A + (i0 + p) * lda + k0;
      if (mr == 6) pack_a_rows<6>(src, lda, kc, dst);
      if (mr == 12) pack_a_rows<12>(src, lda, kc, dst);
      if (mr == 4) pack_a_rows<4>(src, lda, kc, dst);
    } else if (g.trans_a == Trans::no) {
      // Row i of op(A) is contiguous: read rows, write with stride mr.
      for (int r = 0; r < rows; ++r) {
        const float* src = g.A + (i0 + p + r) * lda + k0;
        for (int k = 0; k < kc; ++k) dst[k * mr + r] = src[k];
      }
    } else {
      // Column i of A^T is contiguous in k-major order already: copy mr values per k.
      for (int k = 0; k < kc; ++k) {
        const float* src = g.A + (k0 + k) * lda + i0 + p;
        for (int r = 0; r < rows; ++r) dst[k * mr + r] = src[r];
      }
    }
    if (rows < mr) {
      for (int k = 0; k < kc; ++k)
        for (int r = rows; r < mr; ++r) dst[k * mr + r] = 0.0f;
    }
    dst += static_cast<long>(mr) * kc;
  }
}

// op(B)[k][j] for rows [k0, k0+kc) and columns [j0, j0+nc) into ceil(nc/NR) micro-panels,
// each kc x NR stored k-major (NR values per k), columns past nc zero-filled.
void pack_b(const GemmArgs& g, int k0, int kc, int j0, int nc, int nr, float* dst) {
  const long ldb = g.ldb;
  for (int p = 0; p < nc; p += nr) {
    const int cols = std::min(nr, nc - p);
    if (g.trans_b == Trans::no && cols == nr && (nr == 16 || nr == 32 || nr == 8 || nr == 24)) {
      const float* src = g.B + k0 * ldb + j0 + p;
      if (nr == 16) pack_b_cols<16>(src, ldb, kc, dst);
      if (nr == 32) pack_b_cols<32>(src, ldb, kc, dst);
      if (nr == 8) pack_b_cols<8>(src, ldb, kc, dst);
      if (nr == 24) pack_b_cols<24>(src, ldb, kc, dst);
#if defined(__SSE2__)
    } else if (g.trans_b == Trans::yes && cols == nr && (nr == 16 || nr == 32 || nr == 8 || nr == 24)) {
      const float* src = g.B + (j0 + p) * ldb + k0;
      if (nr == 16) pack_bt_cols_sse<16>(src, ldb, kc, dst);
      if (nr == 32) pack_bt_cols_sse<32>(src, ldb, kc, dst);
      if (nr == 8) pack_bt_cols_sse<8>(src, ldb, kc, dst);
      if (nr == 24) pack_bt_cols_sse<24>(src, ldb, kc, dst);
#endif
    } else if (g.trans_b == Trans::no) {
      for (int k = 0; k < kc; ++k) {
        const float* src = g.B + (k0 + k) * ldb + j0 + p;
        float* d = dst + k * nr;
        for (int j = 0; j < cols; ++j) d[j] = src[j];
        for (int j = cols; j < nr; ++j) d[j] = 0.0f;
      }
    } else {
      // op(B) = B^T: column j of op(B) is row j of B, contiguous in k.
      for (int j = 0; j < cols; ++j) {
        const float* src = g.B + (j0 + p + j) * ldb + k0;
        for (int k = 0; k < kc; ++k) dst[k * nr + j] = src[k];
      }
      if (cols < nr) {
        for (int k = 0; k < kc; ++k)
          for (int j = cols; j < nr; ++j) dst[k * nr + j] = 0.0f;
      }
    }
    dst += static_cast<long>(nr) * kc;
  }
}

// ---- the blocked loops on one rectangle of C ----------------------------------------------

// Which operands are read in place instead of packed. Packing costs about one pass over the
// operand; it pays off only when the packed copy is reused many times. op(B) = B (row-major
// K x N) already has the packed shape with a k-stride of ldb, and op(A) = A^T likewise with
// a k-stride of lda, so when the other dimension is small (little reuse) they are read
// directly. Reading in place performs the same multiply-adds in the same order: the result
// is bit-identical to the packed path.
struct Plan {
  bool direct_a = false, direct_b = false;
};

Plan choose_plan(const GemmArgs& g, Packing packing) {
  Plan p;
  if (packing == Packing::always) return p;
  const bool direct_ok_a = g.trans_a == Trans::yes, direct_ok_b = g.trans_b == Trans::no;
  if (packing == Packing::direct_where_possible) return Plan{direct_ok_a, direct_ok_b};
  p.direct_a = direct_ok_a && g.N <= kDirectAMaxN;
  p.direct_b = direct_ok_b && g.M <= kDirectBMaxM;
  return p;
}

// Partial tile at the edge of C: run the kernel into a local tile, then merge the valid part
// with the same rounding as the kernel's own write-back.
void edge_tile(const MicroKernel& uk, long kc, const float* a, long a_step, const float* b, long b_step,
               float* c, long ldc, int rows, int cols, float alpha, float beta) {
  alignas(64) float tile[16 * 64];
  uk.fn(kc, a, a_step, b, b_step, tile, uk.nr, 1.0f, 0.0f);
  for (int r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    const float* tr = tile + r * uk.nr;
    if (beta == 0.0f) {
      for (int j = 0; j < cols; ++j) cr[j] = alpha * tr[j];
    } else {
      for (int j = 0; j < cols; ++j) cr[j] = std::fma(alpha, tr[j], beta * cr[j]);
    }
  }
}

void gemm_rectangle(const MicroKernel& uk, const GemmArgs& g, Plan plan, int m0, int m1, int n0, int n1) {
  const int MR = uk.mr, NR = uk.nr;
  const int MC = uk.mc, KC = uk.kc, NC = uk.nc;
  const int m = m1 - m0, n = n1 - n0;
  const int kc_max = std::min(KC, g.K);
  const int mc_max = std::min(MC, (m + MR - 1) / MR * MR);
  const int nc_max = std::min(NC, (n + NR - 1) / NR * NR);
  float* abuf = thread_scratch_as<float>(ScratchSlot::gemm_a, static_cast<size_t>(plan.direct_a ? MR : mc_max) * kc_max);
  const bool fuse_b = !plan.direct_b && m <= MC;
  float* bbuf = thread_scratch_as<float>(ScratchSlot::gemm_b, static_cast<size_t>(plan.direct_b || fuse_b ? NR : nc_max) * kc_max);
  const long lda = g.lda, ldb = g.ldb, ldc = g.ldc;

  for (int jc = n0; jc < n1; jc += NC) {
    const int nc = std::min(NC, n1 - jc);
    const int nc_full = nc / NR * NR;  // columns in whole NR panels
    for (int pc = 0; pc < g.K; pc += KC) {
      const int kc = std::min(KC, g.K - pc);
      const float beta = pc == 0 ? g.beta : 1.0f;
      // Direct B reads whole panels of op(B) = B in place; only a ragged last panel is packed.
      // With one ic block (m <= MC) each B micro-panel is used by one sweep of the ir loop
      // only, so it is packed just before that sweep into an L1-sized buffer (fused) rather
      // than all at once into an L3-sized one that would be read back from L3.
      if (fuse_b) {
        // packed per jr below
      } else if (!plan.direct_b) {
        pack_b(g, pc, kc, jc, nc, NR, bbuf);
      } else if (nc_full < nc) {
        pack_b(g, pc, kc, jc + nc_full, nc - nc_full, NR, bbuf);
      }
      for (int ic = m0; ic < m1; ic += MC) {
        const int mc = std::min(MC, m1 - ic);
        const int mc_full = mc / MR * MR;
        if (!plan.direct_a) {
          pack_a(g, ic, mc, pc, kc, MR, abuf);
        } else if (mc_full < mc) {
          pack_a(g, ic + mc_full, mc - mc_full, pc, kc, MR, abuf);
        }
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = std::min(NR, nc - jr);
          const float* bp = bbuf + static_cast<long>(jr) * kc;
          long b_step = NR;
          if (fuse_b) {
            pack_b(g, pc, kc, jc + jr, cols, NR, bbuf);
            bp = bbuf;
          } else if (plan.direct_b) {
            if (cols == NR) {
              bp = g.B + pc * ldb + jc + jr;
              b_step = ldb;
            } else {
              bp = bbuf;
            }
          }
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = std::min(MR, mc - ir);
            const float* ap = abuf + static_cast<long>(ir) * kc;
            long a_step = MR;
            if (plan.direct_a) {
              if (rows == MR) {
                ap = g.A + pc * lda + ic + ir;
                a_step = lda;
              } else {
                ap = abuf;
              }
            }
            float* c = g.C + (ic + ir) * ldc + jc + jr;
            if (rows == MR && cols == NR) {
              uk.fn(kc, ap, a_step, bp, b_step, c, ldc, g.alpha, beta);
            } else {
              edge_tile(uk, kc, ap, a_step, bp, b_step, c, ldc, rows, cols, g.alpha, beta);
            }
          }
        }
      }
    }
  }
}

// C = beta * C (K == 0 or alpha == 0): no product to add; beta == 0 writes zeros.
void scale_c(const GemmArgs& g) {
  for (int i = 0; i < g.M; ++i) {
    float* c = g.C + static_cast<long>(i) * g.ldc;
    if (g.beta == 0.0f) {
      std::fill(c, c + g.N, 0.0f);
    } else {
      for (int j = 0; j < g.N; ++j) c[j] *= g.beta;
    }
  }
}

void check_args(const GemmArgs& g) {
  if (g.M < 0 || g.N < 0 || g.K < 0) fail("sgemm: negative size M=", g.M, " N=", g.N, " K=", g.K);
  const int a_cols = g.trans_a == Trans::no ? g.K : g.M;
  const int b_cols = g.trans_b == Trans::no ? g.N : g.K;
  if (g.lda < std::max(1, a_cols)) fail("sgemm: lda=", g.lda, " is less than op(A)'s row length ", a_cols);
  if (g.ldb < std::max(1, b_cols)) fail("sgemm: ldb=", g.ldb, " is less than op(B)'s row length ", b_cols);
  if (g.ldc < std::max(1, g.N)) fail("sgemm: ldc=", g.ldc, " is less than N=", g.N);
}

// Split the M x N tile grid into tm x tn = threads rectangles; pick the factorisation with
// the smallest largest rectangle, then the least duplicated packing (perimeter).
void choose_grid(int m_tiles, int n_tiles, int threads, int& tm, int& tn) {
  long best_area = -1, best_perim = 0;
  for (int a = 1; a <= threads; ++a) {
    if (threads % a) continue;
    const int b = threads / a;
    if (a > m_tiles || b > n_tiles) continue;
    const long rm = (m_tiles + a - 1) / a, rn = (n_tiles + b - 1) / b;
    const long area = rm * rn, perim = rm + rn;
    if (best_area < 0 || area < best_area || (area == best_area && perim < best_perim)) {
      best_area = area;
      best_perim = perim;
      tm = a;
      tn = b;
    }
  }
  if (best_area < 0) tm = tn = 1;
}

}  // namespace

void sgemm_packed(const MicroKernel& uk, const GemmArgs& g, int threads, Packing packing) {
  check_args(g);
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0 || g.alpha == 0.0f) return scale_c(g);
  const Plan plan = choose_plan(g, packing);
  const int m_tiles = (g.M + uk.mr - 1) / uk.mr, n_tiles = (g.N + uk.nr - 1) / uk.nr;
  threads = std::max(1, std::min(threads, m_tiles * n_tiles));
  if (threads == 1 || omp_in_parallel()) {
    gemm_rectangle(uk, g, plan, 0, g.M, 0, g.N);
    return;
  }
  int tm = 1, tn = 1;
  choose_grid(m_tiles, n_tiles, threads, tm, tn);
  const int used = tm * tn;
#pragma omp parallel num_threads(used)
  {
    const int t = omp_get_thread_num();
    if (t < used && omp_get_num_threads() == used) {
      const int ti = t / tn, tj = t % tn;
      const int m0 = std::min(g.M, static_cast<int>(static_cast<long>(m_tiles) * ti / tm) * uk.mr);
      const int m1 = std::min(g.M, static_cast<int>(static_cast<long>(m_tiles) * (ti + 1) / tm) * uk.mr);
      const int n0 = std::min(g.N, static_cast<int>(static_cast<long>(n_tiles) * tj / tn) * uk.nr);
      const int n1 = std::min(g.N, static_cast<int>(static_cast<long>(n_tiles) * (tj + 1) / tn) * uk.nr);
      if (m0 < m1 && n0 < n1) gemm_rectangle(uk, g, plan, m0, m1, n0, n1);
    } else if (t == 0) {
      // The runtime gave fewer threads than asked (nested or limited): do it all here.
      gemm_rectangle(uk, g, plan, 0, g.M, 0, g.N);
    }
  }
}

const MicroKernel& microkernel_best() {
  switch (cpu_isa()) {
    case CpuIsa::avx512: return microkernel_avx512();
    case CpuIsa::avx2: return microkernel_avx2();
    case CpuIsa::generic: break;
  }
  return microkernel_generic();
}

void pack_rows_k_major(int mr, const float* src, long lda, int kc, float* dst) {
  switch (mr) {
    case 4: return pack_a_rows<4>(src, lda, kc, dst);
    case 6: return pack_a_rows<6>(src, lda, kc, dst);
    case 12: return pack_a_rows<12>(src, lda, kc, dst);
    default:
      for (int k = 0; k < kc; ++k)
        for (int r = 0; r < mr; ++r) dst[k * mr + r] = src[r * lda + k];
  }
}

const MicroKernel& microkernel_for_shape(int rows, int cols) {
  const MicroKernel& best = microkernel_best();
  if (&best == &microkernel_avx2() && rows > 0 && cols > 0) {
    const MicroKernel& narrow = microkernel_avx2_4x24();
    auto padded = [&](const MicroKernel& k) {
      return static_cast<long>((rows + k.mr - 1) / k.mr * k.mr) * ((cols + k.nr - 1) / k.nr * k.nr);
    };
    if (padded(narrow) < padded(best)) return narrow;
  }
  return best;
}

}  // namespace gemm

// Each thread gets at least this many multiply-adds (~40 us of one core): below it the
// fork/join, and on a loaded machine the wait for a second core to be scheduled, cost more
// than the split saves.
constexpr double kMinFmasPerThread = 1 << 20;

void sgemm(const GemmArgs& g) {
  const double fmas = static_cast<double>(g.M) * g.N * g.K;
  const int max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int threads = std::max(1, std::min(max_threads, static_cast<int>(fmas / kMinFmasPerThread)));
  gemm::sgemm_packed(gemm::microkernel_best(), g, threads);
}

const char* sgemm_microkernel_name() { return gemm::microkernel_best().name; }

}  // namespace convoy::kernels::cpu
