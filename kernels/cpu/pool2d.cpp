// Fast CPU 2-D pooling. Planes (n, c) are independent, so OpenMP splits the N*C planes
// with a static schedule (results do not depend on the thread count at all). Within a
// plane the clipped window bounds of every output row and column are computed once, and
// the window is reduced separably (along rows, then along columns; see below); a plane of
// a CIFAR-sized layer (<= 32x32 floats) and its H x Q scratch stay in L1.
#include <omp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/pool2d_check.h"
#include "kernels/cpu/pool2d_internal.h"
#include "kernels/cpu/thread_scratch.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cpu {

Spans spans(int outputs, int stride, int pad, int window, int size) {
  Spans sp;
  sp.begin.resize(outputs);
  sp.end.resize(outputs);
  sp.stride = stride, sp.pad = pad, sp.window = window;
  sp.inner_begin = outputs, sp.inner_end = outputs;
  for (int o = 0; o < outputs; ++o) {
    const int start = o * stride - pad;
    sp.begin[o] = std::max(start, 0);
    sp.end[o] = std::min(start + window, size);
    const bool inner = start >= 0 && start + window <= size;
    if (inner && sp.inner_begin == outputs) sp.inner_begin = o;
    if (inner) sp.inner_end = o + 1;
  }
  if (sp.inner_begin == outputs) sp.inner_begin = sp.inner_end = 0;
  return sp;
}

namespace {

// Inner windows [qa, qb) of a row, window offset by offset over all outputs at once: a loop
// over q with a fixed stride ST (a compile-time constant where it can be, so that the
// strided loads become vector shuffles rather than gathers).
template <int ST>
void inner_row_max(const float* __restrict r, int qa, int qb, int stride, int off, int window,
                   float* __restrict best) {
  const int st = ST > 0 ? ST : stride;
  for (int q = qa; q < qb; ++q) best[q] = r[q * st + off];
  for (int t = 1; t < window; ++t) {
    const float* __restrict rt = r + off + t;
    for (int q = qa; q < qb; ++q) best[q] = rt[q * st] > best[q] ? rt[q * st] : best[q];
  }
}

// The maximum of each window along one row r. Inner windows go through inner_row_max; the
// clipped ones at the edges are reduced one by one.
void row_max(const float* __restrict r, const Spans& cols, float* __restrict best) {
  const int Q = static_cast<int>(cols.begin.size());
  auto clipped = [&](int q) {
    float b = r[cols.begin[q]];
    for (int w = cols.begin[q] + 1; w < cols.end[q]; ++w) b = r[w] > b ? r[w] : b;
    best[q] = b;
  };
  for (int q = 0; q < cols.inner_begin; ++q) clipped(q);
  const int qa = cols.inner_begin, qb = cols.inner_end, off = -cols.pad;
  switch (cols.stride) {
    case 1: inner_row_max<1>(r, qa, qb, 1, off, cols.window, best); break;
    case 2: inner_row_max<2>(r, qa, qb, 2, off, cols.window, best); break;
    default: inner_row_max<0>(r, qa, qb, cols.stride, off, cols.window, best); break;
  }
  for (int q = qb; q < Q; ++q) clipped(q);
}

// Separable passes: a window is (rows span) x (cols span), so a plane is reduced along one
// axis into a thread-local scratch, then along the other; together they do about
// (H*Q*S + P*Q*R) operations with no per-window bookkeeping, against P*Q*R*S before. Max
// goes down the columns first (see there); average along each input row first (H x Q scratch).

float* scratch_floats(size_t n) { return thread_scratch_as<float>(ScratchSlot::pool_values, n); }
int* scratch_ints(size_t n) { return thread_scratch_as<int>(ScratchSlot::pool_indices, n); }
float* scratch_floats_2(size_t n) { return thread_scratch_as<float>(ScratchSlot::pool_window_values, n); }

// Forward max: along columns first (P rows of W, contiguous, vectorises), then along rows of
// that P x W scratch, so the scalar pass runs over P rather than H rows. max is exact, so the
// order of the two passes does not change y.
void max_forward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  float* vm = scratch_floats(static_cast<size_t>(P) * s.W);
  for (int p = 0; p < P; ++p) {
    float* __restrict vr = vm + static_cast<size_t>(p) * s.W;
    const float* first = x + rows.begin[p] * s.W;
    for (int w = 0; w < s.W; ++w) vr[w] = first[w];
    for (int h = rows.begin[p] + 1; h < rows.end[p]; ++h) {
      const float* __restrict xr = x + h * s.W;
      for (int w = 0; w < s.W; ++w) vr[w] = xr[w] > vr[w] ? xr[w] : vr[w];
    }
  }
  for (int p = 0; p < P; ++p) row_max(vm + static_cast<size_t>(p) * s.W, cols, y + p * Q);
}

