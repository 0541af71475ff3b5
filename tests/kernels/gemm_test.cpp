// CPU SGEMM: every micro-kernel variant and the public cpu::sgemm against the double
// precision reference, on odd shapes, all transposes, padded leading dimensions, alpha/beta
// combinations, 1 and 2 threads, and from inside an omp parallel region.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/error_text.h"
#include "common/test_util.h"
#include "engine/error.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/gemm.h"

namespace convoy::kernels {
namespace {

using cpu::gemm::MicroKernel;
using cpu::gemm::Packing;

const Packing kPackings[] = {Packing::automatic, Packing::always, Packing::direct_where_possible};
const char* name(Packing p) {
  return p == Packing::automatic ? "automatic" : p == Packing::always ? "always" : "direct";
}

struct Problem {
  GemmArgs args;
  std::vector<float> a, b, c0;
};

// Random op(A) (M x K), op(B) (K x N), C (M x N) with leading dimensions padded by `pad`.
Problem make_problem(int M, int N, int K, Trans ta, Trans tb, int pad, float alpha, float beta,
                     uint64_t seed) {
  Problem p;
  GemmArgs& g = p.args;
  g.trans_a = ta;
  g.trans_b = tb;
  g.M = M, g.N = N, g.K = K;
  g.alpha = alpha;
  g.beta = beta;
  const int a_rows = ta == Trans::no ? M : K, a_cols = ta == Trans::no ? K : M;
  const int b_rows = tb == Trans::no ? K : N, b_cols = tb == Trans::no ? N : K;
  g.lda = a_cols + pad;
  g.ldb = b_cols + pad;
  g.ldc = N + pad;
  p.a = test::random_vector(static_cast<size_t>(a_rows) * g.lda + 1, seed);
  p.b = test::random_vector(static_cast<size_t>(b_rows) * g.ldb + 1, seed + 1);
  p.c0 = test::random_vector(static_cast<size_t>(M) * g.ldc + 1, seed + 2);
  g.A = p.a.data();
  g.B = p.b.data();
  return p;
}

// Initial C: random when beta != 0, NaN when beta == 0 (it must not be read).
std::vector<float> initial_c(const Problem& p) {
  return p.args.beta == 0.0f ? test::poisoned(p.c0.size()) : p.c0;
}

// The M x N window of C (dropping the padding, which must stay untouched).
std::vector<float> window(const std::vector<float>& c, const GemmArgs& g) {
  std::vector<float> w;
  for (int i = 0; i < g.M; ++i)
    for (int j = 0; j < g.N; ++j) w.push_back(c[static_cast<size_t>(i) * g.ldc + j]);
  return w;
}

std::vector<float> run_reference(const Problem& p) {
  std::vector<float> c = initial_c(p);
  GemmArgs g = p.args;
  g.C = c.data();
  cpu::sgemm_reference(g);
  return c;
}

template <typename Fn>
void expect_matches(const Problem& p, Fn&& run, const std::string& what) {
  const std::vector<float> want = run_reference(p);
  std::vector<float> got = initial_c(p);
  GemmArgs g = p.args;
  g.C = got.data();
  run(g);
  const double err = test::rel_error(window(got, g), window(want, g));
  EXPECT_LE(err, 1e-5) << what;
  // Padding columns between rows of C are never written.
  const std::vector<float> before = initial_c(p);
  for (int i = 0; i < g.M; ++i)
    for (int j = g.N; j < g.ldc; ++j) {
      const size_t at = static_cast<size_t>(i) * g.ldc + j;
      if (std::isnan(before[at])) {
        ASSERT_TRUE(std::isnan(got[at])) << what << ": padding written at " << i << "," << j;
      } else {
        ASSERT_EQ(got[at], before[at]) << what << ": padding written at " << i << "," << j;
      }
    }
}

std::string describe(const GemmArgs& g, int threads) {
  return "M=" + std::to_string(g.M) + " N=" + std::to_string(g.N) + " K=" + std::to_string(g.K) +
         " ta=" + std::to_string(g.trans_a == Trans::yes) + " tb=" + std::to_string(g.trans_b == Trans::yes) +
         " lda=" + std::to_string(g.lda) + " ldb=" + std::to_string(g.ldb) + " ldc=" + std::to_string(g.ldc) +
         " alpha=" + std::to_string(g.alpha) + " beta=" + std::to_string(g.beta) +
         " threads=" + std::to_string(threads);
}

std::vector<const MicroKernel*> available_kernels() {
  std::vector<const MicroKernel*> ks{&cpu::gemm::microkernel_generic()};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    ks.push_back(&cpu::gemm::microkernel_avx2());
    ks.push_back(&cpu::gemm::microkernel_avx2_4x24());
  }
  if (__builtin_cpu_supports("avx512f")) ks.push_back(&cpu::gemm::microkernel_avx512());
  return ks;
}

const int kOddSizes[] = {1, 7, 13, 33, 67, 129};

TEST(CpuGemm, EveryKernelOddShapesAllTransposes) {
  uint64_t seed = 100;
  for (const MicroKernel* uk : available_kernels()) {
    for (Trans ta : {Trans::no, Trans::yes})
      for (Trans tb : {Trans::no, Trans::yes})
        for (int M : kOddSizes)
          for (int N : {1, 17, 67}) {
            const int K = kOddSizes[(M + N) % 6];
            const Problem p = make_problem(M, N, K, ta, tb, /*pad=*/3, 1.0f, 0.0f, seed++);
            for (Packing packing : kPackings)
              for (int threads : {1, 2})
                expect_matches(p, [&](const GemmArgs& g) { cpu::gemm::sgemm_packed(*uk, g, threads, packing); },
                               std::string(uk->name) + " " + name(packing) + " " + describe(p.args, threads));
          }
  }
}

// Sizes past the cache blocks (K > kc, M > mc, N spanning several threads' rectangles).
TEST(CpuGemm, EveryKernelLargerThanOneBlock) {
  uint64_t seed = 500;
  for (const MicroKernel* uk : available_kernels()) {
    for (Trans ta : {Trans::no, Trans::yes})
      for (Trans tb : {Trans::no, Trans::yes}) {
        const Problem p = make_problem(257, 131, 521, ta, tb, /*pad=*/5, 0.75f, -0.5f, seed++);
        for (Packing packing : kPackings)
          for (int threads : {1, 2})
            expect_matches(p, [&](const GemmArgs& g) { cpu::gemm::sgemm_packed(*uk, g, threads, packing); },
                           std::string(uk->name) + " " + name(packing) + " " + describe(p.args, threads));
      }
  }
}

TEST(CpuGemm, AlphaBetaCombinations) {
  uint64_t seed = 900;
  for (float alpha : {1.0f, -2.5f, 0.0f})
    for (float beta : {0.0f, 1.0f, 0.5f})
      for (Trans ta : {Trans::no, Trans::yes})
        for (Trans tb : {Trans::no, Trans::yes}) {
          const Problem p = make_problem(37, 45, 29, ta, tb, /*pad=*/2, alpha, beta, seed++);
          for (int threads : {1, 2}) {
            omp_set_num_threads(threads);
            expect_matches(p, [](const GemmArgs& g) { cpu::sgemm(g); }, describe(p.args, threads));
          }
        }
}

TEST(CpuGemm, ZeroKGivesBetaTimesC) {
  for (float beta : {0.0f, 2.0f}) {
    const Problem p = make_problem(5, 9, 0, Trans::no, Trans::no, 1, 1.0f, beta, 7);
    expect_matches(p, [](const GemmArgs& g) { cpu::sgemm(g); }, describe(p.args, 1));
  }
}

// Convolution-like shapes: forward (M = K_out, N = P*Q, K = C*R*S) and the weight gradient
// (op(A) = dY, op(B) = cols^T), large enough that the default path is multi-threaded.
TEST(CpuGemm, ConvolutionShapes) {
  struct Shape { int M, N, K; Trans ta, tb; };
  const Shape shapes[] = {{32, 1024, 27, Trans::no, Trans::no},  {64, 256, 576, Trans::no, Trans::no},
                          {128, 64, 1152, Trans::no, Trans::no}, {64, 576, 256, Trans::no, Trans::yes},
                          {27, 32, 1024, Trans::yes, Trans::no}, {576, 64, 256, Trans::yes, Trans::no}};
  uint64_t seed = 1300;
  for (const Shape& s : shapes)
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const Problem p = make_problem(s.M, s.N, s.K, s.ta, s.tb, 0, 1.0f, 1.0f, seed++);
      expect_matches(p, [](const GemmArgs& g) { cpu::sgemm(g); }, describe(p.args, threads));
    }
}

