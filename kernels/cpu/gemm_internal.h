// Internals of the CPU SGEMM shared by the packing driver (gemm_packed.cpp), the
// micro-kernels (gemm_microkernel_{generic,avx2,avx512}.cpp) and the tests.
//
// Design note. C = alpha * op(A) * op(B) + beta * C is computed in the Goto/BLIS way:
//   jc loop (NC columns of C)  -> pc loop (KC of the shared dimension): pack op(B) into
//   NR-column micro-panels (kc x NR, k-major)  -> ic loop (MC rows): pack op(A) into MR-row
//   micro-panels (MR x kc, k-major)  -> jr / ir loops: one micro-kernel call per MR x NR
//   tile of C. The micro-kernel keeps the whole tile in registers for the kc loop.
// Packing absorbs the transposes, so the micro-kernels see one layout only. A panel may
// also be read in place when its memory already has the packed shape (a stride per k):
// the micro-kernels take the k-stride of each operand, so that op(B) = B (row-major) or
// op(A) = A^T need not be copied for small problems.
//
// Header hygiene: the ISA-specific files are compiled with -mavx2 / -mavx512f; they must
// include nothing that emits shared inline code (no <vector>, <algorithm>, ...), or the
// linker could pick an AVX-512 copy of a common function for everyone. This header holds
// plain declarations only.
#pragma once

namespace convoy::kernels {
struct GemmArgs;  // kernels/gemm.h
}

namespace convoy::kernels::cpu::gemm {

// One MR x NR tile: C[r][j] = alpha * sum_k a[k*a_step + r] * b[k*b_step + j] + beta * C[r][j]
// for r < MR, j < NR, k < kc, summed in increasing k. beta == 0: C is not read. Write-back
// rounding is fixed: beta == 0 gives alpha*acc, otherwise fma(alpha, acc, beta*C).
// b must be 32-byte aligned when b_step is the packed NR (packed panels are 64-byte aligned).
using MicroKernelFn = void (*)(long kc, const float* a, long a_step, const float* b, long b_step,
                               float* c, long ldc, float alpha, float beta);

struct MicroKernel {
  const char* name;  // "avx512", "avx2", "generic"
  int mr, nr;        // register tile
  int mc, kc, nc;    // cache blocking: A block mc x kc (L2), B panel kc x nc (L3), kc x nr in L1
  MicroKernelFn fn;
};

// The variants. avx512/avx2 may only be *called* when the CPU supports them.
const MicroKernel& microkernel_generic();
const MicroKernel& microkernel_avx2();
const MicroKernel& microkernel_avx2_4x24();  // the AVX2 tile for row counts that 6 does not divide
const MicroKernel& microkernel_avx512();

// The one for cpu_isa() (kernels/cpu/cpu_isa.h): the best the CPU has, or CONVOY_CPU_ISA.
const MicroKernel& microkernel_best();

// mr rows of a row-major matrix (rows lda apart, contiguous in k) as one k-major micro-panel
// of the A operand: dst[k * mr + r] = src[r * lda + k], with register transposes for mr 4, 6, 12.
void pack_rows_k_major(int mr, const float* src, long lda, int kc, float* dst);

// The micro-kernel of that ISA for a GEMM of rows x cols (C's rows and columns as the driver
// packs them: a convolution's output channels and pixels or taps): microkernel_best(), or a
// tile of the same ISA whose padded rows x cols are fewer (AVX2: 4 x 24 where 6 does not
// divide rows and 4 does, as for 32 channels, unless it pads the columns more than that saves).
const MicroKernel& microkernel_for_shape(int rows, int cols);

// The packed driver with an explicit micro-kernel and thread count (threads >= 1; the
// split never changes a result: each C element is summed in the same order regardless).
// packing: automatic (by shape), always (pack both operands), or direct_where_possible (read
// op(A) = A^T and op(B) = B in place whatever the shape); the tests cover all three.
enum class Packing { automatic, always, direct_where_possible };
void sgemm_packed(const MicroKernel& kernel, const GemmArgs& args, int threads,
                  Packing packing = Packing::automatic);

}  // namespace convoy::kernels::cpu::gemm