void avg_forward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  float* hs = scratch_floats(static_cast<size_t>(s.H) * Q);
  for (int h = 0; h < s.H; ++h) {
    const float* xr = x + h * s.W;
    for (int q = 0; q < Q; ++q) {
      float sum = 0.0f;
      for (int w = cols.begin[q]; w < cols.end[q]; ++w) sum += xr[w];
      hs[h * Q + q] = sum;
    }
  }
  for (int p = 0; p < P; ++p) {
    float* yr = y + p * Q;
    for (int q = 0; q < Q; ++q) yr[q] = 0.0f;
    for (int h = rows.begin[p]; h < rows.end[p]; ++h) {
      const float* hr = hs + h * Q;
      for (int q = 0; q < Q; ++q) yr[q] += hr[q];
    }
    const float rcount = static_cast<float>(rows.end[p] - rows.begin[p]);
    for (int q = 0; q < Q; ++q) yr[q] /= rcount * static_cast<float>(cols.end[q] - cols.begin[q]);
  }
}

// The inner windows [inner_begin, inner_end) of one output row from the column maxima vm
// (rows vh), all q at once per window column t, branch-free, with a fixed stride ST where it
// can be (strided loads become shuffles): y = maximum, arg = its column, bh = its row.
template <int ST>
void inner_argmax_row(const float* __restrict vm, const int* __restrict vh, const Spans& cols, int stride,
                      float* __restrict y, int32_t* __restrict arg, int* __restrict bh) {
  const int st = ST > 0 ? ST : stride, off = -cols.pad, qa = cols.inner_begin, qb = cols.inner_end;
  for (int q = qa; q < qb; ++q) {
    y[q] = vm[q * st + off];
    bh[q] = vh[q * st + off];
    arg[q] = q * st + off;
  }
  for (int t = 1; t < cols.window; ++t)
    for (int q = qa; q < qb; ++q) {
      const int w = q * st + off + t;
      const float v = vm[w];
      const int h = vh[w];
      const int take = -static_cast<int>((v > y[q]) | ((v == y[q]) & (h < bh[q])));
      y[q] = take ? v : y[q];
      bh[q] = (bh[q] & ~take) | (h & take);
      arg[q] = (arg[q] & ~take) | (w & take);
    }
}

#if defined(__SSE2__)
// Stride 2 (the common pooling), four outputs at a time: the window column t of outputs
// q0..q0+3 is every other value of vm[2*q0 + off + t ...], one shuffle of two loads. vm and vh
// hold at least 8 values past the last column (read, never used).
template <>
void inner_argmax_row<2>(const float* __restrict vm, const int* __restrict vh, const Spans& cols, int,
                         float* __restrict y, int32_t* __restrict arg, int* __restrict bh) {
  const int off = -cols.pad, qa = cols.inner_begin, qb = cols.inner_end;
  int q0 = qa;
  for (; q0 + 4 <= qb; q0 += 4) {
    const float* base = vm + 2 * q0 + off;
    const float* hbase = reinterpret_cast<const float*>(vh) + 2 * q0 + off;
    auto evens = [](const float* at) {
      return _mm_shuffle_ps(_mm_loadu_ps(at), _mm_loadu_ps(at + 4), _MM_SHUFFLE(2, 0, 2, 0));
    };
    __m128 best = evens(base);
    __m128i best_h = _mm_castps_si128(evens(hbase));
    const __m128i w0 = _mm_add_epi32(_mm_set1_epi32(2 * q0 + off), _mm_set_epi32(6, 4, 2, 0));
    __m128i best_w = w0;
    for (int t = 1; t < cols.window; ++t) {
      const __m128 v = evens(base + t);
      const __m128i h = _mm_castps_si128(evens(hbase + t));
      const __m128i take = _mm_or_si128(
          _mm_castps_si128(_mm_cmpgt_ps(v, best)),
          _mm_and_si128(_mm_castps_si128(_mm_cmpeq_ps(v, best)), _mm_cmplt_epi32(h, best_h)));
      best = _mm_castsi128_ps(_mm_or_si128(_mm_andnot_si128(take, _mm_castps_si128(best)),
                                           _mm_and_si128(take, _mm_castps_si128(v))));
      best_h = _mm_or_si128(_mm_andnot_si128(take, best_h), _mm_and_si128(take, h));
      best_w = _mm_or_si128(_mm_andnot_si128(take, best_w), _mm_and_si128(take, _mm_add_epi32(w0, _mm_set1_epi32(t))));
    }
    _mm_storeu_ps(y + q0, best);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bh + q0), best_h);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(arg + q0), best_w);
  }
  for (int q = q0; q < qb; ++q) {  // the last few, one at a time
    int bw = 2 * q + off;
    float b = vm[bw];
    int h = vh[bw];
    for (int w = bw + 1; w < 2 * q + off + cols.window; ++w) {
      const bool take = vm[w] > b || (vm[w] == b && vh[w] < h);
      b = take ? vm[w] : b;
      h = take ? vh[w] : h;
      bw = take ? w : bw;
    }
    y[q] = b, bh[q] = h, arg[q] = bw;
  }
}
#endif

