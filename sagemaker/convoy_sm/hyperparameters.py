"""Hyperparameters -> convoy-train flags.

SageMaker hands every hyperparameter over as a string ("3", "0.1", "\"quick\"", "true").
Each value is JSON-decoded, keeping the raw string when that fails. Keys are convoy-train's
flag names with '-' or '_' (batch_size and batch-size both work). The keys SageMaker and its
SDKs add themselves are ignored: every sagemaker_* key (sagemaker_program, sagemaker_region,
sagemaker_job_name, sagemaker_submit_directory, ...), except the MPI ones, which choose the
process layout, and the `_tuning_objective_metric` that a hyperparameter tuning job adds to
each of its training jobs. Any other key that is not a flag is an error, so a typo never
trains with a default.
"""
import json

from .paths import ContractError

# convoy-train options that take a value.
VALUE_FLAGS = {
    "model", "epochs", "batch_size", "lr", "schedule", "warmup_epochs", "momentum",
    "weight_decay", "label_smoothing", "cutout", "seed", "threads", "device", "kernels",
    "train_batches", "checkpoint_every", "keep_checkpoints", "log_every", "bucket_mb",
    "grad_compression", "dist",
}
# convoy-train switches: true adds the flag, false leaves it out.
SWITCH_FLAGS = {"no_nesterov", "no_augment", "host_input", "sync_bn", "tta"}
# Set by the container from the /opt/ml layout; a hyperparameter may not override them.
CONTAINER_FLAGS = {"data", "out", "checkpoint_dir", "resume", "no_progress"}

# Added by SageMaker itself to every training job that a hyperparameter tuning job starts
# (the training toolkit drops it the same way).
TUNING_KEYS = {"_tuning_objective_metric"}

MPI_KEYS = {
    "sagemaker_mpi_enabled": "enabled",
    "sagemaker_mpi_num_of_processes_per_host": "processes_per_host",
    "sagemaker_mpi_custom_mpi_options": "custom_mpi_options",
}


def decode_value(raw):
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def decode_all(hyperparameters):
    if not isinstance(hyperparameters, dict):
        raise ContractError("hyperparameters.json: expected a JSON object of name -> string, got "
                            f"{type(hyperparameters).__name__}")
    return {str(k): decode_value(v) for k, v in hyperparameters.items()}


def format_value(key, value):
    if isinstance(value, bool):
        raise ContractError(f"hyperparameter {key}={json.dumps(value)}: takes a value, not true/false")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ContractError(f"hyperparameter {key}={json.dumps(value)}: expected a number or a string")


def split(hyperparameters):
    """Returns (convoy-train flags as a list, MPI settings as a dict) from the raw
    hyperparameters.json object. Raises ContractError naming the key on any problem."""
    decoded = decode_all(hyperparameters)
    flags, mpi, unknown = [], {}, []
    for key in sorted(decoded):
        value = decoded[key]
        name = key.strip().lstrip("-").replace("-", "_")
        if name in MPI_KEYS:
            mpi[MPI_KEYS[name]] = value
        elif name.startswith("sagemaker_") or key in TUNING_KEYS:
            continue
        elif name in CONTAINER_FLAGS:
            raise ContractError(f"hyperparameter {key}: set by the container from the /opt/ml layout "
                                "(channels, model/, checkpoints/); remove it")
        elif name in VALUE_FLAGS:
            flags += ["--" + name.replace("_", "-"), format_value(key, value)]
        elif name in SWITCH_FLAGS:
            if value is True or value == 1 or (isinstance(value, str) and value.lower() in ("true", "yes", "1")):
                flags.append("--" + name.replace("_", "-"))
            elif not (value is False or value == 0 or (isinstance(value, str) and value.lower() in ("false", "no", "0"))):
                raise ContractError(f"hyperparameter {key}={json.dumps(value)}: a switch, use true or false")
        else:
            unknown.append(key)
    if unknown:
        known = sorted(VALUE_FLAGS | SWITCH_FLAGS)
        raise ContractError(f"unknown hyperparameter(s) {', '.join(unknown)}: convoy-train takes "
                            f"{', '.join(known)} (with _ or -); SageMaker's own sagemaker_* and "
                            f"{', '.join(sorted(TUNING_KEYS))} keys are ignored")
    return flags, mpi


def has_flag(flags, name):
    return ("--" + name) in flags
