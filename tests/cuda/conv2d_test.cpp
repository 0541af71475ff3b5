// CUDA convolutions (own variants and cuDNN) against the CPU references: 1x1/3x3/5x5
// windows, stride 1/2, pad 0/1/2, odd H/W, N = 1..5; outputs NaN-poisoned before each run;
// backward_weights checked to ADD into dw and dbias; reruns bit-identical.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/error.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_flip.h"
#include "kernels/cuda/conv2d_variants.h"
#include "tests/common/test_util.h"
#include "tests/cuda/gpu_test_util.h"

namespace convoy {
namespace {

using kernels::Conv2dShape;
using kernels::cuda::ConvVariant;

std::vector<Conv2dShape> shapes() {
  // N, C, H, W, K, R, S, stride_h, stride_w, pad_h, pad_w
  return {
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},     {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1},
      {3, 4, 11, 13, 6, 5, 5, 1, 1, 2, 2},   {1, 5, 9, 7, 3, 3, 3, 2, 2, 1, 1},
      {4, 7, 8, 8, 9, 1, 1, 2, 2, 0, 0},     {5, 2, 13, 11, 4, 5, 5, 2, 2, 2, 2},
      {2, 3, 10, 6, 7, 3, 3, 2, 1, 0, 2},    {2, 16, 9, 9, 130, 3, 3, 1, 1, 1, 1},
      {3, 130, 5, 7, 33, 3, 3, 1, 1, 1, 1},  {1, 3, 17, 15, 2, 5, 3, 1, 2, 1, 0},
  };
}

std::string describe(const Conv2dShape& s) {
  return "N" + std::to_string(s.N) + " C" + std::to_string(s.C) + " " + std::to_string(s.H) + "x" +
         std::to_string(s.W) + " K" + std::to_string(s.K) + " " + std::to_string(s.R) + "x" + std::to_string(s.S) +
         " stride " + std::to_string(s.stride_h) + "x" + std::to_string(s.stride_w) + " pad " +
         std::to_string(s.pad_h) + "x" + std::to_string(s.pad_w);
}

struct Sizes {
  size_t x, w, y;
};
Sizes sizes(const Conv2dShape& s) {
  return {static_cast<size_t>(s.N) * s.C * s.H * s.W, static_cast<size_t>(s.K) * s.C * s.R * s.S,
          static_cast<size_t>(s.N) * s.K * s.P() * s.Q()};
}

kernels::Exec exec_for_variant(const ConvVariant& v) {
  return exec_for(Device::cuda(0), std::string(v.name) == "cudnn" ? kernels::Impl::vendor : kernels::Impl::own);
}

std::vector<ConvVariant> all_variants() {
  std::vector<ConvVariant> out(kernels::cuda::conv_variants().begin(), kernels::cuda::conv_variants().end());
  out.push_back(kernels::cuda::conv_cudnn());
  return out;
}

TEST(CudaConv2d, ForwardMatchesReference) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const auto& v : all_variants()) {
    uint64_t seed = 10;
    for (const auto& s : shapes())
      for (bool with_bias : {true, false}) {
        auto n = sizes(s);
        auto x = test::random_vector(n.x, ++seed), w = test::random_vector(n.w, ++seed);
        auto bias = test::random_vector(s.K, ++seed);
        Tensor dx = test::to_gpu(x), dw = test::to_gpu(w), db = test::to_gpu(bias), dy = test::poisoned_gpu(n.y);
        v.forward(exec_for_variant(v), s, dx.data(), dw.data(), with_bias ? db.data() : nullptr, dy.data());
        auto want = test::poisoned(n.y);
        kernels::cpu::conv2d_forward_reference(s, x.data(), w.data(), with_bias ? bias.data() : nullptr, want.data());
        EXPECT_LE(test::rel_error(dy.to_vector(), want), 1e-4) << v.name << " " << describe(s) << " bias " << with_bias;
      }
  }
}

void expect_backward_data_matches_reference(const ConvVariant& v, const std::vector<Conv2dShape>& all,
                                            uint64_t seed) {
  for (const auto& s : all) {
    auto n = sizes(s);
    auto dy = test::random_vector(n.y, ++seed), w = test::random_vector(n.w, ++seed);
    Tensor ddy = test::to_gpu(dy), dw = test::to_gpu(w), ddx = test::poisoned_gpu(n.x);
    v.backward_data(exec_for_variant(v), s, ddy.data(), dw.data(), ddx.data());
    auto want = test::poisoned(n.x);
    kernels::cpu::conv2d_backward_data_reference(s, dy.data(), w.data(), want.data());
    EXPECT_LE(test::rel_error(ddx.to_vector(), want), 1e-4) << v.name << " " << describe(s);
  }
}

