// CPU 2-D convolution, variant "im2col": im2col + cpu::sgemm, parallel over images.
//
// Work split: OpenMP threads each take a fixed contiguous range of images (a static
// schedule written out by hand), so results depend only on the thread count. Inside the
// region cpu::sgemm runs single-threaded on the calling thread. When the batch is smaller
// than the thread count the images run one after another and sgemm parallelises itself.
//
// Blocking: a GEMM over one image has P*Q columns, which is too narrow to be efficient on
// late, small layers (8x8 -> 64, 4x4 -> 16 columns). So each GEMM covers a group of
// images laid side by side in one col matrix (C*R*S, group*P*Q) with about
// kTargetColumns columns; the output group is then scattered back to NCHW (fusing the
// bias). 1x1 stride-1 unpadded convolutions need no im2col: x itself is the col matrix.
//
//   forward          y_n[K, PQ]    = W[K, CRS] x col_n[CRS, PQ] + bias
//   backward data    dcol_n[CRS,PQ] = W^T x dy_n[K, PQ];  dx_n = col2im(dcol_n)
//   backward weights dW[K, CRS]   += sum_n dy_n x col_n^T  (per-thread partials, summed
//                                    in thread order: deterministic for a thread count)
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_check.h"
#include "kernels/cpu/conv2d_parallel.h"
#include "kernels/cpu/conv2d_variants.h"
#include "kernels/cpu/im2col.h"
#include "kernels/gemm.h"

