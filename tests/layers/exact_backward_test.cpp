// Backward passes on small hand-made inputs whose gradients are worked out by hand in the
// comments (integers and halves, so float32 holds them exactly): linear, convolution (the
// im2col path for one image, the packed path for two), batch-norm in training and inference,
// max and average pooling. The accumulate contract is checked on the way: parameter
// gradients add up over two backward calls, the input gradient is assigned.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "layers/batchnorm_layer.h"
#include "layers/conv2d_layer.h"
#include "layers/linear_layer.h"
#include "layers/pool_layers.h"
#include "tests/layers/gradient_checker.h"

namespace convoy {
namespace {

void set(Param& p, const std::vector<float>& v) {
  ASSERT_EQ(p.value.numel(), static_cast<int64_t>(v.size())) << p.name;
  std::copy(v.begin(), v.end(), p.value.data());
  p.grad = Tensor::zeros(p.value.shape());
}

std::vector<float> values(const Tensor& t) { return t.to_vector(); }

// y = x W^T + b; dW = dy^T x, db = column sums of dy, dx = dy W.
TEST(ExactBackward, Linear) {
  LinearLayer layer({3, 2, true});
  auto ps = layer.params();
  set(*ps[0], {1, 0, -1, 2, 1, 0});  // W (2, 3)
  set(*ps[1], {0.5f, -1});
  Context ctx = Context::make(Device::cpu());
  Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}), y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  // row 0: (1 - 3 + 0.5, 2 + 2 - 1); row 1: (4 - 6 + 0.5, 8 + 5 - 1)
  EXPECT_EQ(values(y), (std::vector<float>{-1.5f, 3, -1.5f, 12}));
  Tensor dy = Tensor::from_vector({2, 2}, {1, -2, 3, 0.5f});
  layer.backward(ctx, dy, saved, &dx);
  // dW row 0 = 1 (1,2,3) + 3 (4,5,6); row 1 = -2 (1,2,3) + 0.5 (4,5,6)
  EXPECT_EQ(values(ps[0]->grad), (std::vector<float>{13, 17, 21, 0, -1.5f, -3}));
  EXPECT_EQ(values(ps[1]->grad), (std::vector<float>{4, -1.5f}));
  // dx row 0 = 1 (1,0,-1) - 2 (2,1,0); row 1 = 3 (1,0,-1) + 0.5 (2,1,0)
  EXPECT_EQ(values(dx), (std::vector<float>{-3, -2, -1, 4, 0.5f, -3}));
  layer.backward(ctx, dy, saved, &dx);  // parameter gradients accumulate, dx is assigned
  EXPECT_EQ(values(ps[0]->grad), (std::vector<float>{26, 34, 42, 0, -3, -6}));
  EXPECT_EQ(values(ps[1]->grad), (std::vector<float>{8, -3}));
  EXPECT_EQ(values(dx), (std::vector<float>{-3, -2, -1, 4, 0.5f, -3}));
}

