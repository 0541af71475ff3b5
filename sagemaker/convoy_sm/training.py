"""The `train` entry point: the /opt/ml layout -> convoy-train (or mpirun) -> model/,
output/data/, checkpoints/ and, on error, output/failure with a non-zero exit."""
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from . import channels, child, cuda_compat, hyperparameters, mpi
from .paths import ContractError, FAILURE_LIMIT, MlPaths, read_json_file, write_failure


def log(msg):
    print(f"convoy-sm: {msg}", file=sys.stderr, flush=True)


def find_tool(env_name, tool):
    """The convoy binary: $CONVOY_TRAIN / $CONVOY_SERVE, else on PATH, else /opt/convoy/bin."""
    explicit = os.environ.get(env_name)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise ContractError(f"${env_name}={explicit} is not an executable")
        return explicit
    found = shutil.which(tool)
    if found:
        return found
    fallback = Path("/opt/convoy/bin") / tool
    if fallback.exists():
        return str(fallback)
    raise ContractError(f"{tool} not found on PATH nor in /opt/convoy/bin; set ${env_name} to its path")


def has_checkpoint(folder):
    """True when the checkpoint folder holds anything (SageMaker restores it from S3 at start)."""
    folder = Path(folder)
    return folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir())


def supports_checkpoints(convoy_train):
    """True when this convoy-train has --checkpoint-dir/--resume (older builds do not)."""
    try:
        text = subprocess.run([convoy_train, "--help"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--checkpoint-dir" in text and "--resume" in text


def train_argv(convoy_train, data_spec, paths, flags, resume, checkpoints=True):
    argv = [convoy_train, "--data", data_spec, "--out", str(paths.model_dir), "--no-progress"]
    if checkpoints:
        argv += ["--checkpoint-dir", str(paths.checkpoints)]
    if checkpoints and resume:
        argv += ["--resume", str(paths.checkpoints)]
    if not hyperparameters.has_flag(flags, "device"):
        argv += ["--device", "auto"]
    return argv + flags


def finish_outputs(paths):
    """report.json and metrics.jsonl into output/data/ (report.json stays in model/ too, so
    model.tar.gz carries it for convoy-report)."""
    paths.output_data_dir.mkdir(parents=True, exist_ok=True)
    report = paths.model_dir / "report.json"
    if report.exists():
        shutil.copy2(report, paths.output_data_dir / "report.json")
    metrics = paths.model_dir / "metrics.jsonl"
    if metrics.exists():
        shutil.move(str(metrics), paths.output_data_dir / "metrics.jsonl")


def run(paths):
    hp = read_json_file(paths.hyperparameters, "hyperparameters.json", default={})
    resource = read_json_file(paths.resourceconfig, "resourceconfig.json",
                              default={"current_host": "algo-1", "hosts": ["algo-1"]})
    flags, mpi_settings = hyperparameters.split(hp)
    hosts = mpi.sorted_hosts(resource)
    my_role = mpi.role(resource)
    if my_role == "worker":
        return mpi.run_worker(hosts[0], rank_command=find_tool("CONVOY_TRAIN", "convoy-train"))

    data_spec = channels.resolve_data(paths)
    log(f"data: {data_spec}")
    convoy_train = find_tool("CONVOY_TRAIN", "convoy-train")
    paths.model_dir.mkdir(parents=True, exist_ok=True)
    paths.checkpoints.mkdir(parents=True, exist_ok=True)
    checkpoints = supports_checkpoints(convoy_train)
    resume = checkpoints and has_checkpoint(paths.checkpoints)
    if not checkpoints:
        log(f"{convoy_train} has no --checkpoint-dir/--resume: this run can neither checkpoint nor resume")
    elif resume:
        log(f"resuming from the checkpoints in {paths.checkpoints}")
    argv = train_argv(convoy_train, data_spec, paths, flags, resume, checkpoints)

    per_host = mpi.processes_per_host(mpi_settings, mpi.count_gpus())
    if mpi.mpi_enabled(mpi_settings, hosts, per_host):
        interface = resource.get("network_interface_name", "eth0")
        if my_role == "master":
            mpi.start_sshd()
            mpi.wait_for_ssh(hosts[1:])
        cmd = mpi.mpirun_command(hosts, per_host, interface, argv, mpi_settings.get("custom_mpi_options", ""),
                                 forward_env=("CONVOY_SM_ROOT",), env=os.environ)
        forward = mpi.rank_stopper(convoy_train)
    else:
        cmd, forward = argv, None
    log("running: " + " ".join(cmd))
    env, compat = cuda_compat.environment(dict(os.environ, CONVOY_SM_ROOT=str(paths.root)))
    if compat:
        log(compat)
    result = child.run(cmd, env=env, forward=forward)
    if result.signalled == signal.SIGTERM and result.returncode == 0:
        log(f"stopped by SIGTERM; the checkpoint in {paths.checkpoints} resumes the run")
        finish_outputs(paths)
        return 0
    if result.returncode != 0:
        why = " | ".join(result.error_lines()) or "no message on stderr"
        raise ContractError(f"{Path(cmd[0]).name} exited with status {result.returncode}: {why}")
    finish_outputs(paths)
    log(f"model in {paths.model_dir}, report and metrics in {paths.output_data_dir}")
    return 0


def main():
    paths = MlPaths()
    try:
        return run(paths)
    except ContractError as e:
        reason = str(e)
    except Exception as e:  # a bug here must still leave a failure reason for SageMaker
        reason = f"internal error in the train entry point: {type(e).__name__}: {e}"
    log("error: " + reason)
    write_failure(paths, reason[:FAILURE_LIMIT * 4])
    return 1