// Each window's maximum and where it is, one output row at a time: down the window's rows
// first, for every column at once (contiguous, branch-free: vm[w] the column's maximum, vh[w]
// its first row), then along each window's columns. The first maximal element in row-major
// order has the smallest row among the maximal ones, then the smallest column, so along the
// columns a later one wins on a greater value, or on an equal value from an earlier row.
void max_argmax_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y,
                      int32_t* arg) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  constexpr int kSlack = 8;  // values read past the last column by the stride-2 pass
  int* ints = scratch_ints(static_cast<size_t>(s.W) + kSlack + Q);  // the caller may hold the pool_window slots
  float* __restrict vm = scratch_floats(static_cast<size_t>(s.W) + kSlack);
  int* __restrict vh = ints;
  int* __restrict row_scratch = ints + s.W + kSlack;
  std::fill(vm + s.W, vm + s.W + kSlack, 0.0f);
  std::fill(vh + s.W, vh + s.W + kSlack, 0);
  for (int p = 0; p < P; ++p) {
    const int h0 = rows.begin[p];
    const float* first = x + h0 * s.W;
    for (int w = 0; w < s.W; ++w) vm[w] = first[w], vh[w] = h0;
    for (int h = h0 + 1; h < rows.end[p]; ++h) {
      const float* __restrict xr = x + h * s.W;
      int w = 0;
#if defined(__SSE2__)
      const __m128i hv = _mm_set1_epi32(h);
      for (; w + 4 <= s.W; w += 4) {  // GCC leaves the mixed float/int select below scalar
        const __m128 v = _mm_loadu_ps(xr + w), best = _mm_loadu_ps(vm + w);
        const __m128i take = _mm_castps_si128(_mm_cmpgt_ps(v, best));
        const __m128i rows_so_far = _mm_loadu_si128(reinterpret_cast<const __m128i*>(vh + w));
        _mm_storeu_ps(vm + w, _mm_max_ps(v, best));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(vh + w),
                         _mm_or_si128(_mm_andnot_si128(take, rows_so_far), _mm_and_si128(take, hv)));
      }
#endif
      for (; w < s.W; ++w) {
        const int take = -static_cast<int>(xr[w] > vm[w]);
        vm[w] = xr[w] > vm[w] ? xr[w] : vm[w];
        vh[w] = (vh[w] & ~take) | (h & take);
      }
    }
    float* __restrict yr = y + p * Q;
    int32_t* __restrict ar = arg + p * Q;
    int* __restrict bh = row_scratch;
    auto clipped = [&](int q) {
      int bw = cols.begin[q];
      float best = vm[bw];
      int h = vh[bw];
      for (int w = bw + 1; w < cols.end[q]; ++w) {
        const bool take = vm[w] > best || (vm[w] == best && vh[w] < h);
        best = take ? vm[w] : best;
        h = take ? vh[w] : h;
        bw = take ? w : bw;
      }
      yr[q] = best;
      ar[q] = h * s.W + bw;
    };
    for (int q = 0; q < cols.inner_begin; ++q) clipped(q);
    switch (cols.stride) {
      case 1: inner_argmax_row<1>(vm, vh, cols, 1, yr, ar, bh); break;
      case 2: inner_argmax_row<2>(vm, vh, cols, 2, yr, ar, bh); break;
      default: inner_argmax_row<0>(vm, vh, cols, cols.stride, yr, ar, bh); break;
    }
    for (int q = cols.inner_end; q < Q; ++q) clipped(q);
    for (int q = cols.inner_begin; q < cols.inner_end; ++q) ar[q] += bh[q] * s.W;
  }
}

