// Fast CPU 2-D pooling. Planes (n, c) are independent, so OpenMP splits the N*C planes
// with a static schedule (results do not depend on the thread count at all). Within a
// plane the clipped window bounds of every output row and column are computed once, so
// the inner loops are branch-free runs over in-bounds elements; a plane of a CIFAR-sized
// layer (<= 32x32 floats) stays in L1 while its windows overlap.
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/pool2d_check.h"
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

void max_forward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      float best = -std::numeric_limits<float>::infinity();
      for (int h = rows.begin[p]; h < rows.end[p]; ++h) {
        const float* xr = x + h * s.W;
        for (int w = cols.begin[q]; w < cols.end[q]; ++w) best = std::max(best, xr[w]);
      }
      y[p * Q + q] = best;
    }
}

void avg_forward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x, float* y) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      float sum = 0.0f;
      for (int h = rows.begin[p]; h < rows.end[p]; ++h) {
        const float* xr = x + h * s.W;
        for (int w = cols.begin[q]; w < cols.end[q]; ++w) sum += xr[w];
      }
      const int count = (rows.end[p] - rows.begin[p]) * (cols.end[q] - cols.begin[q]);
      y[p * Q + q] = sum / static_cast<float>(count);
    }
}

void max_backward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* x,
                        const float* dy, float* dx) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      int arg = rows.begin[p] * s.W + cols.begin[q];
      float best = x[arg];
      for (int h = rows.begin[p]; h < rows.end[p]; ++h)
        for (int w = cols.begin[q]; w < cols.end[q]; ++w)
          if (x[h * s.W + w] > best) {  // strict: the first maximal element keeps the gradient
            best = x[h * s.W + w];
            arg = h * s.W + w;
          }
      dx[arg] += dy[p * Q + q];
    }
}

void avg_backward_plane(const Pool2dShape& s, const Spans& rows, const Spans& cols, const float* dy, float* dx) {
  const int P = static_cast<int>(rows.begin.size()), Q = static_cast<int>(cols.begin.size());
  std::fill(dx, dx + s.H * s.W, 0.0f);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      const int count = (rows.end[p] - rows.begin[p]) * (cols.end[q] - cols.begin[q]);
      const float share = dy[p * Q + q] / static_cast<float>(count);
      for (int h = rows.begin[p]; h < rows.end[p]; ++h) {
        float* dr = dx + h * s.W;
        for (int w = cols.begin[q]; w < cols.end[q]; ++w) dr[w] += share;
      }
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
