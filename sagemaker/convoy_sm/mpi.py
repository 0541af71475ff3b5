"""Several hosts: who launches mpirun, with which command, and how the others wait.

Follows the process of SageMaker's training toolkit MPI runner: the hosts are sorted and the
first is the master; the master starts sshd, waits until every worker's sshd answers, then
runs mpirun across all hosts with one process per GPU (or the
sagemaker_mpi_num_of_processes_per_host hyperparameter; one on a CPU host). A worker waits
for the master's sshd, starts its own, waits for the MPI daemon (orted, or prted in Open MPI
5) that the master's mpirun starts on it, waits for that daemon to end and exits 0. Rank 0
writes the model and report on the master, so only its /opt/ml/model matters.

Stopping (StopTrainingJob, spot interruption): SageMaker sends SIGTERM to every host's entry
point, then SIGKILL 120 s later. mpirun must not get it: it would pass SIGTERM on and kill the
ranks a second later, and exit non-zero. Instead each entry point sends SIGTERM straight to
the convoy-train ranks running on its own host. convoy-train agrees a stop across all ranks
at every step, so one signalled rank is enough for every rank to stop at the same step; rank 0
writes the checkpoint, every rank exits 0, and so does mpirun.
"""
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .paths import ContractError

SSHD = "/usr/sbin/sshd"
MPI_DAEMONS = ("orted", "prted")
# How long a worker waits for the master's mpirun to start the MPI daemon on it: as long as
# SageMaker's training toolkit does (20 minutes; the master may still be waiting for others).
WORKER_START_TIMEOUT_S = 20 * 60


def sorted_hosts(resource):
    hosts = resource.get("hosts") or [resource.get("current_host", "algo-1")]
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ContractError(f"resourceconfig.json: 'hosts' must be a list of host names, got {hosts!r}")
    return sorted(hosts)


def role(resource):
    """'single' (one host), 'master' (first of the sorted hosts) or 'worker'."""
    hosts = sorted_hosts(resource)
    current = resource.get("current_host", hosts[0])
    if current not in hosts:
        raise ContractError(f"resourceconfig.json: current_host {current!r} is not among hosts {hosts}")
    if len(hosts) == 1:
        return "single"
    return "master" if current == hosts[0] else "worker"


