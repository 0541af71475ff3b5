"""The /opt/ml layout SageMaker mounts into a container.

The root is /opt/ml unless CONVOY_SM_ROOT names another folder (tests run the whole
contract in a temporary tree that way).
"""
import json
import os
from pathlib import Path


class ContractError(Exception):
    """Something in the SageMaker layout or configuration is wrong; the message says what,
    where and what to do. The entry points write it to output/failure."""


DEFAULT_ROOT = "/opt/ml"
FAILURE_LIMIT = 1024  # SageMaker shows the first 1024 characters of output/failure


class MlPaths:
    def __init__(self, root=None):
        self.root = Path(root or os.environ.get("CONVOY_SM_ROOT") or DEFAULT_ROOT)

    @property
    def config_dir(self):
        return self.root / "input" / "config"

    @property
    def hyperparameters(self):
        return self.config_dir / "hyperparameters.json"

    @property
    def resourceconfig(self):
        return self.config_dir / "resourceconfig.json"

    @property
    def inputdataconfig(self):
        return self.config_dir / "inputdataconfig.json"

    @property
    def data_dir(self):
        return self.root / "input" / "data"

    @property
    def model_dir(self):
        return self.root / "model"

    @property
    def output_dir(self):
        return self.root / "output"

    @property
    def output_data_dir(self):
        return self.root / "output" / "data"

    @property
    def failure(self):
        return self.root / "output" / "failure"

    @property
    def checkpoints(self):
        return self.root / "checkpoints"

    @property
    def staging(self):
        """Where separate train/test channels are joined into one --data source."""
        return self.root / "convoy-staging"


def read_json_file(path, what, default=None):
    """Reads a JSON configuration file; a missing file gives `default` (or fails if None)."""
    path = Path(path)
    if not path.exists():
        if default is not None:
            return default
        raise ContractError(f"{what}: {path} is missing; SageMaker writes it, or create it for a local run")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ContractError(f"{what}: {path} is not valid JSON ({e})") from e


def write_failure(paths, reason):
    """output/failure: the reason, most useful part first (SageMaker keeps 1024 characters)."""
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure.write_text(reason if reason.endswith("\n") else reason + "\n")
    except OSError:
        pass  # nothing better to do: the reason is on stderr too
