#!/usr/bin/env bash
# Serving benchmark: single-image POST /invocations (one real CIFAR-10 test JPEG) on loopback,
# latency p50/p99 and throughput under 1, 8 and 64 concurrent connections (wrk), with
# micro-batching (--max-batch 64 --max-wait-ms 2) and without (--max-batch 1).
#
#   bench/serve_bench.sh --model runs/latest/model.convoy [--build build] [--duration 10]
#                        [--threads 2] [--connections "1 8 64"] [--out bench/out/serve.json]
#
# Prints a markdown table (for bench/RESULTS.md) and writes the figures as JSON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model="" build="$root/build" duration=10 threads=2 connections="1 8 64" out=""
archive="${CONVOY_DATA:-$root/../shared/data/cifar10-jpeg75.tar.gz}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --archive) archive=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "serve_bench.sh: error: unknown argument $1" >&2; exit 1 ;;
  esac
done
[[ -n "$model" ]] || { echo "serve_bench.sh: error: --model PATH is required (a model.convoy from convoy-train)" >&2; exit 1; }
serve="$build/bin/convoy-serve"
[[ -x "$serve" ]] || { echo "serve_bench.sh: error: $serve not built (ninja -C $build convoy-serve)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "serve_bench.sh: error: wrk not installed (apt-get install wrk)" >&2; exit 1; }
[[ -f "$archive" ]] || { echo "serve_bench.sh: error: no JPEG archive at $archive (set --archive)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
tar xzf "$archive" -C "$work" test/cat/0000.jpg
jpeg="$work/test/cat/0000.jpg"
cat > "$work/post.lua" <<LUA
local f = io.open("$jpeg", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
LUA

to_ms() {  # wrk latency text (e.g. 812.00us, 1.52ms, 2.01s) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

rows=()
json_rows=()
for mode in batched unbatched; do
  if [[ $mode == batched ]]; then flags=(--max-batch 64 --max-wait-ms 2); else flags=(--max-batch 1 --max-wait-ms 0); fi
  "$serve" --model "$model" --host 127.0.0.1 --port 0 --device cpu --threads "$threads" "${flags[@]}" 2> "$work/serve.log" &
  server_pid=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/serve.log")
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || { cat "$work/serve.log" >&2; echo "serve_bench.sh: error: convoy-serve did not start" >&2; exit 1; }
  url="http://127.0.0.1:$port/invocations"
  wrk -t1 -c1 -d2s -s "$work/post.lua" "$url" > /dev/null  # warm-up
  for c in $connections; do
    t=$(( c < 2 ? 1 : 2 ))
    wrk -t"$t" -c"$c" -d"${duration}s" --timeout 10s --latency -s "$work/post.lua" "$url" > "$work/wrk.txt"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$work/wrk.txt")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")")
    errors=$(awk '/Non-2xx|Socket errors/ { print }' "$work/wrk.txt" | tr '\n' ' ')
    echo "serve_bench: $mode connections=$c requests_per_sec=$rps p50_ms=$p50 p99_ms=$p99 ${errors}" >&2
    rows+=("| $mode | $c | $rps | $p50 | $p99 |")
    json_rows+=("{\"mode\": \"$mode\", \"connections\": $c, \"requests_per_sec\": $rps, \"p50_ms\": $p50, \"p99_ms\": $p99}")
  done
  kill -TERM "$server_pid"; wait "$server_pid" || true
  tail -1 "$work/serve.log" >&2
  server_pid=""
done

echo "| mode | connections | requests/s | p50 ms | p99 ms |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [[ -n "$out" ]]; then
  mkdir -p "$(dirname "$out")"
  { echo "{\"model\": \"$model\", \"threads\": $threads, \"duration_s\": $duration, \"results\": ["
    (IFS=,; echo "${json_rows[*]}")
    echo "]}"; } > "$out"
fi
