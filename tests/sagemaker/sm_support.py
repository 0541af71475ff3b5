"""Shared by the SageMaker contract tests: the binaries CMake built, a small real CIFAR-10
image tree cut from the JPEG archive, /opt/ml trees in temporary folders, and running the
entry points the way a container would."""
import atexit
import functools
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.request
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("CONVOY_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SAGEMAKER_DIR = SOURCE_DIR / "sagemaker"
sys.path.insert(0, str(SAGEMAKER_DIR))

CONVOY_TRAIN = os.environ.get("CONVOY_TRAIN", "")
CONVOY_SERVE = os.environ.get("CONVOY_SERVE", "")
CONVOY_REPORT = os.environ.get("CONVOY_REPORT", "")
ARCHIVE = os.environ.get("CONVOY_TEST_ARCHIVE", str(SOURCE_DIR.parent / "shared/data/cifar10-jpeg75.tar.gz"))

TRAIN_PER_CLASS = 64
TEST_PER_CLASS = 16

_tmp_root = Path(tempfile.mkdtemp(prefix="convoy-sm-tests-"))


@atexit.register
def cleanup():
    if not os.environ.get("CONVOY_SM_KEEP_TEST_FILES"):
        shutil.rmtree(_tmp_root, ignore_errors=True)


def new_dir(name):
    return Path(tempfile.mkdtemp(prefix=name + "-", dir=_tmp_root))


def executable(path):
    return bool(path) and os.access(path, os.X_OK)


@functools.lru_cache(maxsize=None)
def train_help():
    if not executable(CONVOY_TRAIN):
        return ""
    return subprocess.run([CONVOY_TRAIN, "--help"], capture_output=True, text=True).stdout


def train_has(flag):
    return flag in train_help()


@functools.lru_cache(maxsize=None)
def small_tree():
    """train/<class>/ and test/<class>/ with the first images of each class of the real
    archive (64 and 16 per class): real CIFAR-10 images, small enough for second-long runs."""
    cache = os.environ.get("CONVOY_SM_TEST_CACHE")
    root = Path(cache) / f"cifar-small-{TRAIN_PER_CLASS}-{TEST_PER_CLASS}" if cache else _tmp_root / "cifar-small"
    if (root / "complete").exists():
        return root
    final, root = root, Path(tempfile.mkdtemp(prefix="partial-", dir=_tmp_root))  # renamed when complete
    counts = {}
    with tarfile.open(ARCHIVE, "r|gz") as tar:  # streaming: one pass, no seeks
        for member in tar:
            if not member.isfile():
                continue
            parts = Path(member.name).parts
            if len(parts) < 3 or parts[-3] not in ("train", "test"):
                continue
            split, cls = parts[-3], parts[-2]
            limit = TRAIN_PER_CLASS if split == "train" else TEST_PER_CLASS
            if counts.get((split, cls), 0) >= limit:
                continue
            counts[(split, cls)] = counts.get((split, cls), 0) + 1
            out = root / split / cls / parts[-1]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
            if len(counts) == 20 and all(
                    n >= (TRAIN_PER_CLASS if s == "train" else TEST_PER_CLASS) for (s, _), n in counts.items()):
                break
    (root / "complete").write_text(ARCHIVE + "\n")
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(root, final)   # atomic; another test process may have won the race
    except OSError:
        if not (final / "complete").exists():
            raise
    return final


@functools.lru_cache(maxsize=None)
def small_archive():
    """The small tree as a .tar.gz (the JPEG-archive form of a channel)."""
    path = _tmp_root / "cifar-small.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(small_tree() / "train", arcname="train")
        tar.add(small_tree() / "test", arcname="test")
    return path


def have_pil():
    try:
        import PIL.Image  # noqa: F401  Debian's python3-pil (scripts/install-deps.sh)
        return True
    except ImportError:
        return False


def transform_body():
    """A multi-record batch-transform request body (SplitType Line, BatchStrategy MultiRecord):
    every image of the small tree, decoded from its JPEG, as one JSON Lines record (a flat CHW
    array; every 50th record an instances object instead). Over 6 MiB: 800 records of about
    11 KB. Returns (the JPEG paths in record order, the body)."""
    from PIL import Image
    jpegs = sorted((small_tree() / "train").rglob("*.jpg")) + sorted((small_tree() / "test").rglob("*.jpg"))
    lines = []
    for i, path in enumerate(jpegs):
        with Image.open(path) as im:
            hwc = im.convert("RGB").resize((32, 32)).tobytes()
        chw = [hwc[p * 3 + c] for c in range(3) for p in range(1024)]
        lines.append(json.dumps({"instances": [chw]} if i % 50 == 0 else chw, separators=(",", ":")))
    return jpegs, ("\n".join(lines) + "\n").encode()


def some_test_jpeg(cls="cat", index=0):
    folder = small_tree() / "test" / cls
    return sorted(folder.iterdir())[index]


# Sanitizer builds run everything several times slower, and alongside the rest of the suite:
# tests/CMakeLists.txt sets CONVOY_TEST_TIME_SCALE there, and every wait below is scaled by it.
TIME_SCALE = float(os.environ.get("CONVOY_TEST_TIME_SCALE", "1"))


def limit(seconds):
    """A time limit for a subprocess or a wait, scaled for slow (sanitizer) builds."""
    return seconds * TIME_SCALE


SHORT = {"epochs": "1", "batch_size": "32", "threads": "2", "seed": "7", "model": "\"quick\""}

# hyperparameters.json as a hyperparameter tuning job hands it to one of its training jobs
# when started from the SageMaker Python SDK: the tuned values as plain strings, the static
# ones JSON-encoded, and the reserved keys that SageMaker and the SDK add.
TUNING_CHILD_HYPERPARAMETERS = {
    "lr": "0.0734",
    "batch_size": "128",
    "epochs": "4",
    "_tuning_objective_metric": "\"test_acc\"",
    "sagemaker_estimator_class_name": "\"Estimator\"",
    "sagemaker_estimator_module": "\"sagemaker.estimator\"",
    "sagemaker_container_log_level": "20",
    "sagemaker_job_name": "\"convoy-tuning-2024-01-01-00-00-00-000\"",
    "sagemaker_region": "\"us-east-1\"",
}
TUNING_RESERVED = {k: v for k, v in TUNING_CHILD_HYPERPARAMETERS.items() if k.startswith(("_", "sagemaker_"))}


def make_ml_root(channels, hyperparameters, resource=None, name="opt-ml"):
    """An /opt/ml tree: channels is {name: callable(folder) filling it}."""
    root = new_dir(name)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "resourceconfig.json").write_text(json.dumps(resource or {
        "current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0",
        "current_instance_type": "local-test", "current_group_name": "homogeneousCluster"}))
    (config / "inputdataconfig.json").write_text(json.dumps(
        {c: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for c in channels}))
    for channel, fill in channels.items():
        folder = root / "input" / "data" / channel
        folder.mkdir(parents=True)
        fill(folder)
    return root


