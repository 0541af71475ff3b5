#!/usr/bin/env bash
# convoy's training throughput against the PyTorch peer's training step, in short runs that
# alternate between the two, so that both see the same machine (a shared VM's speed drifts by
# tens of percent over minutes, more than a 10-epoch run of one followed by the other can
# separate):
#   bench/step_vs_pytorch.sh [--model quick] [--rounds 3] [--threads 2] [--data FOLDER] [--batches 1]
# Each round trains convoy-train and bench/peers/pytorch_train.py (channels_last, its
# augmentation off the timed step) for 2 epochs over data_batch_1..K without test passes, and
# takes the second epoch's images/s (the first carries warm-up). Prints each round and the
# medians with their ratio. --data is a folder of CIFAR-10 binary batches (the JPEG archive
# would be decoded again every run; ../shared/data/jpeg_to_cifar_bin.py makes one).
# CONVOY_BIN (default build/bin) is where convoy-train is.
set -euo pipefail
cd "$(dirname "$0")/.."
model=quick rounds=3 threads=2 batches=1 data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$data" ] && [ -f "$data/data_batch_1.bin" ] || {
  echo "--data must be a folder of CIFAR-10 binary batches (data_batch_1.bin, ...)" >&2
  exit 2
}
py=python3
if ! $py -c "import torch" 2>/dev/null; then py=/usr/bin/python3; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
second_epoch_rate() { sed -n 's/^epoch=2 .*images_per_sec=\([0-9.]*\).*/\1/p' "$1" | head -1; }
convoy_rates=() peer_rates=()
for ((r = 1; r <= rounds; r++)); do
  "${CONVOY_BIN:-build/bin}/convoy-train" --model "$model" --device cpu --epochs 2 --eval-every 0 --threads "$threads" \
    --train-batches "$batches" --data "$data" --no-progress --out "$out/convoy" --overwrite > "$out/convoy.log" 2>&1
  $py bench/peers/pytorch_train.py --model "$model" --epochs 2 --eval-every 0 --threads "$threads" \
    --train-batches "$batches" --data "$data" --channels-last > "$out/peer.log" 2>&1
  c=$(second_epoch_rate "$out/convoy.log") p=$(second_epoch_rate "$out/peer.log")
  echo "round $r: convoy $c images/s, pytorch step $p images/s"
  convoy_rates+=("$c") peer_rates+=("$p")
done
$py - "${convoy_rates[*]}" "${peer_rates[*]}" <<'PY'
import statistics, sys
c = [float(v) for v in sys.argv[1].split()]
p = [float(v) for v in sys.argv[2].split()]
mc, mp = statistics.median(c), statistics.median(p)
ratios = [a / b for a, b in zip(c, p)]
print(f"median: convoy {mc:.1f} images/s, pytorch step {mp:.1f} images/s, ratio {mc / mp:.2f}x "
      f"(per round {min(ratios):.2f}x-{max(ratios):.2f}x)")
PY
