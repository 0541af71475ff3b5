"""CUDA forward compatibility on SageMaker GPU hosts whose driver is older than the image's CUDA.

docker/Dockerfile.cuda builds on CUDA 13, which needs an NVIDIA 580 driver. NVIDIA's images
carry the newer user-space driver in /usr/local/cuda/compat (libcuda.so.1 ->
libcuda.so.<driver version>), which data-centre GPUs can use on an older kernel driver.
SageMaker's advice for images newer than the host: when the host's driver (from
/proc/driver/nvidia/version) is older than that one, put /usr/local/cuda/compat first on
LD_LIBRARY_PATH. The entry points do this for convoy-train and convoy-serve; on a host with a
new enough driver, or without a GPU, nothing changes.
"""
import os
import re
from pathlib import Path

COMPAT_DIR = Path("/usr/local/cuda/compat")
DRIVER_VERSION_FILE = Path("/proc/driver/nvidia/version")


def _version(text):
    return tuple(int(p) for p in text.split(".")) if text and re.fullmatch(r"\d+(\.\d+)*", text) else None


def host_driver_version(driver_file=DRIVER_VERSION_FILE):
    """(580, 95, 5) from "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  ...", or None."""
    try:
        match = re.search(r"Kernel Module\s+([0-9.]+)", Path(driver_file).read_text())
    except OSError:
        return None
    return _version(match.group(1).rstrip(".")) if match else None


def compat_driver_version(compat_dir=COMPAT_DIR):
    """The driver version of the compat libcuda (its file name after libcuda.so.), or None."""
    try:
        target = os.readlink(Path(compat_dir) / "libcuda.so.1")
    except OSError:
        return None
    return _version(Path(target).name.partition("libcuda.so.")[2])


def environment(env, compat_dir=COMPAT_DIR, driver_file=DRIVER_VERSION_FILE):
    """(env for the convoy binaries, a line saying what was decided or None)."""
    compat, host = compat_driver_version(compat_dir), host_driver_version(driver_file)
    if compat is None or host is None or host >= compat:
        return env, None
    env = dict(env)
    env["LD_LIBRARY_PATH"] = ":".join(p for p in (str(compat_dir), env.get("LD_LIBRARY_PATH", "")) if p)
    return env, (f"host driver {'.'.join(map(str, host))} is older than this image's CUDA needs "
                 f"({'.'.join(map(str, compat))}): using the forward-compatibility libraries in {compat_dir}")
