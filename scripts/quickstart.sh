#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains the `quick` model on CIFAR-10
# on the CPU, then evaluates it. The quickstart recipe is convoy-train's defaults with 9
# epochs instead of 10, the test set evaluated once, after the last epoch (--eval-every 0),
# and flip test-time augmentation (--tta) in that evaluation and in convoy-eval's: 80.1-80.7%
# over three seeds after 281-328 s of training on a 2-core Zen 3 VM (bench/RESULTS.md).
# Data: --data PATH if given, else $CONVOY_DATA, else ../shared/data/cifar10-jpeg75.tar.gz
# when present, else ./data/ (downloaded there). Extra flags go to convoy-train; --epochs,
# --eval-every and --no-tta replace the recipe's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
args=()
data="" epochs_set="" eval_every_set="" tta=1
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; args+=("$1" "$2"); shift 2 ;;
    --epochs) epochs_set=1; args+=("$1" "$2"); shift 2 ;;
    --eval-every) eval_every_set=1; args+=("$1" "$2"); shift 2 ;;
    --tta) shift ;;
    --no-tta) tta=""; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$epochs_set" ] || args+=(--epochs 9)
[ -n "$eval_every_set" ] || args+=(--eval-every 0)
[ -n "$tta" ] && args+=(--tta)
if [ -z "$data" ]; then
  if [ -n "${CONVOY_DATA:-}" ]; then data="$CONVOY_DATA"
  elif [ -f ../shared/data/cifar10-jpeg75.tar.gz ]; then data="../shared/data/cifar10-jpeg75.tar.gz"
  fi
  if [ -n "$data" ]; then args+=(--data "$data"); fi
fi
out="runs/quick-$(date +%Y%m%d-%H%M%S)"
build/bin/convoy-train --model quick --device cpu --out "$out" "${args[@]}"
eval_args=(--model "$out/model.convoy")
[ -n "$tta" ] && eval_args+=(--tta)
if [ -n "$data" ]; then eval_args+=(--data "$data"); fi
build/bin/convoy-eval "${eval_args[@]}"
