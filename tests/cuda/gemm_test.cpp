// Every CUDA SGEMM variant and cuBLAS against cpu::sgemm_reference: odd shapes, all four
// transpose combinations, alpha/beta, beta == 0 over a NaN-poisoned C, padded leading
// dimensions, and bit-identical reruns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/error.h"
#include "kernels/cuda/gemm_variants.h"
#include "kernels/gemm.h"
#include "tests/common/test_util.h"
#include "tests/cuda/gpu_test_util.h"

namespace convoy {
namespace {

using kernels::GemmArgs;
using kernels::Trans;

struct Case {
  int M, N, K;
  Trans ta, tb;
  float alpha, beta;
  int pad;  // extra leading-dimension columns
};

// Runs `launch` on the GPU and the reference on the CPU; returns the relative error.
double run_case(kernels::cuda::GemmLauncher launch, kernels::Impl impl, const Case& c, uint64_t seed,
                std::vector<float>* gpu_out = nullptr) {
  const int a_rows = c.ta == Trans::no ? c.M : c.K, a_cols = c.ta == Trans::no ? c.K : c.M;
  const int b_rows = c.tb == Trans::no ? c.K : c.N, b_cols = c.tb == Trans::no ? c.N : c.K;
  const int lda = std::max(a_cols, 1) + c.pad, ldb = std::max(b_cols, 1) + c.pad, ldc = c.N + c.pad;
  auto a = test::random_vector(static_cast<size_t>(a_rows) * lda, seed);
  auto b = test::random_vector(static_cast<size_t>(b_rows) * ldb, seed + 1);
  auto c0 = c.beta == 0.0f ? test::poisoned(static_cast<size_t>(c.M) * ldc)
                           : test::random_vector(static_cast<size_t>(c.M) * ldc, seed + 2);
  Tensor da = test::to_gpu(a), db = test::to_gpu(b), dc = test::to_gpu(c0);
  GemmArgs args{c.ta, c.tb, c.M, c.N, c.K, c.alpha, da.data(), lda, db.data(), ldb, c.beta, dc.data(), ldc};
  kernels::Exec exec = exec_for(Device::cuda(0), impl);
  launch(exec, args);
  std::vector<float> got = dc.to_vector();
  std::vector<float> want = c0;
  GemmArgs host = args;
  host.A = a.data(); host.B = b.data(); host.C = want.data();
  kernels::cpu::sgemm_reference(host);
  // Compare the M x N part only (padding columns of C are never written; with beta == 0
  // they stay NaN on both sides).
  std::vector<float> g, w;
  for (int i = 0; i < c.M; ++i)
    for (int j = 0; j < c.N; ++j) {
      g.push_back(got[static_cast<size_t>(i) * ldc + j]);
      w.push_back(want[static_cast<size_t>(i) * ldc + j]);
    }
  // Padding untouched: still what it was before the call.
  for (int i = 0; i < c.M; ++i)
    for (int j = c.N; j < ldc; ++j) {
      const float before = c0[static_cast<size_t>(i) * ldc + j], after = got[static_cast<size_t>(i) * ldc + j];
      if (!(before == after || (before != before && after != after))) return 1e30;
    }
  if (gpu_out) *gpu_out = g;
  return test::rel_error(g, w);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 65, 17}, {127, 129, 131}, {128, 128, 128},
                           {200, 37, 300}, {5, 300, 64}, {256, 260, 9}, {64, 64, 0}};
  int i = 0;
  for (auto& s : shapes)
    for (Trans ta : {Trans::no, Trans::yes})
      for (Trans tb : {Trans::no, Trans::yes}) {
        const bool with_beta = (i++ % 2) == 1;
        out.push_back({s[0], s[1], s[2], ta, tb, with_beta ? 0.75f : 1.25f, with_beta ? -0.5f : 0.0f, i % 3 == 0 ? 3 : 0});
      }
  return out;
}

std::string describe(const Case& c) {
  return std::to_string(c.M) + "x" + std::to_string(c.N) + "x" + std::to_string(c.K) +
         (c.ta == Trans::yes ? " A^T" : " A") + (c.tb == Trans::yes ? " B^T" : " B") + " alpha=" +
         std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) + " pad=" + std::to_string(c.pad);
}

TEST(CudaGemm, EveryVariantMatchesReference) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const auto& v : kernels::cuda::gemm_variants()) {
    uint64_t seed = 100;
    for (const Case& c : cases())
      EXPECT_LE(run_case(v.launch, kernels::Impl::own, c, seed += 3), 1e-4) << v.name << " " << describe(c);
  }
}

TEST(CudaGemm, CublasMatchesReferenceInFp32) {
  CONVOY_SKIP_WITHOUT_GPU();
  uint64_t seed = 500;
  for (const Case& c : cases())
    EXPECT_LE(run_case(kernels::cuda::sgemm_cublas, kernels::Impl::vendor, c, seed += 3), 1e-4) << describe(c);
}

TEST(CudaGemm, DispatchRunsOwnAndVendor) {
  CONVOY_SKIP_WITHOUT_GPU();
  auto via_dispatch = [](const kernels::Exec& e, const GemmArgs& a) { kernels::sgemm(e, a); };
  Case c{67, 45, 33, Trans::yes, Trans::no, 1.0f, 0.0f, 0};
  EXPECT_LE(run_case(via_dispatch, kernels::Impl::own, c, 7), 1e-4);
  EXPECT_LE(run_case(via_dispatch, kernels::Impl::vendor, c, 7), 1e-4);
}

TEST(CudaGemm, RerunsAreBitIdentical) {
  CONVOY_SKIP_WITHOUT_GPU();
  for (const auto& v : kernels::cuda::gemm_variants()) {
    Case c{131, 257, 263, Trans::no, Trans::yes, 1.0f, 0.0f, 0};
    std::vector<float> first, second;
    run_case(v.launch, kernels::Impl::own, c, 9, &first);
    run_case(v.launch, kernels::Impl::own, c, 9, &second);
    EXPECT_TRUE(test::bit_identical(first, second)) << v.name;
  }
}

TEST(CudaGemm, TheEnvironmentPicksWhatAProcessRuns) {
  // A fresh process (threadsafe death tests re-run the binary) reads CONVOY_CUDA_GEMM once.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const char* before = std::getenv("CONVOY_CUDA_GEMM");
  ::setenv("CONVOY_CUDA_GEMM", "smem_tiled", 1);
  EXPECT_EXIT(std::exit(std::string(kernels::cuda::gemm_own_variant().name) == "smem_tiled" ? 0 : 3),
              ::testing::ExitedWithCode(0), "");
  if (before) ::setenv("CONVOY_CUDA_GEMM", before, 1);
  else ::unsetenv("CONVOY_CUDA_GEMM");
}

TEST(CudaGemm, AnUnknownEnvironmentVariantIsRefusedWithTheChoices) {
  try {
    kernels::cuda::gemm_own_from("regtile_64");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("CONVOY_CUDA_GEMM='regtile_64'"), std::string::npos) << m;
    EXPECT_NE(m.find("warptile_128x128x16"), std::string::npos) << m;
  }
  EXPECT_STREQ(kernels::cuda::gemm_own_from("naive").name, "naive");
}

TEST(CudaGemm, UnknownVariantNamesTheKnownOnes) {
  try {
    kernels::cuda::gemm_variant("no_such_kernel");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("regtile_128x128"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convoy
