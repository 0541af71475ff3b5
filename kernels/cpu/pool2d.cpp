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
struct Spans {
  std::vector<int> begin, end;
};

Spans spans(int outputs, int stride, int pad, int window, int size) {
  Spans sp;
  sp.begin.resize(outputs);
  sp.end.resize(outputs);
  for (int o = 0; o < outputs; ++o) {
    const int start = o * stride - pad;
    sp.begin[o] = std::max(start, 0);
    sp.end[o] = std::min(start + window, size);
  }
  return sp;
}

// Separable passes: a window is (rows span) x (cols span), so a plane is first reduced along
// each input row to Q columns (h_*: H x Q, in a thread-local scratch), then along columns
// to P rows. The second pass runs over contiguous q and vectorises; together they do
// (H*Q*S + P*Q*R) operations with no per-window bookkeeping, against P*Q*R*S before.

float* scratch_floats(size_t n) { return thread_scratch_as<float>(ScratchSlot::pool_values, n); }
int* scratch_ints(size_t n) { return thread_scratch_as<int>(ScratchSlot::pool_indices, n); }

void max_forward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  float* hm = scratch_floats(static_cast<size_t>(s.H) * Q);
  for (int h = 0; h < s.H; ++h) {
    const float* xr = x + h * s.W;
    for (int q = 0; q < Q; ++q) {
      float best = xr[cols.begin[q]];
      for (int w = cols.begin[q] + 1; w < cols.end[q]; ++w) best = xr[w] > best ? xr[w] : best;
      hm[h * Q + q] = best;
    }
  }
  for (int p = 0; p < P; ++p) {
    float* yr = y + p * Q;
    const float* first = hm + rows.begin[p] * Q;
    for (int q = 0; q < Q; ++q) yr[q] = first[q];
    for (int h = rows.begin[p] + 1; h < rows.end[p]; ++h) {
      const float* hr = hm + h * Q;
      for (int q = 0; q < Q; ++q) yr[q] = hr[q] > yr[q] ? hr[q] : yr[q];
    }
  }
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
  for (int h = 0; h < s.H; ++h) {
    const float* xr = x + h * s.W;
    for (int q = 0; q < Q; ++q) {
      int arg = cols.begin[q];
      float best = xr[arg];
      for (int w = arg + 1; w < cols.end[q]; ++w) {  // selects, not branches: random data
        const bool greater = xr[w] > best;          // would mispredict half the time
        best = greater ? xr[w] : best;
        arg = greater ? w : arg;
      }
      hm[h * Q + q] = best;
      ha[h * Q + q] = arg;
    }
  }
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      int bh = rows.begin[p];
      float best = hm[bh * Q + q];
      for (int h = bh + 1; h < rows.end[p]; ++h) {
        const bool greater = hm[h * Q + q] > best;
        best = greater ? hm[h * Q + q] : best;
        bh = greater ? h : bh;
      }
      dx[bh * s.W + ha[bh * Q + q]] += dy[p * Q + q];
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