// The gradient goes to each window's first maximal element.
void max_backward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x,
                        const float* dy, float* dx) {
  const int n = static_cast<int>(rows.begin.size() * cols.begin.size());
  float* best = scratch_floats_2(n);
  int32_t* arg = thread_scratch_as<int32_t>(ScratchSlot::pool_window_rows, n);
  max_argmax_plane(s, rows, cols, x, best, arg);
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int o = 0; o < n; ++o) dx[arg[o]] += dy[o];
}

// counts[p * Q + q]: the in-bounds elements of window (p, q), the average's divisor.
std::vector<float> window_counts(const Spans& rows, const Spans& cols) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  std::vector<float> counts(static_cast<size_t>(P) * Q);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q)
      counts[p * Q + q] = static_cast<float>(rows.end[p] - rows.begin[p]) * static_cast<float>(cols.end[q] - cols.begin[q]);
  return counts;
}

void avg_backward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* counts,
                        const float* dy, float* dx) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  // g[p][q] = dy[p][q] / count(p, q), once per output; t[h][q] = sum over outputs p whose rows
  // cover h of g[p][q], p in order; then dx[h][w] = sum over q whose columns cover w of t[h][q].
  float* __restrict g = scratch_floats_2(static_cast<size_t>(P) * Q);
  for (int o = 0; o < P * Q; ++o) g[o] = dy[o] / counts[o];
  float* __restrict t = scratch_floats(static_cast<size_t>(s.H) * Q);
  std::fill(t, t + static_cast<size_t>(s.H) * Q, 0.0f);
  for (int p = 0; p < P; ++p)
    for (int h = rows.begin[p]; h < rows.end[p]; ++h)
      for (int q = 0; q < Q; ++q) t[h * Q + q] += g[p * Q + q];
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int h = 0; h < s.H; ++h) {
    float* __restrict dr = dx + h * s.W;
    const float* __restrict tr = t + h * Q;
    for (int q = 0; q < Q; ++q)
      for (int w = cols.begin[q]; w < cols.end[q]; ++w) dr[w] += tr[q];
  }
}

}  // namespace

void max_pool_plane_argmax(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y,
                           int32_t* arg) {
  max_argmax_plane(s, rows, cols, x, y, arg);
}

void pool2d_forward(PoolKind kind, const Pool2dShape& s, const float* x, float* y) {
  check_pool2d_shape(s, "pool2d_forward");
  const int P = s.P(), Q = s.Q();
  const Spans rows = spans(P, s.stride_h, s.pad_h, s.R, s.H), cols = spans(Q, s.stride_w, s.pad_w, s.S, s.W);
  const long planes = static_cast<long>(s.N) * s.C;
  const size_t in = static_cast<size_t>(s.H) * s.W, out = static_cast<size_t>(P) * Q;
#pragma omp parallel for schedule(static) if (planes > 1 && !omp_in_parallel())
  for (long i = 0; i < planes; ++i) {
    if (kind == PoolKind::max)
      max_forward_plane(s, rows, cols, x + i * in, y + i * out);
    else
      avg_forward_plane(s, rows, cols, x + i * in, y + i * out);
  }
}

void pool2d_backward(PoolKind kind, const Pool2dShape& s, const float* x, const float* dy, float* dx) {
  check_pool2d_shape(s, "pool2d_backward");
  const int P = s.P(), Q = s.Q();
  const Spans rows = spans(P, s.stride_h, s.pad_h, s.R, s.H), cols = spans(Q, s.stride_w, s.pad_w, s.S, s.W);
  const std::vector<float> counts = kind == PoolKind::avg ? window_counts(rows, cols) : std::vector<float>();
  const long planes = static_cast<long>(s.N) * s.C;
  const size_t in = static_cast<size_t>(s.H) * s.W, out = static_cast<size_t>(P) * Q;
#pragma omp parallel for schedule(static) if (planes > 1 && !omp_in_parallel())
  for (long i = 0; i < planes; ++i) {
    if (kind == PoolKind::max)
      max_backward_plane(s, rows, cols, x + i * in, dy + i * out, dx + i * in);
    else
      avg_backward_plane(s, rows, cols, counts.data(), dy + i * out, dx + i * in);
  }
}

}  // namespace convoy::kernels::cpu