// One 3x3 image, one 2x2 filter (cross-correlation), stride 1, no padding: the im2col path.
TEST(ExactBackward, ConvOneImage) {
  test::ScopedOmpThreads threads(2);
  Conv2dLayer layer({1, 1, 2, 1, 0, true});
  auto ps = layer.params();
  set(*ps[0], {1, 2, 3, 4});
  set(*ps[1], {1});
  Context ctx = Context::make(Device::cpu());
  Tensor x = Tensor::from_vector({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  // y(0,0) = 1*1 + 2*2 + 3*4 + 4*5 + 1 = 38, then 48, 68, 78
  EXPECT_EQ(values(y), (std::vector<float>{38, 48, 68, 78}));
  Tensor dy = Tensor::from_vector({1, 1, 2, 2}, {1, 2, 0, -1});
  layer.backward(ctx, dy, saved, &dx);
  // dW(r,s) = x(r,s) + 2 x(r,s+1) - x(r+1,s+1): (1+4-5, 2+6-6, 4+10-8, 5+12-9)
  EXPECT_EQ(values(ps[0]->grad), (std::vector<float>{0, 2, 6, 8}));
  EXPECT_EQ(values(ps[1]->grad), (std::vector<float>{2}));
  // dx = W at (0,0) + 2 W at (0,1) - W at (1,1):
  //   1 2 0     0 2 4     0  0  0
  //   3 4 0  +  0 6 8  +  0 -1 -2
  //   0 0 0     0 0 0     0 -3 -4
  EXPECT_EQ(values(dx), (std::vector<float>{1, 4, 4, 3, 9, 6, 0, -3, -4}));
}

// Two images of 16 channels (the packed path for all three passes) through a filter bank
// that shifts: w[k][c] is 1 at tap (0, 2) when k == c, else 0, so with padding 1
// y[n][k](p, q) = x[n][k](p - 1, q + 1) and dx[n][c](h, w) = dy[n][c](h + 1, w - 1), zero
// where that falls outside; a filter that is not flipped in backward shifts the other way.
TEST(ExactBackward, ConvPackedShift) {
  test::ScopedOmpThreads threads(2);
  const int N = 2, C = 16, H = 5, W = 6;
  Conv2dLayer layer({C, C, 3, 1, 1, false});
  std::vector<float> w(C * C * 9, 0.0f);
  for (int c = 0; c < C; ++c) w[(c * C + c) * 9 + 0 * 3 + 2] = 1;
  set(*layer.params()[0], w);
  std::vector<float> xv(N * C * H * W), dyv(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    xv[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5);
    dyv[i] = static_cast<float>(static_cast<int>(i * 5 % 13) - 6);
  }
  auto at = [&](const std::vector<float>& v, int n, int c, int h, int q) {
    return (h < 0 || h >= H || q < 0 || q >= W) ? 0.0f : v[((n * C + c) * H + h) * W + q];
  };
  Context ctx = Context::make(Device::cpu());
  Tensor x = Tensor::from_vector({N, C, H, W}, xv), y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  layer.backward(ctx, Tensor::from_vector({N, C, H, W}, dyv), saved, &dx);
  const auto yv = values(y), dxv = values(dx), dw = values(layer.params()[0]->grad);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int q = 0; q < W; ++q) {
          const size_t i = ((n * C + c) * H + h) * W + q;
          ASSERT_EQ(yv[i], at(xv, n, c, h - 1, q + 1)) << "y " << n << "," << c << "," << h << "," << q;
          ASSERT_EQ(dxv[i], at(dyv, n, c, h + 1, q - 1)) << "dx " << n << "," << c << "," << h << "," << q;
        }
  // dW[k][c](r, s) = sum over n, p, q of dy[n][k](p, q) x[n][c](p + r - 1, q + s - 1): integer
  // sums far below 2^24, exact in float.
  for (int k = 0; k < C; ++k)
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 3; ++s) {
          double sum = 0;
          for (int n = 0; n < N; ++n)
            for (int p = 0; p < H; ++p)
              for (int q = 0; q < W; ++q) sum += at(dyv, n, k, p, q) * at(xv, n, c, p + r - 1, q + s - 1);
          ASSERT_EQ(dw[((k * C + c) * 3 + r) * 3 + s], static_cast<float>(sum)) << k << "," << c << "," << r << "," << s;
        }
}

// Training: per channel the batch mean and biased variance. Channel 0 holds 1, 3, 5, 7 (mean 4,
// variance 5), channel 1 holds 2, 2, 6, 6 (mean 4, variance 4). With xhat = (x - mean) invstd:
//   y = gamma xhat + beta,  dbeta = sum dy,  dgamma = sum dy xhat,
//   dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)).
TEST(ExactBackward, BatchNormTraining) {
  const float eps = 1e-5f;
  BatchNormLayer layer({2, eps, 0.5f, false});
  auto ps = layer.params();
  set(*ps[0], {2, -1});
  set(*ps[1], {0.5f, 3});
  Context ctx = Context::make(Device::cpu());
  ctx.training = true;
  // (N=2, C=2, 1, 2): n0 c0 = (1, 3), n0 c1 = (2, 6), n1 c0 = (5, 7), n1 c1 = (2, 6)
  Tensor x = Tensor::from_vector({2, 2, 1, 2}, {1, 3, 2, 6, 5, 7, 2, 6}), y, dx;
  Tensor dy = Tensor::from_vector({2, 2, 1, 2}, {1, 0, 0.5f, 0.5f, 0, -1, -1, 2});
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  layer.backward(ctx, dy, saved, &dx);
  const double gamma[2] = {2, -1}, beta[2] = {0.5, 3}, mean[2] = {4, 4}, var[2] = {5, 4};
  const std::vector<float> xv = values(x), dyv = values(dy), yv = values(y), dxv = values(dx);
  const auto g = values(ps[0]->grad), b = values(ps[1]->grad);
  // dbeta: channel 0 = 1 + 0 + 0 - 1 = 0, channel 1 = 0.5 + 0.5 - 1 + 2 = 2.
  EXPECT_FLOAT_EQ(b[0], 0.0f);
  EXPECT_FLOAT_EQ(b[1], 2.0f);
  for (int c = 0; c < 2; ++c) {
    const double invstd = 1 / std::sqrt(var[c] + eps);
    int idx[4] = {c * 2, c * 2 + 1, 4 + c * 2, 4 + c * 2 + 1};
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int i : idx) {
      sum_dy += dyv[i];
      sum_dy_xhat += dyv[i] * (xv[i] - mean[c]) * invstd;
    }
    EXPECT_NEAR(g[c], sum_dy_xhat, 1e-6) << "dgamma " << c;
    for (int i : idx) {
      const double xhat = (xv[i] - mean[c]) * invstd;
      EXPECT_NEAR(yv[i], gamma[c] * xhat + beta[c], 1e-6) << "y " << i;
      EXPECT_NEAR(dxv[i], gamma[c] * invstd * (dyv[i] - sum_dy / 4 - xhat * sum_dy_xhat / 4), 1e-6) << "dx " << i;
    }
  }
  // dgamma for channel 0: (1 * -3 + 0 * -1 + 0 * 1 + -1 * 3) / sqrt(5) = -6 / sqrt(5).
  EXPECT_NEAR(g[0], -6 / std::sqrt(5 + eps), 1e-6);
}

