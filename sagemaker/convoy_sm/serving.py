"""The `serve` entry point: exec convoy-serve on the model SageMaker extracted into
/opt/ml/model, on port 8080 or $SAGEMAKER_BIND_TO_PORT. convoy-serve itself reads the
batch-transform variables (SAGEMAKER_MAX_PAYLOAD_IN_MB, SAGEMAKER_BATCH_STRATEGY,
SAGEMAKER_MAX_CONCURRENT_TRANSFORMS), which exec passes on unchanged."""
import os
import sys
from pathlib import Path

from . import cuda_compat
from .paths import ContractError, FAILURE_LIMIT, MlPaths, write_failure
from .training import find_tool


def model_path(model_dir):
    """model/model.convoy, else the one .convoy file anywhere under model/."""
    model_dir = Path(model_dir)
    if (model_dir / "model.convoy").is_file():
        return model_dir / "model.convoy"
    found = sorted(model_dir.rglob("*.convoy")) if model_dir.is_dir() else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise ContractError(f"no model: {model_dir} holds no .convoy file; model.tar.gz must contain the "
                            "model.convoy that convoy-train wrote")
    raise ContractError(f"{model_dir} holds several models ({', '.join(str(f) for f in found[:4])}); "
                        "keep exactly one")


def port():
    value = os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ContractError(f"SAGEMAKER_BIND_TO_PORT={value!r}: not a port number")
    return value


def serve_command(paths):
    return [find_tool("CONVOY_SERVE", "convoy-serve"), "--model", str(model_path(paths.model_dir)),
            "--port", port()]


def main():
    paths = MlPaths()
    try:
        cmd = serve_command(paths)
    except ContractError as e:
        print(f"convoy-sm: error: {e}", file=sys.stderr, flush=True)
        write_failure(paths, str(e)[:FAILURE_LIMIT * 4])
        return 1
    env, compat = cuda_compat.environment(os.environ)
    if compat:
        print("convoy-sm: " + compat, file=sys.stderr, flush=True)
    print("convoy-sm: exec " + " ".join(cmd), file=sys.stderr, flush=True)
    os.execve(cmd[0], cmd, env)  # convoy-serve becomes the process: signals reach it directly