def count_gpus(env=None, nvidia_smi="nvidia-smi"):
    """GPUs visible to this host: CUDA_VISIBLE_DEVICES when set, else `nvidia-smi -L`."""
    env = os.environ if env is None else env
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v for v in visible.split(",") if v.strip() and v.strip() not in ("-1", "NoDevFiles")]
        return len(ids)
    try:
        out = subprocess.run([nvidia_smi, "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def processes_per_host(mpi_settings, gpus):
    value = mpi_settings.get("processes_per_host")
    if value is not None:
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = 0
        if n < 1:
            raise ContractError(f"sagemaker_mpi_num_of_processes_per_host={value!r}: must be a positive integer")
        return n
    return max(1, gpus)


def mpi_enabled(mpi_settings, hosts, per_host):
    enabled = mpi_settings.get("enabled")
    if enabled is None:
        return len(hosts) > 1 or per_host > 1
    if isinstance(enabled, str):
        enabled = enabled.lower() in ("true", "1", "yes")
    if not enabled and len(hosts) > 1:
        raise ContractError(f"{len(hosts)} hosts but sagemaker_mpi_enabled is false: convoy trains on several "
                            "hosts only through MPI; enable it or use one instance")
    return bool(enabled)


# Set in this environment, these reach every rank on every host (mpirun passes only what -x
# names): libfabric's and the EFA provider's settings (FI_PROVIDER=efa,
# FI_EFA_USE_DEVICE_RDMA=1, ...: docker/Dockerfile.cuda --target efa), rdma-core's, NCCL's.
FORWARDED_PREFIXES = ("FI_", "RDMAV_", "NCCL_")


def mpirun_command(hosts, per_host, interface, train_argv, custom_options="", forward_env=(), env=None):
    """The mpirun command line the master runs (hosts sorted, `per_host` slots each). `env`
    (default: none) supplies the FI_*, RDMAV_* and NCCL_* variables to pass on."""
    hosts = sorted(hosts)
    host_list = ",".join(f"{h}:{per_host}" for h in hosts)
    custom = shlex.split(custom_options or "")
    nccl_debug = "WARN"
    rest = []
    i = 0
    while i < len(custom):  # --NCCL_DEBUG X overrides the default, like the toolkit's runner
        if custom[i].startswith("--NCCL_DEBUG"):
            if "=" in custom[i]:
                nccl_debug = custom[i].split("=", 1)[1]
            elif i + 1 < len(custom):
                nccl_debug = custom[i + 1]
                i += 1
        else:
            rest.append(custom[i])
        i += 1
    cmd = ["mpirun", "--host", host_list, "-np", str(per_host * len(hosts)),
           "--allow-run-as-root", "--tag-output",
           "-mca", "btl_tcp_if_include", interface,
           "-mca", "oob_tcp_if_include", interface,
           "-mca", "plm_rsh_no_tree_spawn", "1",
           "-mca", "pml", "ob1", "-mca", "btl", "^openib",
           "-mca", "orte_abort_on_non_zero_status", "1",
           "-bind-to", "none", "-map-by", "slot",
           "-x", f"NCCL_SOCKET_IFNAME={interface}", "-x", f"NCCL_DEBUG={nccl_debug}",
           "-x", "PATH", "-x", "LD_LIBRARY_PATH"]
    for name in forward_env:
        cmd += ["-x", name]
    for name in sorted(env or {}):
        if name.startswith(FORWARDED_PREFIXES) and name not in ("NCCL_SOCKET_IFNAME", "NCCL_DEBUG"):
            cmd += ["-x", name]
    return cmd + rest + list(train_argv)


def ssh_answers(host, port=22, timeout=2.0):
    """True when something on host:port sends an SSH banner."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(hosts, timeout_s=3600, interval_s=1.0, log=sys.stderr):
    deadline = time.monotonic() + timeout_s
    for host in hosts:
        while not ssh_answers(host):
            if time.monotonic() > deadline:
                raise ContractError(f"host {host}: sshd did not answer on port 22 within {timeout_s:.0f} s; "
                                    "check the image runs sshd and the hosts share a network")
            time.sleep(interval_s)
        print(f"convoy-sm: {host} answers on port 22", file=log, flush=True)


def start_sshd():
    if not Path(SSHD).exists():
        raise ContractError(f"{SSHD} is missing: multi-host training needs openssh-server in the image "
                            "(docker/Dockerfile.* install it)")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([SSHD, "-D"])


def _process_table(proc=Path("/proc")):
    """{pid: (parent pid, command name)} of every process we can see."""
    table = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        close = stat.rfind(")")
        fields = stat[close + 2:].split()
        if close < 0 or len(fields) < 2:
            continue
        table[int(entry.name)] = (int(fields[1]), stat[stat.find("(") + 1:close])
    return table


def daemon_pids(names=MPI_DAEMONS, proc=Path("/proc")):
    return sorted(pid for pid, (_, comm) in _process_table(proc).items() if comm in names)


def descendants(roots, name=None, proc=Path("/proc")):
    """Processes below any of `roots` (pids), optionally only those whose command name is
    `name` (as the kernel keeps it: the first 15 characters)."""
    table = _process_table(proc)
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    if name is not None:
        found = [p for p in found if table.get(p, (0, ""))[1] == name[:15]]
    return sorted(found)


def signal_local_ranks(roots, rank_command, signum, log=sys.stderr):
    """Sends `signum` to the ranks (processes named like `rank_command`) below `roots`.
    Returns how many were signalled."""
    pids = descendants(roots, Path(rank_command).name)
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    if pids:
        print(f"convoy-sm: {signal.Signals(signum).name} passed to the {len(pids)} rank(s) on this host "
              f"(pids {', '.join(map(str, pids))}); every rank stops at the same step", file=log, flush=True)
    return len(pids)


def rank_stopper(rank_command, log=sys.stderr):
    """child.run's `forward` for mpirun: a stop signal goes to the ranks mpirun started on
    this host, not to mpirun. Before any rank exists there is nothing to checkpoint, and the
    signal goes to mpirun, which ends the job."""
    def forward(proc, signum):
        if signal_local_ranks([proc.pid], rank_command, signum, log) == 0:
            proc.send_signal(signum)
    return forward


def run_worker(master, rank_command="convoy-train", start_timeout_s=WORKER_START_TIMEOUT_S, log=sys.stderr):
    """A worker host: wait for the master, serve ssh, wait for the MPI daemon to come and go.
    SIGTERM (the job is being stopped) goes to the ranks on this host; the worker keeps waiting
    for the daemon to end, so mpirun sees every rank finish, and exits 0."""
    received = []

    def on_stop(signum, frame):
        received.append(signum)
        signal_local_ranks(daemon_pids(), rank_command, signum, log)

    previous = {s: signal.signal(s, on_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"convoy-sm: worker; waiting for the master {master}", file=log, flush=True)
        wait_for_ssh([master], log=log)
        sshd = start_sshd()
        deadline = time.monotonic() + start_timeout_s
        while not daemon_pids():
            if received:
                print("convoy-sm: stopped before the MPI daemon started; worker done", file=log, flush=True)
                sshd.terminate()
                return 0
            if time.monotonic() > deadline:
                raise ContractError(f"no MPI daemon ({'/'.join(MPI_DAEMONS)}) started on this host within "
                                    f"{start_timeout_s} s; the master's mpirun could not reach it over ssh")
            time.sleep(1)
        print("convoy-sm: MPI daemon running; waiting for it to finish", file=log, flush=True)
        while daemon_pids():
            time.sleep(2)
        print("convoy-sm: MPI daemon finished; worker done", file=log, flush=True)
        sshd.terminate()
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
