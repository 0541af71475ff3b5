#!/usr/bin/env bash
# convoy's training against the PyTorch peer in one run, same machine, same settings:
#   bench/train_vs_pytorch.sh [--model quick|resnet] [--epochs N] [--threads T] [--data PATH]
#                              [--train-batches K] [--device cpu|cuda] [--lr X] [--target ACC] [--tta]
#                              [--eval-every N] [--seed S]
# Prints both runs' epoch lines and a table (images/s of the training step and end to end, the
# ratios, final test accuracy, time; with
# --target, the first epoch whose test accuracy reaches ACC and the time to it), and writes
# bench/out/<model>-<device>-<date>/{convoy,pytorch}.json. CONVOY_BIN (default build/bin) is
# where convoy-train is; OUT_ROOT (default bench/out) where the run folder goes.
set -euo pipefail
cd "$(dirname "$0")/.."
model=quick epochs=10 threads=2 device=cpu batches=5 lr=0.2 target=0
data="${CONVOY_DATA:-../shared/data/cifar10-jpeg75.tar.gz}"
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --train-batches) batches=$2; shift 2 ;;
    --lr) lr=$2; lr_set=1; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --tta) tta=1; shift ;;
    --eval-every) eval_every=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=python3
if ! $py -c "import torch" 2>/dev/null; then py=/usr/bin/python3; fi
$py -c "import torch" || { echo "PyTorch not found (Debian: apt-get install python3-torch)" >&2; exit 1; }
out="${OUT_ROOT:-bench/out}/$model-$device-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
extra=()
if [ "$model" = resnet ]; then [ -n "${lr_set:-}" ] || lr=0.4; extra=(--batch-size 512 --label-smoothing 0.2 --cutout 8); fi
extra+=(--lr "$lr")
[ -n "${tta:-}" ] && extra+=(--tta)
[ -n "${eval_every:-}" ] && extra+=(--eval-every "$eval_every")
[ -n "${seed:-}" ] && extra+=(--seed "$seed")
peer=()
# PyTorch's CPU convolutions run fastest in channels_last here (oneDNN); its GPU peer stays NCHW.
[ "$device" = cpu ] && peer+=(--channels-last)
echo "== convoy ($model, $device, $threads threads, $epochs epochs)"
"${CONVOY_BIN:-build/bin}/convoy-train" --model "$model" --device "$device" --epochs "$epochs" --threads "$threads" \
  --train-batches "$batches" --data "$data" --no-progress --out "$out/convoy-run" "${extra[@]}" | tee "$out/convoy.log"
cp "$out/convoy-run/report.json" "$out/convoy.json"
echo "== pytorch"
$py bench/peers/pytorch_train.py --model "$model" --device "$device" --epochs "$epochs" --threads "$threads" \
  --train-batches "$batches" --data "$data" --json "$out/pytorch.json" "${extra[@]}" "${peer[@]}" | tee "$out/pytorch.log"
$py - "$out" "$target" <<'PY'
import json, sys
out, target = sys.argv[1], float(sys.argv[2])
c = json.load(open(f"{out}/convoy.json"))
p = json.load(open(f"{out}/pytorch.json"))
ce = [e["images_per_sec"] for e in c["epochs"]]
pe = [e["images_per_sec"] for e in p["epochs"]]
# The peer's end-to-end rate counts its per-epoch augmentation pass too (absent from older runs).
pe2 = [e.get("end_to_end_images_per_sec", e["images_per_sec"]) for e in p["epochs"]]
# The first epoch carries warm-up (allocation, cuDNN autotuning); report the mean of the rest when there are.
cm = sum(ce[1:]) / len(ce[1:]) if len(ce) > 1 else ce[0]
pm = sum(pe[1:]) / len(pe[1:]) if len(pe) > 1 else pe[0]
pm2 = sum(pe2[1:]) / len(pe2[1:]) if len(pe2) > 1 else pe2[0]


def reached(epochs):
    """(epoch, elapsed s) of the first epoch at or above the target, or None."""
    for e in epochs:
        if e.get("test_acc", -1) >= target:
            return e["epoch"], e["elapsed_s"]
    return None


def to_target(epochs):
    r = reached(epochs)
    best = max(e.get("test_acc", 0) for e in epochs)
    return f"epoch {r[0]}, {r[1]:.1f} s" if r else f"not reached (best {best:.4f})"


print()
head = ("| run | images/s, training step | images/s, end to end | ratio to the peer's step | ratio end to end "
        "| final test acc | run s |" + (f" time to {target:.2%} |" if target > 0 else ""))
print(head)
print("|---" * (head.count("|") - 1) + "|")
# convoy's epoch rate is end to end (its batches are prepared on another thread while it trains).
rows = [("convoy", cm, cm, c["final"]["test_acc"], c["epochs"]),
        (f"pytorch {p['torch']}", pm, pm2, p["final_test_acc"], p["epochs"])]
for name, step, e2e, acc, ep in rows:
    line = (f"| {name} | {step:.1f} | {e2e:.1f} | {step / pm:.2f}x | {e2e / pm2:.2f}x | {acc:.4f} "
            f"| {ep[-1]['elapsed_s']:.1f} |")
    print(line + (f" {to_target(ep)} |" if target > 0 else ""))
PY