// Inference: the running statistics, updated by a training forward as
// running = (1 - momentum) running + momentum * batch, the variance unbiased.
TEST(ExactBackward, BatchNormInferenceUsesRunningStatistics) {
  BatchNormLayer layer({2, 1e-5f, 0.5f, false});
  auto ps = layer.params();
  set(*ps[0], {2, 1});
  set(*ps[1], {1, 0});
  Context ctx = Context::make(Device::cpu());
  // channel 0: 1, 3, 5, 7 (mean 4, unbiased variance 20/3); channel 1: 10, 20, 30, 40 (mean
  // 25, unbiased variance 500/3)
  Tensor x = Tensor::from_vector({4, 2, 1, 1}, {1, 10, 3, 20, 5, 30, 7, 40}), y, yi;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  auto bufs = layer.buffers();
  ASSERT_EQ(bufs.size(), 2u);
  const double rm[2] = {0.5 * 4, 0.5 * 25}, rv[2] = {0.5 + 0.5 * 20.0 / 3, 0.5 + 0.5 * 500.0 / 3};
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(bufs[0].value->data()[c], rm[c], 1e-5) << c;
    EXPECT_NEAR(bufs[1].value->data()[c], rv[c], 1e-4) << c;
  }
  layer.forward(ctx, x, yi, nullptr);
  const std::vector<float> xv = values(x), out = values(yi);
  const double gamma[2] = {2, 1}, beta[2] = {1, 0};
  for (int i = 0; i < 8; ++i) {
    const int c = i % 2;
    EXPECT_NEAR(out[i], gamma[c] * (xv[i] - rm[c]) / std::sqrt(rv[c] + 1e-5) + beta[c], 1e-5) << i;
  }
}

// 2x2 windows, stride 2, on a 4x4 plane; the top-right window ties (4, 4) and routes its
// gradient to the first in row-major order.
TEST(ExactBackward, MaxPool) {
  PoolLayer layer({kernels::PoolKind::max, 2, 2, 0, false});
  Context ctx = Context::make(Device::cpu());
  Tensor x = Tensor::from_vector({1, 1, 4, 4}, {1, 5, 4, 4,   //
                                                2, 3, 0, 1,   //
                                                -1, -2, 9, 8,  //
                                                -3, -4, 7, 6}),
         y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  EXPECT_EQ(values(y), (std::vector<float>{5, 4, -1, 9}));
  layer.backward(ctx, Tensor::from_vector({1, 1, 2, 2}, {10, 20, 30, 40}), saved, &dx);
  EXPECT_EQ(values(dx), (std::vector<float>{0, 10, 20, 0,  //
                                            0, 0, 0, 0,    //
                                            30, 0, 40, 0,  //
                                            0, 0, 0, 0}));
}

// 3x3 windows, stride 2, padding 1 on a 4x4 plane: output 2x2; the windows cover rows/columns
// {0,1} and {1,2,3}, so their in-bounds counts are 4, 6, 6, 9 (padding not counted).
TEST(ExactBackward, AvgPoolPadded) {
  PoolLayer layer({kernels::PoolKind::avg, 3, 2, 1, false});
  Context ctx = Context::make(Device::cpu());
  std::vector<float> xv(16);
  for (int i = 0; i < 16; ++i) xv[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector({1, 1, 4, 4}, xv), y, dx;
  Saved saved;
  layer.forward(ctx, x, y, &saved);
  // (0+1+4+5)/4, (1+2+3+5+6+7)/6, (4+5+8+9+12+13)/6, (5+6+7+9+10+11+13+14+15)/9
  const auto yv = values(y);
  EXPECT_FLOAT_EQ(yv[0], 2.5f);
  EXPECT_FLOAT_EQ(yv[1], 4.0f);
  EXPECT_FLOAT_EQ(yv[2], 8.5f);
  EXPECT_FLOAT_EQ(yv[3], 10.0f);
  layer.backward(ctx, Tensor::from_vector({1, 1, 2, 2}, {12, 6, 18, 36}), saved, &dx);
  // each dy spread evenly over its window: 12/4 = 3, 6/6 = 1, 18/6 = 3, 36/9 = 4, summed where
  // windows overlap (row 1 and column 1 belong to both)
  EXPECT_EQ(values(dx), (std::vector<float>{3, 4, 1, 1,   //
                                            6, 11, 5, 5,  //
                                            3, 7, 4, 4,   //
                                            3, 7, 4, 4}));
}

}  // namespace
}  // namespace convoy
