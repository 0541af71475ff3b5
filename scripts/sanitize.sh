#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, the GPU tests
# included: a build with the emulated CUDA device (-DCONVOY_CUDA=emulated, docs/cuda.md) in
# place of the real one and no benchmarks, with -DCONVOY_SANITIZE="address;undefined", into
# build-asan/ (BUILD_DIR overrides), then ctest. Every host line of the GPU path (the
# trainer, evaluation, resume and serving on a device, the input pipeline's streams and
# events, the caching allocator) runs here with its pointers checked. Any ASan report (leaks
# included) or UBSan finding aborts the test that hit it, so the script fails.
# Suppressions: scripts/sanitize.supp.
#
# The build uses clang-14 (SANITIZE_CXX overrides) and also holds the libFuzzer targets
# (CONVOY_BUILD_FUZZ), so scripts/fuzz.sh reuses it: one instrumented compile of the library
# instead of two, which on 2 cores is most of the cost of both jobs.
#   scripts/sanitize.sh                      # build everything, run the tests
#   scripts/sanitize.sh --build TARGET...    # configure and build only these targets (fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${JOBS:-$(nproc)}"
CXX_COMPILER="${SANITIZE_CXX:-clang++-14}"
start=$(date +%s)
fuzz=OFF
[[ "$CXX_COMPILER" == *clang* ]] && fuzz=ON
# -O1: instrumented -O3 builds take several times longer to compile on 2 cores, for tests
# that run at most twice as fast.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1 -DNDEBUG" \
  -DCMAKE_CXX_COMPILER="$CXX_COMPILER" -DCONVOY_CUDA=emulated -DCONVOY_BUILD_BENCH=OFF \
  -DCONVOY_BUILD_TESTS=ON -DCONVOY_BUILD_TOOLS=ON -DCONVOY_INSTALL=OFF -DCONVOY_BUILD_FUZZ=$fuzz \
  "-DCONVOY_SANITIZE=address;undefined" >/dev/null
if [ "${1:-}" = "--build" ]; then
  shift
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "$@"
  exit 0
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
built=$(date +%s)

# detect_leaks: LeakSanitizer at exit. halt_on_error/abort_on_error: the first finding fails
# the test process. UBSan findings abort too (-fno-sanitize-recover=undefined).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitize.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$BUILD_DIR"
# Everything runs, the gpu label on the emulated device. Sanitized code is 2-5x slower,
# hence the longer per-test timeout.
# One ctest for the whole suite. tests/CMakeLists.txt turns leak detection off for the two
# tests that start mpirun (OpenMPI leaks small allocations in its dlopen'ed MCA components at
# MPI_Finalize, and once they are unloaded the frames are "<unknown module>", so a suppression
# cannot name them), gives the tests with their own limits the suite's, and starts the longest
# first, so both cores stay busy to the end.
# The sagemaker label is left out: those are Python tests of the container contract and the
# launcher, already run by scripts/test.sh; the C++ they start (convoy-train, convoy-serve)
# runs here under the e2e and serve tests. Under ASan they took 840 s of test time (of the
# 29 minutes the whole suite took on 2 cores, about 7).
rc=0
ctest --output-on-failure -j "$JOBS" --timeout 1500 -LE sagemaker || rc=$?
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s" >&2
exit $rc