// The result must not depend on the thread count (the summation order per element is fixed).
TEST(CpuGemm, SameResultForOneAndTwoThreads) {
  const Problem p = make_problem(301, 203, 600, Trans::no, Trans::yes, 1, 1.0f, 0.0f, 77);
  std::vector<float> one = initial_c(p), two = initial_c(p);
  GemmArgs g = p.args;
  g.C = one.data();
  cpu::gemm::sgemm_packed(cpu::gemm::microkernel_best(), g, 1);
  g.C = two.data();
  cpu::gemm::sgemm_packed(cpu::gemm::microkernel_best(), g, 2);
  EXPECT_EQ(window(one, g), window(two, g));
}

// Reading an operand in place performs the same arithmetic as packing it: bit-identical.
TEST(CpuGemm, InPlaceOperandsGiveTheSameBits) {
  const Problem p = make_problem(61, 45, 300, Trans::yes, Trans::no, 2, 1.0f, 0.5f, 91);
  std::vector<float> packed = initial_c(p), direct = initial_c(p);
  GemmArgs g = p.args;
  g.C = packed.data();
  cpu::gemm::sgemm_packed(cpu::gemm::microkernel_best(), g, 1, Packing::always);
  g.C = direct.data();
  cpu::gemm::sgemm_packed(cpu::gemm::microkernel_best(), g, 1, Packing::direct_where_possible);
  EXPECT_EQ(window(packed, g), window(direct, g));
}