namespace convoy::kernels::cpu {

namespace {

constexpr int kTargetColumns = 256;  // columns per GEMM: enough for the micro-kernel to stream

using conv::for_image_ranges;
using conv::scratch;

struct Geometry {
  int P, Q, PQ, CRS;
  int group;  // images per GEMM
  bool pointwise;  // 1x1, stride 1, no padding: col == x
  size_t x_image, y_image;
};

Geometry geometry(const Conv2dShape& s) {
  Geometry g;
  g.P = s.P();
  g.Q = s.Q();
  g.PQ = g.P * g.Q;
  g.CRS = s.C * s.R * s.S;
  g.pointwise = s.R == 1 && s.S == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 && s.pad_w == 0;
  g.group = g.pointwise ? 1 : std::max(1, kTargetColumns / g.PQ);
  g.x_image = static_cast<size_t>(s.C) * s.H * s.W;
  g.y_image = static_cast<size_t>(s.K) * g.PQ;
  return g;
}

// Packs dy of images [n, n+b) into one (K, b*PQ) matrix.
void pack_dy(const Conv2dShape& s, const Geometry& g, const float* dy, int b, float* out) {
  const int ld = b * g.PQ;
  for (int i = 0; i < b; ++i)
    for (int k = 0; k < s.K; ++k)
      std::memcpy(out + static_cast<size_t>(k) * ld + i * g.PQ, dy + i * g.y_image + static_cast<size_t>(k) * g.PQ,
                  sizeof(float) * g.PQ);
}

void gemm(Trans ta, Trans tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
          float* C, int ldc) {
  GemmArgs a;
  a.trans_a = ta;
  a.trans_b = tb;
  a.M = M;
  a.N = N;
  a.K = K;
  a.A = A;
  a.lda = lda;
  a.B = B;
  a.ldb = ldb;
  a.beta = beta;
  a.C = C;
  a.ldc = ldc;
  sgemm(a);
}

}  // namespace

void conv2d_forward_im2col(const Conv2dShape& s, const float* x, const float* w, const float* bias, float* y) {
  check_conv2d_shape(s, "conv2d_forward");
  const Geometry g = geometry(s);
  for_image_ranges(s.N, [&](int n0, int n1, int, int) {
    for (int n = n0; n < n1; n += g.group) {
      const int b = std::min(g.group, n1 - n);
      const int ld = b * g.PQ;
      const float* col = x + n * g.x_image;
      if (!g.pointwise) {
        float* buf = scratch(0, static_cast<size_t>(g.CRS) * ld);
        for (int i = 0; i < b; ++i) im2col(s, x + (n + i) * g.x_image, buf + i * g.PQ, ld);
        col = buf;
      }
      float* out = b == 1 ? y + n * g.y_image : scratch(1, static_cast<size_t>(s.K) * ld);
      gemm(Trans::no, Trans::no, s.K, ld, g.CRS, w, g.CRS, col, ld, 0.0f, out, ld);
      // Scatter the group back to NCHW, adding the bias on the way.
      for (int i = 0; i < b; ++i)
        for (int k = 0; k < s.K; ++k) {
          const float* src = out + static_cast<size_t>(k) * ld + i * g.PQ;
          float* dst = y + (n + i) * g.y_image + static_cast<size_t>(k) * g.PQ;
          const float add = bias ? bias[k] : 0.0f;
          if (src == dst) {
            if (bias)
              for (int j = 0; j < g.PQ; ++j) dst[j] += add;
          } else {
            for (int j = 0; j < g.PQ; ++j) dst[j] = src[j] + add;
          }
        }
    }
  });
}

void conv2d_backward_data_im2col(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  check_conv2d_shape(s, "conv2d_backward_data");
  const Geometry g = geometry(s);
  for_image_ranges(s.N, [&](int n0, int n1, int, int) {
    for (int n = n0; n < n1; n += g.group) {
      const int b = std::min(g.group, n1 - n);
      const int ld = b * g.PQ;
      if (g.pointwise) {  // dx_n[C, HW] = W^T[C, K] x dy_n[K, HW]
        gemm(Trans::yes, Trans::no, s.C, g.PQ, s.K, w, s.C, dy + n * g.y_image, g.PQ, 0.0f, dx + n * g.x_image,
             g.PQ);
        continue;
      }
      const float* dyg = dy + n * g.y_image;
      if (b > 1) {
        float* packed = scratch(1, static_cast<size_t>(s.K) * ld);
        pack_dy(s, g, dyg, b, packed);
        dyg = packed;
      }
      float* dcol = scratch(0, static_cast<size_t>(g.CRS) * ld);
      gemm(Trans::yes, Trans::no, g.CRS, ld, s.K, w, g.CRS, dyg, ld, 0.0f, dcol, ld);
      for (int i = 0; i < b; ++i) col2im(s, dcol + i * g.PQ, ld, dx + (n + i) * g.x_image);
    }
  });
}

void conv2d_backward_weights_im2col(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* dbias) {
  check_conv2d_shape(s, "conv2d_backward_weights");
  const Geometry g = geometry(s);
  const size_t wsize = static_cast<size_t>(s.K) * g.CRS;
  // Each thread accumulates into its own partial (dW, dbias), published here by thread id.
  std::vector<float*> partials(std::max(1, omp_get_max_threads()), nullptr);
  int used_threads = 1;
  for_image_ranges(s.N, [&](int n0, int n1, int t, int nt) {
    if (t == 0) used_threads = nt;
    float* part = nt == 1 ? nullptr : scratch(2, wsize + s.K);
    if (part) {
      std::fill(part, part + wsize + s.K, 0.0f);
      partials[t] = part;
    }
    float* dwt = part ? part : dw;
    float* dbt = part ? part + wsize : dbias;
    for (int n = n0; n < n1; n += g.group) {
      const int b = std::min(g.group, n1 - n);
      const int ld = b * g.PQ;
      const float* dyg = dy + n * g.y_image;
      if (g.pointwise) {  // dW[K, C] += dy_n[K, HW] x x_n[C, HW]^T
        gemm(Trans::no, Trans::yes, s.K, s.C, g.PQ, dyg, g.PQ, x + n * g.x_image, g.PQ, 1.0f, dwt, s.C);
      } else {
        float* col = scratch(0, static_cast<size_t>(g.CRS) * ld);
        for (int i = 0; i < b; ++i) im2col(s, x + (n + i) * g.x_image, col + i * g.PQ, ld);
        if (b > 1) {
          float* packed = scratch(1, static_cast<size_t>(s.K) * ld);
          pack_dy(s, g, dyg, b, packed);
          dyg = packed;
        }
        gemm(Trans::no, Trans::yes, s.K, g.CRS, ld, dyg, ld, col, ld, 1.0f, dwt, g.CRS);
      }
      if (dbt) {
        for (int i = 0; i < b; ++i)
          for (int k = 0; k < s.K; ++k) {
            const float* row = dy + (n + i) * g.y_image + static_cast<size_t>(k) * g.PQ;
            float acc = 0.0f;
            for (int j = 0; j < g.PQ; ++j) acc += row[j];
            dbt[k] += acc;
          }
      }
    }
  });
  if (used_threads == 1) return;
  // Fixed-order reduction: dw[i] += partial_0[i] + partial_1[i] + ...
  const int nt = used_threads;
  const long total = static_cast<long>(wsize) + s.K;
#pragma omp parallel for schedule(static) num_threads(nt)
  for (long i = 0; i < total; ++i) {
    float acc = 0.0f;
    for (int t = 0; t < nt; ++t) acc += partials[t][i];
    if (i < static_cast<long>(wsize))
      dw[i] += acc;
    else if (dbias)
      dbias[i - wsize] += acc;
  }
}

}  // namespace convoy::kernels::cpu
