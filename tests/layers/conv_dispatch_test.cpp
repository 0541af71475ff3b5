// The default CPU convolution dispatch takes, for every case of the layer gradient checks,
// the branch tests/layers/conv_cases.h lists: cpu::conv2d_default_variants (which the entry
// points decide by) names it, and the public entry point's result is bit-identical to that
// variant's. (im2col and packed often give the same bits, so the bits alone cannot tell.)
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_variants.h"
#include "tests/common/test_util.h"
#include "tests/layers/conv_cases.h"
#include "tests/layers/gradient_checker.h"

namespace convoy {
namespace {

using kernels::Conv2dShape;
using test::ConvCase;

Conv2dShape shape_of(const ConvCase& c) {
  Conv2dShape s;
  s.N = c.N, s.C = c.C, s.H = c.H, s.W = c.W, s.K = c.K, s.R = s.S = c.kernel;
  s.stride_h = s.stride_w = c.stride;
  s.pad_h = s.pad_w = c.pad;
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::string name_of(kernels::cpu::ConvVariant v) {
  switch (v) {
    case kernels::cpu::ConvVariant::winograd: return "winograd";
    case kernels::cpu::ConvVariant::packed: return "packed";
    case kernels::cpu::ConvVariant::im2col: return "im2col";
  }
  return "?";
}

// out: the public entry point's result; im2col, packed, winograd: each variant's for the
// same pass.
void expect_branch(const std::string& pass, const std::string& listed, kernels::cpu::ConvVariant chosen,
                   const std::vector<float>& out, const std::vector<float>& im2col, const std::vector<float>& packed,
                   const std::vector<float>& winograd) {
  const bool fallback = listed == "packed=im2col";
  EXPECT_EQ(name_of(chosen), fallback ? "packed" : listed) << pass;
  const std::vector<float>& ran = chosen == kernels::cpu::ConvVariant::winograd ? winograd
                                  : chosen == kernels::cpu::ConvVariant::packed ? packed
                                                                                : im2col;
  EXPECT_TRUE(same_bits(out, ran)) << pass << ": the entry point did not run the variant it chose";
  if (chosen == kernels::cpu::ConvVariant::winograd)
    EXPECT_FALSE(same_bits(winograd, packed)) << pass << ": Winograd gave the packed variant's bits (a fallback?)";
  if (fallback) EXPECT_TRUE(same_bits(packed, im2col)) << pass << ": packed no longer falls back to im2col here";
}

class ConvDispatch : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvDispatch, TakesTheListedBranch) {
  const ConvCase& c = GetParam();
  test::ScopedOmpThreads threads(c.threads);
  const Conv2dShape s = shape_of(c);
  const kernels::Exec exec = exec_for(Device::cpu());
  const size_t xn = size_t(s.N) * s.C * s.H * s.W, wn = size_t(s.K) * s.C * s.R * s.S,
               yn = size_t(s.N) * s.K * s.P() * s.Q();
  const auto x = test::random_vector(xn, c.seed), w = test::random_vector(wn, c.seed + 1),
             b = test::random_vector(s.K, c.seed + 2), dy = test::random_vector(yn, c.seed + 3);
  const float* bias = c.bias ? b.data() : nullptr;
  const kernels::cpu::ConvChoice chosen = kernels::cpu::conv2d_default_variants(s);

  std::vector<float> out(yn), im(yn), pk(yn), wg(yn);
  kernels::conv2d_forward(exec, s, x.data(), w.data(), bias, out.data());
  kernels::cpu::conv2d_forward_im2col(s, x.data(), w.data(), bias, im.data());
  kernels::cpu::conv2d_forward_packed(s, x.data(), w.data(), bias, pk.data());
  kernels::cpu::conv2d_forward_winograd(s, x.data(), w.data(), bias, wg.data());
  expect_branch("forward", c.forward, chosen.forward, out, im, pk, wg);

  out.assign(xn, 0), im.assign(xn, 0), pk.assign(xn, 0), wg.assign(xn, 0);
  kernels::conv2d_backward_data(exec, s, dy.data(), w.data(), out.data());
  kernels::cpu::conv2d_backward_data_im2col(s, dy.data(), w.data(), im.data());
  kernels::cpu::conv2d_backward_data_packed(s, dy.data(), w.data(), pk.data());
  kernels::cpu::conv2d_backward_data_winograd(s, dy.data(), w.data(), wg.data());
  expect_branch("backward data", c.backward_data, chosen.backward_data, out, im, pk, wg);

  const size_t gn = wn + s.K;  // dW then dbias
  out.assign(gn, 0), im.assign(gn, 0), pk.assign(gn, 0), wg.assign(gn, 0);
  kernels::conv2d_backward_weights(exec, s, x.data(), dy.data(), out.data(), c.bias ? out.data() + wn : nullptr);
  kernels::cpu::conv2d_backward_weights_im2col(s, x.data(), dy.data(), im.data(), c.bias ? im.data() + wn : nullptr);
  kernels::cpu::conv2d_backward_weights_packed(s, x.data(), dy.data(), pk.data(), c.bias ? pk.data() + wn : nullptr);
  kernels::cpu::conv2d_backward_weights_winograd(s, x.data(), dy.data(), wg.data(), c.bias ? wg.data() + wn : nullptr);
  expect_branch("backward weights", c.backward_weights, chosen.backward_weights, out, im, pk, wg);
}

INSTANTIATE_TEST_SUITE_P(Cases, ConvDispatch, ::testing::ValuesIn(test::kConvCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace convoy
