// A double-precision twin of every layer's forward pass, written from the layer's
// definition (plain loops over the formulas in the layer headers), not from its kernels. The
// gradient checker differentiates it by central differences to get a reference gradient
// that owes nothing to the float32 code under test.
//
// twin_forward(layer, in_shape, x, params, out_shape) evaluates y = layer(x) in training
// mode (batch-norm uses the batch statistics, as the layer does whenever backward is
// possible); params holds one vector per entry of layer.params(), in that order.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "layers/activation_layers.h"
#include "layers/batchnorm_layer.h"
#include "layers/conv2d_layer.h"
#include "layers/linear_layer.h"
#include "layers/pool_layers.h"
#include "layers/sequential.h"
#include "layers/shape_layers.h"

namespace convoy::test {

using Doubles = std::vector<double>;

namespace twin {

// Consumes the parameter vectors in the order Layer::params() lists them.
struct ParamCursor {
  const std::vector<Doubles>& params;
  size_t next = 0;
  const Doubles& take() { return params.at(next++); }
};

inline Doubles conv2d(const Conv2dConfig& c, const Shape& in, const Doubles& x, ParamCursor& pc, Shape& out) {
  const int64_t N = in[0], C = in[1], H = in[2], W = in[3], K = c.out_channels, R = c.kernel;
  const int64_t P = (H + 2 * c.pad - R) / c.stride + 1, Q = (W + 2 * c.pad - R) / c.stride + 1;
  const Doubles& w = pc.take();
  const Doubles* b = c.bias ? &pc.take() : nullptr;
  out = Shape{N, K, P, Q};
  Doubles y(out.numel());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          double acc = b ? (*b)[k] : 0.0;
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < R; ++s) {
              const int64_t h = p * c.stride - c.pad + r, v = q * c.stride - c.pad + s;
              if (h < 0 || h >= H || v < 0 || v >= W) continue;  // zero padding
              for (int64_t ch = 0; ch < C; ++ch)
                acc += w[((k * C + ch) * R + r) * R + s] * x[((n * C + ch) * H + h) * W + v];
            }
          y[((n * K + k) * P + p) * Q + q] = acc;
        }
  return y;
}

inline Doubles linear(const LinearConfig& c, const Shape& in, const Doubles& x, ParamCursor& pc, Shape& out) {
  const int64_t N = in[0], I = c.in_features, O = c.out_features;
  const Doubles& w = pc.take();
  const Doubles* b = c.bias ? &pc.take() : nullptr;
  out = Shape{N, O};
  Doubles y(out.numel());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      double acc = b ? (*b)[o] : 0.0;
      for (int64_t i = 0; i < I; ++i) acc += w[o * I + i] * x[n * I + i];
      y[n * O + o] = acc;
    }
  return y;
}

// Training-mode batch-norm: the batch mean and biased variance per channel.
inline Doubles batchnorm(const BatchNormConfig& c, const Shape& in, const Doubles& x, ParamCursor& pc) {
  const int64_t N = in[0], C = in[1], HW = in.rank() == 4 ? in[2] * in[3] : 1;
  const Doubles& gamma = pc.take();
  const Doubles& beta = pc.take();
  Doubles y(x.size());
  for (int64_t ch = 0; ch < C; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) sum += x[(n * C + ch) * HW + i];
    const double mean = sum / double(N * HW);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) sq += (x[(n * C + ch) * HW + i] - mean) * (x[(n * C + ch) * HW + i] - mean);
    const double invstd = 1.0 / std::sqrt(sq / double(N * HW) + double(c.eps));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t e = (n * C + ch) * HW + i;
        const double v = gamma[ch] * (x[e] - mean) * invstd + beta[ch];
        y[e] = c.relu ? std::max(v, 0.0) : v;
      }
  }
  return y;
}

// Max: padding never wins; average: divides by the in-bounds count (count_include_pad=false).
inline Doubles pool(const PoolConfig& c, const Shape& in, const Doubles& x, Shape& out) {
  const int64_t N = in[0], C = in[1], H = in[2], W = in[3];
  const int64_t R = c.global ? H : c.kernel, S = c.global ? W : c.kernel;
  const int64_t sh = c.global ? H : c.stride, sw = c.global ? W : c.stride, pad = c.global ? 0 : c.pad;
  const int64_t P = (H + 2 * pad - R) / sh + 1, Q = (W + 2 * pad - S) / sw + 1;
  out = Shape{N, C, P, Q};
  Doubles y(out.numel());
  for (int64_t plane = 0; plane < N * C; ++plane)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t count = 0;
        for (int64_t r = 0; r < R; ++r)
          for (int64_t s = 0; s < S; ++s) {
            const int64_t h = p * sh - pad + r, v = q * sw - pad + s;
            if (h < 0 || h >= H || v < 0 || v >= W) continue;
            const double e = x[(plane * H + h) * W + v];
            best = std::max(best, e);
            sum += e;
            ++count;
          }
        y[(plane * P + p) * Q + q] = c.kind == kernels::PoolKind::max ? best : sum / double(count);
      }
  return y;
}

}  // namespace twin

inline Doubles twin_forward(Layer& layer, const Shape& in, const Doubles& x, twin::ParamCursor& pc, Shape& out) {
  out = in;
  if (auto* l = dynamic_cast<Conv2dLayer*>(&layer)) return twin::conv2d(l->config(), in, x, pc, out);
  if (auto* l = dynamic_cast<LinearLayer*>(&layer)) return twin::linear(l->config(), in, x, pc, out);
  if (auto* l = dynamic_cast<BatchNormLayer*>(&layer)) return twin::batchnorm(l->config(), in, x, pc);
  if (auto* l = dynamic_cast<PoolLayer*>(&layer)) return twin::pool(l->config(), in, x, out);
  if (dynamic_cast<ReluLayer*>(&layer)) {
    Doubles y(x);
    for (double& v : y) v = std::max(v, 0.0);
    return y;
  }
  if (dynamic_cast<GeluLayer*>(&layer)) {  // the exact erf form
    Doubles y(x);
    for (double& v : y) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    return y;
  }
  if (auto* l = dynamic_cast<ScaleLayer*>(&layer)) {
    Doubles y(x);
    for (double& v : y) v *= double(l->factor());
    return y;
  }
  if (dynamic_cast<FlattenLayer*>(&layer)) {
    out = Shape{in[0], in.numel() / in[0]};
    return x;
  }
  if (auto* l = dynamic_cast<SequentialLayer*>(&layer)) {
    Doubles cur = x;
    Shape shape = in;
    for (const auto& inner : l->layers()) {
      Shape next;
      cur = twin_forward(*inner, shape, cur, pc, next);
      shape = next;
    }
    out = shape;
    return cur;
  }
  if (auto* l = dynamic_cast<ResidualLayer*>(&layer)) {
    Doubles y = twin_forward(const_cast<SequentialLayer&>(l->body()), in, x, pc, out);
    for (size_t i = 0; i < y.size(); ++i) y[i] += x[i];
    return y;
  }
  ADD_FAILURE() << "no double-precision twin for layer type " << layer.type();
  return x;
}

inline Doubles twin_forward(Layer& layer, const Shape& in, const Doubles& x, const std::vector<Doubles>& params) {
  twin::ParamCursor pc{params};
  Shape out;
  Doubles y = twin_forward(layer, in, x, pc, out);
  EXPECT_EQ(pc.next, params.size()) << "the twin of " << layer.type() << " did not use every parameter";
  return y;
}

}  // namespace convoy::test
