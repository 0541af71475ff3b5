#!/usr/bin/env bash
# The one prepared GPU check. Run on a machine with an NVIDIA GPU from
# the repository root, after tools/gpu/prepare-carry.sh filled .gpu-carry/ on a build host:
#   OUT=/some/folder tools/gpu/gpu-check.sh [stages...]
# Stages (default, in this order): env gdbtrain tests train serve memcheck bench; also tta (resnet
# to 94% against PyTorch, several minutes) and candidates (training with the candidate
# kernels in place of the defaults), asked for by name. Each stage has its own time
# limit; one failing stage does not stop the others. Logs go to $OUT/gpu-check.log, benchmark
# JSON to $OUT/*.json, and a results table is printed last (and saved as $OUT/summary.txt).
# CONVOY_CUDA_CONV and CONVOY_CUDA_GEMM (docs/cuda.md) reach every binary it runs, e.g. to
# train with candidate kernels: CONVOY_CUDA_CONV=implicit_gemm/implicit_gemm_flipped/implicit_gemm_kgather.
set -u
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/convoy-gpu-out}"
mkdir -p "$OUT"
C="$PWD/.gpu-carry"
# The carry holds executables and one large library xz-compressed (tools/gpu/prepare-carry.sh).
for f in "$C"/bin/*.xz "$C"/lib/*.xz "$C"/asan/*.xz; do [ -e "$f" ] && [ ! -e "${f%.xz}" ] && xz -dk "$f"; done
LOG="$OUT/gpu-check.log"
SUMMARY="$OUT/summary.txt"
: >"$LOG"
: >"$SUMMARY"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(env gdbtrain tests train serve memcheck bench)
# Whole-run budget (seconds): a stage is skipped when less than its time limit is left, so the
# table always comes back inside one device call.
BUDGET="${GPU_BUDGET:-540}"
T_START=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - T_START))); }
row() { printf '%-34s %s\n' "$1" "$2" | tee -a "$SUMMARY"; }

# CUDA libraries: the toolkit's, else the Python wheels under the python3 that holds PyTorch.
PY=python3
site=$($PY -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null || true)
libdirs="$C/lib"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         "$site"/nvidia/cublas/lib "$site"/nvidia/cudnn/lib "$site"/nvidia/nccl/lib \
         "$site"/nvidia/cuda_runtime/lib "$site"/nvidia/cu13/lib; do
  [ -d "$d" ] && libdirs="$libdirs:$d"
done
# Anything still unresolved: look for it once (the image's layout is not fixed).
for lib in libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libcudart.so.13; do
  found=""
  IFS=: read -ra ds <<<"$libdirs"
  for d in "${ds[@]}"; do [ -e "$d/$lib" ] && found=1 && break; done
  if [ -z "$found" ] && ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    hit=$(find / -xdev -name "$lib" -not -path "/proc/*" 2>/dev/null | head -1)
    [ -n "$hit" ] && libdirs="$libdirs:$(dirname "$hit")"
  fi
done
export LD_LIBRARY_PATH="$libdirs:${LD_LIBRARY_PATH:-}"
# Use the carried libstdc++ only when the image's is older than the one we built with.
if ! ldd "$C/bin/convoy-train" 2>&1 | grep -q "not found" && "$C/bin/convoy-train" --help >/dev/null 2>&1; then :; else
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$C/libstdcxx"
fi
BIN="$C/bin"
DATA="$C/data/cifar10-jpeg75.tar.gz"
# The test binaries find the carried tools and data here (tests/common/test_paths.h).
export CONVOY_TOOL_DIR="$BIN" CONVOY_TEST_ARCHIVE="$DATA"

run_stage() {  # name timeout command...
  local name=$1 limit=$2; shift 2
  if [ "$(left)" -lt "$limit" ]; then
    if [ "$(left)" -lt 20 ]; then row "$name" "skipped (budget)"; return 99; fi
    limit=$(left)
  fi
  local t0=$(date +%s)
  echo "===== $name: $*" >>"$LOG"
  # A tool that stops gracefully on SIGTERM (convoy-train ends its step and saves) is killed
  # 15 s later, so a stage overruns its limit by 15 s at most.
  timeout -k 15 "$limit" "$@" >>"$LOG" 2>&1
  local rc=$? t1=$(date +%s)
  echo "===== $name: rc=$rc in $((t1 - t0)) s" >>"$LOG"
  row "$name" "rc=$rc $((t1 - t0))s"
  return $rc
}

stage_env() {
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
    nvcc --version | tail -1
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for f in "$BIN"/*; do ldd "$f" | grep "not found" | sed "s|^|$(basename "$f"): |"; done
    $PY -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
  } >>"$LOG" 2>&1
  row "gpu" "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
}

stage_tests() {
  # The kernels against the CPU, one training step against the CPU, and the tools end to end
  # on the card (ToolsOnDevice.*: train in both input modes, eval, SIGKILL + resume, serve,
  # mpirun); all of them also run on the emulated device in CI.
  run_stage "gpu tests" 240 "$BIN/convoy_gpu_tests" --gtest_brief=1
  grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$LOG" | tail -3 | while read -r l; do row "  gtest" "$l"; done
}

stage_serve() {
  # The inference endpoint on the GPU: convoy-serve --device cuda with the model the train stage
  # wrote (or a fresh 1-epoch one), one real JPEG through /invocations, then SIGTERM.
  M="$OUT/run-quick/model.convoy"
  [ -f "$M" ] || run_stage "convoy quick cuda 1ep (for serve)" 60 "$BIN/convoy-train" --device cuda --model quick \
    --epochs 1 --train-batches 1 --data "$DATA" --no-progress --out "$OUT/run-serve"
  [ -f "$M" ] || M="$OUT/run-serve/model.convoy"
  run_stage "convoy-serve cuda /invocations" 60 tools/gpu/serve-check.sh "$BIN" "$M" "$DATA" "$OUT/serve" "$PY"
}

stage_memcheck() {
  # Every GPU test under memcheck; the large-shape and benchmark-like cases are filtered out
  # to fit the time (they run without the sanitizer in 'tests').
  run_stage "memcheck" 90 compute-sanitizer --tool memcheck --error-exitcode 9 --print-limit 20 \
    "$BIN/convoy_gpu_tests" --gtest_brief=1 --gtest_filter="${MEMCHECK_FILTER:-GpuTraining.Quick*:*Augment*:*Sgd*:*Loss*:GpuDeviceInput.Staged*:GpuPinnedCopy.*:CudaHalf.*}"
  grep -E "ERROR SUMMARY" "$LOG" | tail -1 | while read -r l; do row "  sanitizer" "$l"; done
}

stage_bench() {
  for b in gemm_cuda_bench conv2d_cuda_bench ops_cuda_bench; do
    [ -x "$BIN/$b" ] || continue
    run_stage "$b" 60 "$BIN/$b" --benchmark_min_time=0.05 --benchmark_format=console \
      --benchmark_out="$OUT/$b.json" --benchmark_out_format=json
  done
}

stage_gdbtrain() {
  # The convoy-train --device cuda crash (SIGSEGV in free() while an exception unwound
  # out of train_model). First the trainer loop inside the test binary, then the tool with every
  # Error printed as it is thrown, glibc's heap checks on, and cuda-gdb stopping at the first
  # throw, so the backtrace shows where the exception came from rather than the later crash.
  run_stage "gpu TrainModel tests" 90 env CONVOY_TRACE_ERRORS=1 "$BIN/convoy_gpu_tests" \
    --gtest_filter='GpuTraining.TrainModel*'
  MDEBUG=$(ls /usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0 /lib/x86_64-linux-gnu/libc_malloc_debug.so.0 2>/dev/null | head -1)
  run_stage "convoy-train cuda (heap checks)" 90 env CONVOY_TRACE_ERRORS=1 MALLOC_CHECK_=3 \
    ${MDEBUG:+LD_PRELOAD=$MDEBUG} "$BIN/convoy-train" --device cuda --model quick --epochs 1 --train-batches 1 \
    --data "$DATA" --threads 16 --no-progress --out "$OUT/run-heap"
  grep -E "^convoy: throwing|convoy-train: error|free\(\)|corrupt" "$LOG" | head -6 | while read -r l; do row "  heap" "$l"; done
  # The same run with the host code under AddressSanitizer (carried xz-compressed; CUDA needs
  # protect_shadow_gap=0). A heap overflow or use-after-free on the host is reported at the
  # faulty access, with its stack; writes the GPU makes into host memory are not seen by ASan.
  if [ -x "$C/asan/convoy-train" ]; then
    run_stage "convoy-train cuda (ASan host)" 120 env CONVOY_TRACE_ERRORS=1 \
      ASAN_OPTIONS=protect_shadow_gap=0:detect_leaks=0:halt_on_error=1:abort_on_error=0:symbolize=1 \
      "$C/asan/convoy-train" --device cuda --model quick --epochs 1 --train-batches 1 --data "$DATA" --threads 16 \
      --no-progress --out "$OUT/run-asan"
    grep -E "ERROR: AddressSanitizer|SUMMARY: AddressSanitizer|^ +#[0-9] " "$LOG" | head -10 | while read -r l; do row "  asan" "$l"; done
  fi
  run_stage "cuda-gdb convoy-train" 120 env CONVOY_TRACE_ERRORS=1 cuda-gdb -batch -ex "catch throw" -ex run -ex bt \
    -ex continue -ex bt -ex "info threads" --args "$BIN/convoy-train" \
    --device cuda --model quick --epochs 1 --train-batches 1 --data "$DATA" --threads 16 --no-progress \
    --out "$OUT/run-gdb"
  grep -E "^#[0-9]+ |^convoy: throwing" "$LOG" | head -16 | while read -r l; do row "  bt" "$l"; done
}

# The training recipe of each model, shared by convoy and the PyTorch peer: same batch,
# augmentation and schedule.
recipe() {
  case $1 in
    quick) echo "--epochs ${QUICK_EPOCHS:-2} --batch-size 128" ;;
    resnet) echo "--epochs ${RESNET_EPOCHS:-2} --batch-size 512 --lr 0.4 --label-smoothing 0.2 --cutout 8" ;;
  esac
}

log_lines() { wc -l <"$LOG"; }

epoch_row() {  # label, the log's line count before the run: that run's last epoch line
  local l
  l=$(tail -n +"$(($2 + 1))" "$LOG" | grep -E "^epoch=" | tail -1)
  row "  $1" "${l:-no epoch finished}"
}

convoy_run() {  # model, name suffix, time limit, then VAR=value settings for the run
  local model=$1 suffix=$2 limit=$3 from; shift 3
  from=$(log_lines)
  run_stage "convoy $model cuda$suffix" "$limit" env "$@" "$BIN/convoy-train" --device cuda --model "$model" \
    $(recipe "$model") --data "$DATA" --threads 16 --no-progress --out "$OUT/run-$model${suffix// /-}" ${TRAIN_EXTRA:-}
  epoch_row "convoy $model$suffix" "$from"
}

stage_train() {
  # Each model: convoy (own kernels) and the PyTorch peer (eager, cuDNN, FP32) back to back,
  # same recipe; images/s of the last epoch is the comparison.
  local model from
  for model in quick resnet; do
    convoy_run "$model" "" $([ "$model" = quick ] && echo 120 || echo 150)
    from=$(log_lines)
    run_stage "torch $model cuda" 120 $PY bench/peers/pytorch_train.py --data "$DATA" --device cuda \
      --model "$model" $(recipe "$model") --threads 16 --json "$OUT/peer-$model.json"
    epoch_row "torch $model" "$from"
  done
}

stage_tta() {
  # Time for resnet to reach 94% test accuracy, convoy and the PyTorch peer on the same card
  # with the same recipe (DAWNBench ResNet-9: batch 512, one-cycle peak 0.4, label smoothing
  # 0.2, cutout 8, mirror test-time augmentation; TTA_EPOCHS epochs, 24 by default). Not in the
  # default list: run it alone (gpu-check.sh tta) once the trainer runs on the GPU.
  run_stage "resnet to 94% (convoy, torch)" "${TTA_LIMIT:-480}" env CONVOY_BIN="$BIN" OUT_ROOT="$OUT" \
    bench/train_vs_pytorch.sh --model resnet --device cuda --epochs "${TTA_EPOCHS:-24}" --threads 16 --data "$DATA" \
    --target 0.94 --tta
  grep -E "^\| (convoy|pytorch)" "$LOG" | tail -2 | while read -r l; do row "  tta" "$l"; done
}

stage_candidates() {
  # The train stage's convoy runs again with the candidate convolution passes (docs/cuda.md),
  # so that images/s with and without them come from one call. Run after 'train'.
  local conv="${CANDIDATE_CONV:-implicit_gemm/implicit_gemm_flipped/implicit_gemm_kgather}"
  convoy_run quick " candidates" 120 CONVOY_CUDA_CONV="$conv"
  convoy_run resnet " candidates" 150 CONVOY_CUDA_CONV="$conv"
}

# The stages run in the order asked for (the default puts the trainer-crash diagnosis first,
# so the budget never skips it); an unknown stage name is an error before anything runs.
for s in "${stages[@]}"; do
  declare -F "stage_$s" >/dev/null || { echo "gpu-check: unknown stage '$s' (env gdbtrain tests train serve memcheck bench tta candidates)" >&2; exit 2; }
done
for s in "${stages[@]}"; do "stage_$s"; done

echo
echo "================ convoy GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ) ================"
cat "$SUMMARY"