// Convolution calls sgemm from inside its own parallel loop: it must run on the calling
// thread, never deadlock, and keep per-thread scratch apart.
TEST(CpuGemm, CalledFromInsideParallelRegion) {
  constexpr int kCalls = 6;
  std::vector<Problem> problems;
  std::vector<std::vector<float>> want, got;
  for (int i = 0; i < kCalls; ++i) {
    problems.push_back(make_problem(33 + 7 * i, 67 - 5 * i, 129 + 31 * i, i % 2 ? Trans::yes : Trans::no,
                                    i % 3 ? Trans::no : Trans::yes, 1, 1.0f, i % 2 ? 0.5f : 0.0f, 2000 + i));
    want.push_back(run_reference(problems.back()));
    got.push_back(initial_c(problems.back()));
  }
  omp_set_num_threads(2);
#pragma omp parallel for schedule(static) num_threads(2)
  for (int i = 0; i < kCalls; ++i) {
    GemmArgs g = problems[i].args;
    g.C = got[i].data();
    cpu::sgemm(g);
  }
  for (int i = 0; i < kCalls; ++i)
    EXPECT_LE(test::rel_error(window(got[i], problems[i].args), window(want[i], problems[i].args)), 1e-5)
        << describe(problems[i].args, 2);
}

// The micro-kernel is the one of the ISA the process uses: the best the CPU has, or the one
// CONVOY_CPU_ISA pins (the cpu_isa_* ctest runs pin each in turn).
TEST(CpuGemm, ReportsItsMicroKernel) {
  const std::string name = cpu::sgemm_microkernel_name();
  EXPECT_EQ(name, cpu::to_string(cpu::cpu_isa()));
  __builtin_cpu_init();
  const char* pinned = std::getenv("CONVOY_CPU_ISA");
  if (!(pinned && *pinned) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      !__builtin_cpu_supports("avx512f"))
    EXPECT_EQ(name, "avx2");
}

TEST(CpuGemm, RejectsShortLeadingDimension) {
  Problem p = make_problem(4, 4, 4, Trans::no, Trans::no, 0, 1.0f, 0.0f, 3);
  std::vector<float> c = initial_c(p);
  p.args.C = c.data();
  p.args.lda = 3;
  EXPECT_THROW(cpu::sgemm(p.args), Error);
}

TEST(CpuGemm, ArgumentErrorsNameTheArgumentAndItsBound) {
  Problem p = make_problem(4, 5, 6, Trans::no, Trans::no, 0, 1.0f, 0.0f, 3);
  std::vector<float> c = initial_c(p);
  p.args.C = c.data();
  GemmArgs g = p.args;
  g.lda = 5;
  EXPECT_ERROR_SAYS(cpu::sgemm(g), "sgemm: lda=5", "op(A)'s row length 6");
  g = p.args;
  g.ldb = 4;
  EXPECT_ERROR_SAYS(cpu::sgemm(g), "sgemm: ldb=4", "op(B)'s row length 5");
  g = p.args;
  g.ldc = 3;
  EXPECT_ERROR_SAYS(cpu::sgemm(g), "sgemm: ldc=3", "less than N=5");
  g = p.args;
  g.K = -1;
  EXPECT_ERROR_SAYS(cpu::sgemm(g), "sgemm: negative size M=4 N=5 K=-1");
}

TEST(Gemm, DispatchesToCpu) {
  const Problem p = make_problem(19, 23, 31, Trans::yes, Trans::yes, 2, 1.5f, 0.0f, 11);
  expect_matches(p, [](const GemmArgs& g) { sgemm(Exec{}, g); }, describe(p.args, 0));
}

}  // namespace
}  // namespace convoy::kernels
