"""The SageMaker contract inside the built image (scripts/container-test.sh).

  container_check.py prepare DIR   on the build host: DIR/ml, an /opt/ml tree (separate
                                   training and testing channels of real CIFAR-10 JPEGs, the
                                   hyperparameters a tuning job hands a training job, as
                                   strings, reserved keys included), and DIR/requests (one JPEG
                                   and a JSON Lines batch-transform body of over 6 MiB)
  container_check.py inside        in the image, with DIR/ml at /opt/ml and DIR/requests at
                                   /opt/requests: runs `train` as SageMaker does, then `serve`
                                   with batch transform's payload setting, and checks /ping,
                                   the JPEG, /execution-parameters, the batch and the SIGTERM exit

`inside` needs only the image's python3; `prepare` needs python3-pil (scripts/install-deps.sh).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sm_support

PAYLOAD_MB = 16


def prepare(folder):
    folder = Path(folder)
    tree = sm_support.small_tree()
    hyperparameters = dict(sm_support.TUNING_CHILD_HYPERPARAMETERS, epochs="2", batch_size="32", threads="2",
                           seed="7", model="quick")
    resource = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0",
                "current_instance_type": "ml.m5.large", "current_group_name": "homogeneousCluster"}
    ml = folder / "ml"
    if ml.exists():
        shutil.rmtree(ml)
    config = ml / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "resourceconfig.json").write_text(json.dumps(resource))
    (config / "inputdataconfig.json").write_text(json.dumps(
        {c: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for c in ("training", "testing")}))
    # Copies, not links: the image sees only what is mounted into it.
    shutil.copytree(tree / "train", ml / "input" / "data" / "training")
    shutil.copytree(tree / "test", ml / "input" / "data" / "testing")
    requests = folder / "requests"
    requests.mkdir(parents=True, exist_ok=True)
    shutil.copy(sm_support.some_test_jpeg("cat", 0), requests / "cat.jpg")
    jpegs, body = sm_support.transform_body()
    (requests / "batch.jsonl").write_bytes(body)
    print(f"container_check: {ml} ({len(list(tree.rglob('*.jpg')))} JPEGs), batch of {len(jpegs)} records "
          f"({len(body) / 2**20:.1f} MiB)", file=sys.stderr)


def check(condition, what):
    if not condition:
        raise SystemExit(f"container_check: FAILED: {what}")
    print(f"container_check: ok: {what}", file=sys.stderr, flush=True)


def inside(ml=Path("/opt/ml"), requests=Path("/opt/requests")):
    # train: what `docker run IMAGE train` runs, against the mounted /opt/ml.
    started = time.monotonic()
    result = subprocess.run(["train"], capture_output=True, text=True, timeout=600)
    sys.stderr.write(result.stderr[-3000:])
    check(result.returncode == 0, f"train exits 0 ({time.monotonic() - started:.1f} s)")
    check(not (ml / "output" / "failure").exists(), "no output/failure")
    check((ml / "model" / "model.convoy").stat().st_size > 1000, "model/model.convoy written")
    report = json.loads((ml / "output" / "data" / "report.json").read_text())
    check(report["hyperparameters"]["epochs"] == 2 and report["hyperparameters"]["batch_size"] == 32,
          "string hyperparameters reached convoy-train, the tuning job's reserved keys were ignored")
    check(report["data"]["train_images"] == 640 and report["data"]["test_images"] == 160,
          "separate training and testing channels joined")
    epochs = [int(e) for e in re.findall(r"^epoch=(\d+) ", result.stdout, re.M)]
    check(epochs == [1, 2], "one epoch line per epoch on stdout (the metric regexes' input)")

    # serve: what `docker run IMAGE serve` runs, with batch transform's settings.
    port = sm_support.free_port()
    env = dict(os.environ, SAGEMAKER_BIND_TO_PORT=str(port), SAGEMAKER_MAX_PAYLOAD_IN_MB=str(PAYLOAD_MB),
               SAGEMAKER_BATCH_STRATEGY="MULTI_RECORD")
    proc = subprocess.Popen(["serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        check(sm_support.wait_for_ping(port, proc) == 200, "GET /ping answers 200")
        status, _, answer = sm_support.post_invocations(port, (requests / "cat.jpg").read_bytes(), "image/jpeg")
        check(status == 200 and len(json.loads(answer)["predictions"]) == 1, "a JPEG on /invocations is answered")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/execution-parameters", timeout=10) as r:
            check(json.loads(r.read())["MaxPayloadInMB"] == PAYLOAD_MB, "/execution-parameters gives the payload limit")
        body = (requests / "batch.jsonl").read_bytes()
        status, content_type, answer = sm_support.post_invocations(port, body, "application/jsonlines",
                                                                   accept="application/jsonlines")
        lines = answer.decode().splitlines() if status == 200 else []
        check(status == 200 and content_type == "application/jsonlines"
              and len(lines) == body.count(b"\n") and all(len(json.loads(l)["probabilities"]) == 10 for l in lines),
              f"a JSON Lines batch of {len(body) / 2**20:.1f} MiB gets one answer line per record ({len(lines)})")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=60) == 0, "serve exits 0 on SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print("container_check: all passed", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "inside":
        inside()
    else:
        raise SystemExit(__doc__)
