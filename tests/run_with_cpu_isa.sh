#!/usr/bin/env bash
# Runs a test program with the CPU kernels pinned to one ISA (CONVOY_CPU_ISA, see
# kernels/cpu/cpu_isa.h), or exits 77 (ctest's SKIP_RETURN_CODE) when this CPU cannot run it.
#   tests/run_with_cpu_isa.sh generic|avx2|avx512 PROGRAM [ARGS...]
set -euo pipefail
isa="$1"
shift
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
case "$isa" in
  generic) ;;
  avx2) has avx2 && has fma || { echo "skipped: this CPU has no AVX2 with FMA"; exit 77; } ;;
  avx512) has avx512f || { echo "skipped: this CPU has no AVX-512F"; exit 77; } ;;
  *) echo "run_with_cpu_isa.sh: unknown ISA '$isa' (generic, avx2 or avx512)" >&2; exit 2 ;;
esac
export CONVOY_CPU_ISA="$isa"
exec "$@"