def entry_env(root, **extra):
    env = dict(os.environ, CONVOY_SM_ROOT=str(root), CONVOY_TRAIN=CONVOY_TRAIN, CONVOY_SERVE=CONVOY_SERVE)
    env.pop("TRAINING_JOB_NAME", None)
    env.update(extra)
    return env


def run_train(root, timeout=120, **env):
    return subprocess.run([sys.executable, str(SAGEMAKER_DIR / "train")], env=entry_env(root, **env),
                          capture_output=True, text=True, timeout=limit(timeout))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_file_into(src):
    return lambda folder: shutil.copy(src, folder / Path(src).name)


def link_tree_into(src):
    def fill(folder):
        for child in Path(src).iterdir():
            os.symlink(child, folder / child.name)
    return fill


def wait_until_listening(proc, timeout_s=60):
    """Waits for convoy-serve's "listening on http://HOST:PORT" line on proc's stderr (a text
    pipe), then keeps draining stderr in the background. Returns the lines read so far."""
    lines, ready = [], threading.Event()

    def drain():
        with proc.stderr:
            for line in proc.stderr:
                lines.append(line)
                if line.startswith("listening on "):
                    ready.set()
        ready.set()  # ended without listening: the caller sees why

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(limit(timeout_s)):
        raise AssertionError(f"serve did not start listening within {timeout_s} s: {''.join(lines)[-2000:]}")
    if not any(l.startswith("listening on ") for l in lines):
        proc.wait(timeout=limit(10))
        raise AssertionError(f"serve exited with {proc.returncode}: {''.join(lines)[-2000:]}")
    return lines


def wait_for_ping(port, proc, timeout_s=60):
    """The status of GET /ping once the server has said it listens."""
    wait_until_listening(proc, timeout_s)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=limit(10)) as r:
        return r.status


def post_invocations(port, body, content_type, accept=None, headers_only=False):
    """(status, content type, body) of POST /invocations. headers_only: send the headers (with
    the body's Content-Length) and read the answer without sending the body, as a server that
    refuses a body by its length answers before reading it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=limit(120))
    try:
        conn.putrequest("POST", "/invocations")
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body)))
        if accept:
            conn.putheader("Accept", accept)
        conn.endheaders()
        if not headers_only:
            conn.send(body)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()
