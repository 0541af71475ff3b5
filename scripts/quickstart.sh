#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains the `quick` model on CIFAR-10
# on the CPU with its default settings, then evaluates it.
# Data: --data PATH if given, else $CONVOY_DATA, else ../shared/data/cifar10-jpeg75.tar.gz
# when present, else ./data/ (downloaded there). Extra flags go to convoy-train.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
args=("$@")
data=""
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--data" ]; then data="${args[$((i + 1))]}"; fi
done
if [ -z "$data" ]; then
  if [ -n "${CONVOY_DATA:-}" ]; then data="$CONVOY_DATA"
  elif [ -f ../shared/data/cifar10-jpeg75.tar.gz ]; then data="../shared/data/cifar10-jpeg75.tar.gz"
  fi
  if [ -n "$data" ]; then args+=(--data "$data"); fi
fi
out="runs/quick-$(date +%Y%m%d-%H%M%S)"
build/bin/convoy-train --model quick --device cpu --out "$out" "${args[@]}"
eval_args=(--model "$out/model.convoy")
if [ -n "$data" ]; then eval_args+=(--data "$data"); fi
build/bin/convoy-eval "${eval_args[@]}"