TEST(CudaConv2d, BackwardDataMatchesReference) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const auto& v : all_variants()) expect_backward_data_matches_reference(v, shapes(), 200);
}

TEST(CudaConv2d, BackwardWeightsAccumulatesAndMatchesReference) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const auto& v : all_variants()) {
    uint64_t seed = 400;
    for (const auto& s : shapes())
      for (bool with_bias : {true, false}) {
        auto n = sizes(s);
        auto x = test::random_vector(n.x, ++seed), dy = test::random_vector(n.y, ++seed);
        // Start from non-zero gradients: the contract is dw += ..., dbias += ...
        auto dw0 = test::random_vector(n.w, ++seed), db0 = test::random_vector(s.K, ++seed);
        Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy), gdw = test::to_gpu(dw0), gdb = test::to_gpu(db0);
        v.backward_weights(exec_for_variant(v), s, gx.data(), gdy.data(), gdw.data(), with_bias ? gdb.data() : nullptr);
        auto want_w = dw0, want_b = db0;
        kernels::cpu::conv2d_backward_weights_reference(s, x.data(), dy.data(), want_w.data(),
                                                         with_bias ? want_b.data() : nullptr);
        EXPECT_LE(test::rel_error(gdw.to_vector(), want_w), 1e-4) << v.name << " " << describe(s);
        if (with_bias) EXPECT_LE(test::rel_error(gdb.to_vector(), want_b), 1e-4) << v.name << " " << describe(s);
        else EXPECT_EQ(gdb.to_vector(), db0) << v.name << ": null dbias must leave the bias gradient alone";
      }
  }
}

TEST(CudaConv2d, BackwardDataWithAPadAboveTheWindowMatchesReference) {
  // No flipped forward exists there (its pad would be negative): implicit_gemm_flipped falls
  // back to the gather form. cuDNN is left out: it need not take such pads.
  CONVOY_SKIP_WITHOUT_GPU();
  const std::vector<Conv2dShape> padded = {{2, 3, 6, 5, 4, 3, 3, 1, 1, 3, 1}, {1, 2, 5, 7, 3, 1, 3, 1, 1, 1, 0}};
  for (const auto& v : kernels::cuda::conv_variants()) expect_backward_data_matches_reference(v, padded, 300);
}

TEST(CudaConv2d, FlippedFiltersEqualTheCpuFlip) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const Conv2dShape& s : {Conv2dShape{1, 3, 8, 8, 5, 3, 2, 1, 1, 1, 0}, Conv2dShape{1, 130, 4, 4, 33, 5, 5}}) {
    const auto w = test::random_vector(sizes(s).w, 7);
    Tensor gw = test::to_gpu(w), gflipped = test::poisoned_gpu(w.size());
    kernels::cuda::conv2d_flip_filters(exec_for(Device::cuda(0), kernels::Impl::own), s, gw.data(), gflipped.data());
    std::vector<float> want(w.size());
    kernels::cpu::conv2d_flip_filters(s, w.data(), want.data());
    EXPECT_TRUE(test::bit_identical(gflipped.to_vector(), want)) << describe(s);
  }
}

void expect_own_variants_rerun_bit_identical(const Conv2dShape& s) {
  auto n = sizes(s);
  auto x = test::random_vector(n.x, 1), w = test::random_vector(n.w, 2), dy = test::random_vector(n.y, 3);
  Tensor gx = test::to_gpu(x), gw = test::to_gpu(w), gdy = test::to_gpu(dy);
  for (const auto& v : kernels::cuda::conv_variants()) {
    auto run = [&] {
      Tensor y = test::poisoned_gpu(n.y), dx = test::poisoned_gpu(n.x);
      Tensor dw = test::to_gpu(std::vector<float>(n.w, 0.5f)), db = test::to_gpu(std::vector<float>(s.K, 0.5f));
      auto e = exec_for_variant(v);
      v.forward(e, s, gx.data(), gw.data(), nullptr, y.data());
      v.backward_data(e, s, gdy.data(), gw.data(), dx.data());
      v.backward_weights(e, s, gx.data(), gdy.data(), dw.data(), db.data());
      std::vector<float> all = y.to_vector();
      for (auto* t : {&dx, &dw, &db}) {
        auto part = t->to_vector();
        all.insert(all.end(), part.begin(), part.end());
      }
      return all;
    };
    EXPECT_TRUE(test::bit_identical(run(), run())) << v.name << " " << describe(s);
  }
}

TEST(CudaConv2d, OwnVariantsRerunBitIdentical) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const Conv2dShape& s : {Conv2dShape{5, 17, 15, 13, 33, 3, 3, 2, 2, 1, 1},
                               Conv2dShape{5, 17, 15, 13, 33, 3, 3, 1, 1, 1, 1}})
    expect_own_variants_rerun_bit_identical(s);
}

