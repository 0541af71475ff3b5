#!/usr/bin/env bash
# One request through convoy-serve on the GPU (a stage of gpu-check.sh):
#   serve-check.sh BIN_DIR MODEL CIFAR_JPEG_ARCHIVE WORK_DIR [PYTHON]
# Starts convoy-serve --device cuda on 127.0.0.1:18080, waits for /ping, posts one real JPEG
# to /invocations and prints the answer, then SIGTERM; exits non-zero if any step fails.
set -u
BIN=$1 MODEL=$2 DATA=$3 WORK=$4 PY=${5:-python3}
mkdir -p "$WORK"
tar -xzf "$DATA" -C "$WORK" test/cat/0000.jpg || exit 1
"$BIN/convoy-serve" --model "$MODEL" --device cuda --port 18080 --host 127.0.0.1 &
pid=$!
rc=1
for _ in $(seq 1 40); do
  if "$PY" - "$WORK/test/cat/0000.jpg" 2>/dev/null <<'PYEOF'
import sys, urllib.request as u
u.urlopen("http://127.0.0.1:18080/ping", timeout=1)
body = open(sys.argv[1], "rb").read()
r = u.urlopen(u.Request("http://127.0.0.1:18080/invocations", data=body,
                        headers={"Content-Type": "image/jpeg"}), timeout=10)
print(r.read().decode()[:300])
PYEOF
  then rc=0; break; fi
  sleep 0.5
done
kill -TERM "$pid" 2>/dev/null
wait "$pid" || rc=1
exit $rc
