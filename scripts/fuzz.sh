#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang-14 into build-asan/ (shared with
# scripts/sanitize.sh: CPU-only, ASan + UBSan, coverage everywhere), writes their seed
# corpora from real data (fuzz/make_fuzz_seeds.cpp) and runs each target for FUZZ_SECONDS
# (default 60). A crash, a sanitizer finding, a leak, a
# timeout (-timeout, seconds per input) or a memory blow-up (-rss_limit_mb) fails the script;
# the input that did it is left in build-asan/fuzz/artifacts/<target>/ (reproduce with
# build-asan/fuzz/<target> <file>). Inputs the runs find stay in build-asan/fuzz/corpus/, so
# later runs start from where earlier ones ended. Inputs that once failed a target are kept in
# fuzz/regressions/<name>/ and replayed before it fuzzes. docs/fuzzing.md records the longer runs.
#   FUZZ_SECONDS=300 scripts/fuzz.sh                 # 5 minutes per target
#   FUZZ_TARGETS="fuzz_archive" scripts/fuzz.sh      # one target
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-20}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-2048}"
ARCHIVE="${CONVOY_TEST_ARCHIVE:-$PWD/../shared/data/cifar10-jpeg75.tar.gz}"
JOBS="${JOBS:-$(nproc)}"
start=$(date +%s)

# The instrumented build of scripts/sanitize.sh (clang-14, ASan + UBSan, coverage for
# libFuzzer everywhere); only the fuzz targets and the seed writer are built here.
targets="${FUZZ_TARGETS:-fuzz_cifar_batch fuzz_image_decode fuzz_archive fuzz_model_file}"
if [ -z "${FUZZ_TARGETS:-}" ] && [ -f serve/request_decode.h ]; then targets="$targets fuzz_request_decode"; fi
if [ -z "${FUZZ_TARGETS:-}" ] && [ -f serve/http_request_reader.h ]; then targets="$targets fuzz_http_request"; fi
BUILD_DIR="$BUILD_DIR" JOBS="$JOBS" scripts/sanitize.sh --build make_fuzz_seeds $targets
built=$(date +%s)

FUZZ_DIR="$BUILD_DIR/fuzz"
# One thread: the data sources decode in parallel with OpenMP, which only slows fuzzing down.
export OMP_NUM_THREADS=1
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
rm -rf "$FUZZ_DIR/seeds"
"$FUZZ_DIR/make_fuzz_seeds" "$FUZZ_DIR/seeds" "$ARCHIVE"

failed=()
for target in $targets; do
  name="${target#fuzz_}"
  corpus="$FUZZ_DIR/corpus/$name" artifacts="$FUZZ_DIR/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  t0=$(date +%s)
  log="$FUZZ_DIR/$target.log"
  # Inputs that once failed this target (fuzz/regressions/<name>/) are replayed first, so a
  # fixed crash that comes back fails CI at once instead of waiting for the fuzzer to find it.
  replay=(fuzz/regressions/"$name"/*)
  if [ -e "${replay[0]}" ]; then
    if ! "$FUZZ_DIR/$target" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" "${replay[@]}" >"$log" 2>&1; then
      tail -60 "$log" >&2
      echo "fuzz: $target FAILED replaying fuzz/regressions/$name/" >&2
      failed+=("$target")
      continue
    fi
    echo "fuzz: $target replayed ${#replay[@]} regression input(s) from fuzz/regressions/$name/" >&2
  fi
  if "$FUZZ_DIR/$target" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$FUZZ_DIR/seeds/$name" \
      >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
    tail -60 "$log" >&2
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  echo "fuzz: $target $status in $(( $(date +%s) - t0 )) s: $runs inputs, coverage $cov edges, corpus $(ls "$corpus" | wc -l) files" >&2
done
end=$(date +%s)
echo "fuzz: build $((built - start)) s, fuzzing $((end - built)) s, total $((end - start)) s" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $FUZZ_DIR/artifacts/)" >&2
  exit 1
fi