TEST(CudaConv2d, KgatherWeightGradientHasImplicitGemmsBits) {
  // implicit_gemm_kgather changes only which thread gathers each element of the shared B panel,
  // not the panel or the order of the sums, so its weight gradient must be implicit_gemm's to
  // the bit (on a GPU; the emulated device runs the same CPU code for both).
  CONVOY_SKIP_WITHOUT_GPU();
  const auto& plain = kernels::cuda::conv_variant("implicit_gemm");
  const auto& kgather = kernels::cuda::conv_variant("implicit_gemm_kgather");
  uint64_t seed = 600;
  for (const auto& s : shapes()) {
    auto n = sizes(s);
    auto x = test::random_vector(n.x, ++seed), dy = test::random_vector(n.y, ++seed);
    Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
    auto weight_grad = [&](const ConvVariant& v) {
      Tensor dw = test::to_gpu(std::vector<float>(n.w, 0.25f)), db = test::to_gpu(std::vector<float>(s.K, 0.25f));
      v.backward_weights(exec_for_variant(v), s, gx.data(), gdy.data(), dw.data(), db.data());
      auto all = dw.to_vector(), bias = db.to_vector();
      all.insert(all.end(), bias.begin(), bias.end());
      return all;
    };
    EXPECT_TRUE(test::bit_identical(weight_grad(kgather), weight_grad(plain))) << describe(s);
  }
}

TEST(CudaConv2d, OneVariantNameSetsEveryPassAndThreeSetOneEach) {
  using kernels::cuda::conv_own_from;
  using kernels::cuda::conv_variant;
  const ConvVariant one = conv_own_from("implicit_gemm_flipped");
  EXPECT_STREQ(one.name, "implicit_gemm_flipped");
  EXPECT_EQ(one.backward_data, conv_variant("implicit_gemm_flipped").backward_data);
  const ConvVariant three = conv_own_from("naive/implicit_gemm_flipped/implicit_gemm_kgather");
  EXPECT_STREQ(three.name, "per-pass");
  EXPECT_EQ(three.forward, conv_variant("naive").forward);
  EXPECT_EQ(three.backward_data, conv_variant("implicit_gemm_flipped").backward_data);
  EXPECT_EQ(three.backward_weights, conv_variant("implicit_gemm_kgather").backward_weights);
}

TEST(CudaConv2d, AMalformedEnvironmentVariantIsRefusedWithTheChoices) {
  for (const char* spec : {"implicit_gemm/naive", "implicit_gemm/naive/fast", "", "naive//naive"}) {
    try {
      kernels::cuda::conv_own_from(spec);
      ADD_FAILURE() << "'" << spec << "' was accepted";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(std::string("CONVOY_CUDA_CONV='") + spec + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("implicit_gemm_kgather"), std::string::npos) << m;
    }
  }
}

TEST(CudaConv2d, TheEnvironmentPicksWhatAProcessRuns) {
  // A fresh process (threadsafe death tests re-run the binary) reads CONVOY_CUDA_CONV once.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const char* before = std::getenv("CONVOY_CUDA_CONV");
  ::setenv("CONVOY_CUDA_CONV", "implicit_gemm/implicit_gemm_flipped/implicit_gemm_kgather", 1);
  EXPECT_EXIT(std::exit(kernels::cuda::conv_own_variant().backward_data ==
                                    kernels::cuda::conv_variant("implicit_gemm_flipped").backward_data &&
                                kernels::cuda::conv_own_variant().backward_weights ==
                                    kernels::cuda::conv_variant("implicit_gemm_kgather").backward_weights
                            ? 0
                            : 3),
              ::testing::ExitedWithCode(0), "");
  if (before) ::setenv("CONVOY_CUDA_CONV", before, 1);
  else ::unsetenv("CONVOY_CUDA_CONV");
}

TEST(CudaConv2d, DispatchRoutesOwnAndVendor) {
  CONVOY_SKIP_WITHOUT_GPU();
  Conv2dShape s{2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1};
  auto n = sizes(s);
  auto x = test::random_vector(n.x, 5), w = test::random_vector(n.w, 6);
  auto want = test::poisoned(n.y);
  kernels::cpu::conv2d_forward_reference(s, x.data(), w.data(), nullptr, want.data());
  Tensor gx = test::to_gpu(x), gw = test::to_gpu(w);
  for (auto impl : {kernels::Impl::own, kernels::Impl::vendor}) {
    Tensor y = test::poisoned_gpu(n.y);
    kernels::conv2d_forward(exec_for(Device::cuda(0), impl), s, gx.data(), gw.data(), nullptr, y.data());
    EXPECT_LE(test::rel_error(y.to_vector(), want), 1e-4);
  }
}

}  // namespace
}  // namespace convoy
