// Fast CPU 2-D pooling. Planes (n, c) are independent, so OpenMP splits the N*C planes
// with a static schedule (results do not depend on the thread count at all). Within a
// plane the clipped window bounds of every output row and column are computed once, and
// the window is reduced separably (along rows, then along columns; see below); a plane of
// a CIFAR-sized layer (<= 32x32 floats) and its H x Q scratch stay in L1.
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/pool2d_check.h"
#include "kernels/cpu/thread_scratch.h"
#include "kernels/pool2d.h"

namespace convoy::kernels::cpu {

namespace {

// In-bounds [begin, end) of each window along one axis.
// Outputs [inner_begin, inner_end) have their whole window inside (begin = o*stride - pad,
// end = begin + window).
struct Spans {
  std::vector<int> begin, end;
  int stride = 1, pad = 0, window = 1;
  int inner_begin = 0, inner_end = 0;
};

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

// Inner windows [qa, qb) of a row, window offset by offset over all outputs at once: a loop
// over q with a fixed stride ST (a compile-time constant where it can be, so that the
// strided loads become vector shuffles rather than gathers).
template <int ST>
void inner_row_max(const float* __restrict r, int qa, int qb, int stride, int off, int window, float* __restrict best,
                   int* __restrict arg) {
  const int st = ST > 0 ? ST : stride;
  for (int q = qa; q < qb; ++q) best[q] = r[q * st + off];
  if (arg)
    for (int q = qa; q < qb; ++q) arg[q] = q * st + off;
  for (int t = 1; t < window; ++t) {
    const float* __restrict rt = r + off + t;
    if (arg) {
      for (int q = qa; q < qb; ++q) {
        const float v = rt[q * st];
        const int take = -static_cast<int>(v > best[q]);  // all ones or zero: a blend without
        best[q] = v > best[q] ? v : best[q];               // branches, also in SSE2
        arg[q] = (arg[q] & ~take) | ((q * st + off + t) & take);
      }
    } else {
      for (int q = qa; q < qb; ++q) best[q] = rt[q * st] > best[q] ? rt[q * st] : best[q];
    }
  }
}

// The maximum of each window along one row r (and, with arg, its first column: ties keep
// the leftmost). Inner windows go through inner_row_max; the clipped ones at the edges are
// reduced one by one.
void row_max(const float* __restrict r, const Spans& cols, float* __restrict best, int* __restrict arg) {
  const int Q = static_cast<int>(cols.begin.size());
  auto clipped = [&](int q) {
    int a = cols.begin[q];
    float b = r[a];
    for (int w = a + 1; w < cols.end[q]; ++w) {  // selects, not branches: random data
      const bool greater = r[w] > b;             // would mispredict half the time
      b = greater ? r[w] : b;
      a = greater ? w : a;
    }
    best[q] = b;
    if (arg) arg[q] = a;
  };
  for (int q = 0; q < cols.inner_begin; ++q) clipped(q);
  const int qa = cols.inner_begin, qb = cols.inner_end, off = -cols.pad;
  switch (cols.stride) {
    case 1: inner_row_max<1>(r, qa, qb, 1, off, cols.window, best, arg); break;
    case 2: inner_row_max<2>(r, qa, qb, 2, off, cols.window, best, arg); break;
    default: inner_row_max<0>(r, qa, qb, cols.stride, off, cols.window, best, arg); break;
  }
  for (int q = qb; q < Q; ++q) clipped(q);
}

// Separable passes: a window is (rows span) x (cols span), so a plane is reduced along one
// axis into a thread-local scratch, then along the other; together they do about
// (H*Q*S + P*Q*R) operations with no per-window bookkeeping, against P*Q*R*S before. Max
// forward goes down the columns first (see there); the other passes go along each input row
// first (H x Q scratch), which keeps the backward's first maximum in row-major order.

float* scratch_floats(size_t n) { return thread_scratch_as<float>(ScratchSlot::pool_values, n); }
int* scratch_ints(size_t n) { return thread_scratch_as<int>(ScratchSlot::pool_indices, n); }
float* scratch_floats_2(size_t n) { return thread_scratch_as<float>(ScratchSlot::pool_window_values, n); }
int* scratch_ints_2(size_t n) { return thread_scratch_as<int>(ScratchSlot::pool_window_rows, n); }

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
  for (int p = 0; p < P; ++p) row_max(vm + static_cast<size_t>(p) * s.W, cols, y + p * Q, nullptr);
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

// The first maximal element in row-major order is, among the window's rows, the first row
// whose row-maximum is strictly the largest, at that row's first maximal column.
void max_backward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x,
                        const float* dy, float* dx) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  float* hm = scratch_floats(static_cast<size_t>(s.H) * Q);
  int* ha = scratch_ints(static_cast<size_t>(s.H) * Q);
  for (int h = 0; h < s.H; ++h) row_max(x + h * s.W, cols, hm + h * Q, ha + h * Q);
  // Then down the rows of each window, all q at once (contiguous, branch-free), and the
  // gradient goes to the chosen element.
  float* vb = scratch_floats_2(Q);
  int* vh = scratch_ints_2(Q);
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int p = 0; p < P; ++p) {
    const int h0 = rows.begin[p];
    for (int q = 0; q < Q; ++q) vb[q] = hm[h0 * Q + q], vh[q] = h0;
    for (int h = h0 + 1; h < rows.end[p]; ++h) {
      const float* __restrict hr = hm + h * Q;
      for (int q = 0; q < Q; ++q) {
        const int take = -static_cast<int>(hr[q] > vb[q]);
        vb[q] = hr[q] > vb[q] ? hr[q] : vb[q];
        vh[q] = (vh[q] & ~take) | (h & take);
      }
    }
    for (int q = 0; q < Q; ++q) dx[vh[q] * s.W + ha[vh[q] * Q + q]] += dy[p * Q + q];
  }
}

void avg_backward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* dy, float* dx) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  // t[h][q] = sum over outputs p whose rows cover h of dy[p][q] / count(p, q); then
  // dx[h][w] = sum over q whose columns cover w of t[h][q].
  float* t = scratch_floats(static_cast<size_t>(s.H) * Q);
  std::fill(t, t + static_cast<size_t>(s.H) * Q, 0.0f);
  for (int p = 0; p < P; ++p) {
    const float rcount = static_cast<float>(rows.end[p] - rows.begin[p]);
    for (int h = rows.begin[p]; h < rows.end[p]; ++h)
      for (int q = 0; q < Q; ++q)
        t[h * Q + q] += dy[p * Q + q] / (rcount * static_cast<float>(cols.end[q] - cols.begin[q]));
  }
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int h = 0; h < s.H; ++h) {
    float* dr = dx + h * s.W;
    const float* tr = t + h * Q;
    for (int q = 0; q < Q; ++q)
      for (int w = cols.begin[q]; w < cols.end[q]; ++w) dr[w] += tr[q];
  }
}

}  // namespace

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
  const long planes = static_cast<long>(s.N) * s.C;
  const size_t in = static_cast<size_t>(s.H) * s.W, out = static_cast<size_t>(P) * Q;
#pragma omp parallel for schedule(static) if (planes > 1 && !omp_in_parallel())
  for (long i = 0; i < planes; ++i) {
    if (kind == PoolKind::max)
      max_backward_plane(s, rows, cols, x + i * in, dy + i * out, dx + i * in);
    else
      avg_backward_plane(s, rows, cols, dy + i * out, dx + i * in);
  }
}

}  // namespace convoy::kernels::cpu
