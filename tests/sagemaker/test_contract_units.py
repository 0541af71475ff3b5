"""The pieces of the container contract on their own: hyperparameters, channels, the
multi-host role decision and the mpirun command line."""
import io
import json
import os
import stat
import tempfile
import time
import unittest
from pathlib import Path

import sm_support  # puts sagemaker/ on sys.path
from convoy_sm import channels, cuda_compat, hyperparameters, mpi
from convoy_sm.paths import ContractError


TUNING_CHILD_HYPERPARAMETERS = sm_support.TUNING_CHILD_HYPERPARAMETERS


class HyperparameterTest(unittest.TestCase):
    def test_strings_are_json_decoded_and_mapped_to_flags(self):
        flags, mpi_settings = hyperparameters.split({
            "epochs": "3", "batch_size": "256", "lr": "0.05", "model": "\"resnet\"", "schedule": "cosine",
            "no-augment": "true", "host_input": "false", "weight_decay": "5e-4",
            "sagemaker_program": "\"train\"", "sagemaker_region": "\"us-east-1\"",
            "sagemaker_mpi_enabled": "true", "sagemaker_mpi_num_of_processes_per_host": "4",
            "sagemaker_mpi_custom_mpi_options": "\"--NCCL_DEBUG INFO\""})
        pairs = {f: v for f, v in zip(flags, flags[1:] + [""]) if f.startswith("--") and not v.startswith("--")}
        self.assertEqual(pairs["--epochs"], "3")
        self.assertEqual(pairs["--batch-size"], "256")
        self.assertEqual(pairs["--lr"], "0.05")
        self.assertEqual(pairs["--model"], "resnet")      # JSON string decoded
        self.assertEqual(pairs["--schedule"], "cosine")   # not JSON: raw string kept
        self.assertEqual(pairs["--weight-decay"], "0.0005")
        self.assertIn("--no-augment", flags)
        self.assertNotIn("--host-input", flags)
        self.assertFalse(any("sagemaker" in f for f in flags))
        self.assertEqual(mpi_settings, {"enabled": True, "processes_per_host": 4,
                                        "custom_mpi_options": "--NCCL_DEBUG INFO"})

    def test_compression_and_tta_reach_convoy_train(self):
        flags, _ = hyperparameters.split({"grad_compression": "fp16", "tta": "true", "dist": "\"nccl\""})
        pairs = {f: v for f, v in zip(flags, flags[1:] + [""]) if f.startswith("--") and not v.startswith("--")}
        self.assertEqual(pairs["--grad-compression"], "fp16")
        self.assertEqual(pairs["--dist"], "nccl")
        self.assertIn("--tta", flags)

    def test_dash_and_underscore_spellings_are_the_same_flag(self):
        a, _ = hyperparameters.split({"batch-size": "64"})
        b, _ = hyperparameters.split({"batch_size": "64"})
        self.assertEqual(a, ["--batch-size", "64"])
        self.assertEqual(a, b)

    def test_integral_float_becomes_an_integer(self):
        flags, _ = hyperparameters.split({"epochs": "3.0"})
        self.assertEqual(flags, ["--epochs", "3"])

    def test_unknown_key_fails_naming_it(self):
        with self.assertRaises(ContractError) as e:
            hyperparameters.split({"epochs": "2", "learning_rate": "0.1"})
        self.assertIn("learning_rate", str(e.exception))

    def test_tuning_job_reserved_keys_are_ignored(self):
        # hyperparameters.json of a training job that a tuning job started through the SageMaker
        # Python SDK: the tuned values, the static ones, and the keys SageMaker and the SDK add.
        flags, mpi_settings = hyperparameters.split(TUNING_CHILD_HYPERPARAMETERS)
        self.assertEqual(flags, ["--batch-size", "128", "--epochs", "4", "--lr", "0.0734"])
        self.assertEqual(mpi_settings, {})

    def test_other_underscore_keys_are_still_refused(self):
        for key in ("_tuning_objective", "_learning_rate", "tuning_objective_metric"):
            with self.assertRaises(ContractError) as e:
                hyperparameters.split(dict(TUNING_CHILD_HYPERPARAMETERS, **{key: "1"}))
            self.assertIn(key, str(e.exception))

    def test_container_owned_flags_are_refused(self):
        for key in ("data", "out", "resume", "checkpoint-dir"):
            with self.assertRaises(ContractError) as e:
                hyperparameters.split({key: "/somewhere"})
            self.assertIn("set by the container", str(e.exception))

    def test_bad_switch_and_bad_value(self):
        with self.assertRaises(ContractError):
            hyperparameters.split({"no_augment": "maybe"})
        with self.assertRaises(ContractError):
            hyperparameters.split({"epochs": "true"})
        with self.assertRaises(ContractError):
            hyperparameters.split(["epochs", "3"])


class ChannelTest(unittest.TestCase):
    def setUp(self):
        self.data = Path(tempfile.mkdtemp(prefix="channels-", dir=sm_support.new_dir("ch")))

    def mkchannel(self, name, files):
        folder = self.data / name
        for f in files:
            (folder / f).parent.mkdir(parents=True, exist_ok=True)
            (folder / f).write_bytes(b"x")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def test_training_and_testing_names(self):
        self.mkchannel("training", ["a.tar.gz"])
        self.mkchannel("testing", ["b.tar.gz"])
        self.assertEqual(channels.pick_channels(self.data), ("training", "testing"))

    def test_one_channel_of_any_name_holds_both(self):
        self.mkchannel("cifar", ["cifar-10-binary.tar.gz"])
        self.assertEqual(channels.pick_channels(self.data), ("cifar", None))

    def test_test_channel_alone_fails(self):
        self.mkchannel("test", ["x.tar.gz"])
        with self.assertRaises(ContractError):
            channels.pick_channels(self.data)

    def test_declared_channel_missing_fails(self):
        self.mkchannel("train", ["x.tar.gz"])
        with self.assertRaises(ContractError) as e:
            channels.pick_channels(self.data, ["train", "test"])
        self.assertIn("'test'", str(e.exception))

    def test_source_kinds(self):
        batches = self.mkchannel("b", ["cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/test_batch.bin"])
        self.assertEqual(channels.find_source("b", batches),
                         channels.Source("batches", batches / "cifar-10-batches-bin"))
        tree = self.mkchannel("t", ["train/cat/1.jpg", "test/cat/2.jpg"])
        self.assertEqual(channels.find_source("t", tree).kind, "tree")
        classes = self.mkchannel("c", ["cat/1.png", "dog/2.png"])
        self.assertEqual(channels.find_source("c", classes).kind, "classes")
        empty = self.mkchannel("e", ["readme.txt"])
        with self.assertRaises(ContractError) as e:
            channels.find_source("e", empty)
        self.assertIn("readme.txt", str(e.exception))

    def test_separate_batch_channels_are_joined(self):
        train = self.mkchannel("training", [f"data_batch_{k}.bin" for k in range(1, 6)] + ["batches.meta.txt"])
        test = self.mkchannel("testing", ["test_batch.bin"])
        joined = channels.join_separate("training", channels.find_source("training", train),
                                        "testing", channels.find_source("testing", test),
                                        self.data.parent / "staging")
        self.assertEqual(sorted(p.name for p in joined.iterdir()),
                         ["batches.meta.txt"] + [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"])

    def test_mixed_formats_fail(self):
        train = self.mkchannel("training", ["data_batch_1.bin"])
        test = self.mkchannel("testing", ["cat/1.jpg"])
        with self.assertRaises(ContractError):
            channels.join_separate("training", channels.find_source("training", train),
                                   "testing", channels.find_source("testing", test), self.data.parent / "st")


class MpiTest(unittest.TestCase):
    def test_role(self):
        self.assertEqual(mpi.role({"current_host": "algo-1", "hosts": ["algo-1"]}), "single")
        # hosts are sorted: algo-1 is the master whatever the order given
        self.assertEqual(mpi.role({"current_host": "algo-1", "hosts": ["algo-2", "algo-1"]}), "master")
        self.assertEqual(mpi.role({"current_host": "algo-2", "hosts": ["algo-2", "algo-1"]}), "worker")
        with self.assertRaises(ContractError):
            mpi.role({"current_host": "algo-9", "hosts": ["algo-1", "algo-2"]})

    def test_processes_per_host(self):
        self.assertEqual(mpi.count_gpus({"CUDA_VISIBLE_DEVICES": "0,1,2,3"}), 4)
        self.assertEqual(mpi.count_gpus({"CUDA_VISIBLE_DEVICES": ""}), 0)
        fake = Path(sm_support.new_dir("smi")) / "nvidia-smi"
        fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA A10G (UUID: GPU-1)'\necho 'GPU 1: NVIDIA A10G (UUID: GPU-2)'\n")
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
        self.assertEqual(mpi.count_gpus({}, nvidia_smi=str(fake)), 2)
        self.assertEqual(mpi.count_gpus({}, nvidia_smi="/nonexistent/nvidia-smi"), 0)
        self.assertEqual(mpi.processes_per_host({}, 0), 1)           # CPU host: one process
        self.assertEqual(mpi.processes_per_host({}, 8), 8)           # one per GPU
        self.assertEqual(mpi.processes_per_host({"processes_per_host": "2"}, 8), 2)  # hyperparameter wins
        with self.assertRaises(ContractError):
            mpi.processes_per_host({"processes_per_host": 0}, 8)

    def test_mpi_enabled(self):
        self.assertFalse(mpi.mpi_enabled({}, ["algo-1"], 1))
        self.assertTrue(mpi.mpi_enabled({}, ["algo-1"], 4))
        self.assertTrue(mpi.mpi_enabled({}, ["algo-1", "algo-2"], 1))
        with self.assertRaises(ContractError):
            mpi.mpi_enabled({"enabled": False}, ["algo-1", "algo-2"], 1)

    def test_mpirun_command(self):
        cmd = mpi.mpirun_command(["algo-2", "algo-1"], 4, "eth1", ["/opt/convoy/bin/convoy-train", "--epochs", "2"],
                                 "--NCCL_DEBUG INFO -x FOO=1", forward_env=("CONVOY_SM_ROOT",))
        self.assertEqual(cmd[:5], ["mpirun", "--host", "algo-1:4,algo-2:4", "-np", "8"])
        self.assertEqual(cmd[-3:], ["/opt/convoy/bin/convoy-train", "--epochs", "2"])
        text = " ".join(cmd)
        for part in ("--allow-run-as-root", "-mca btl_tcp_if_include eth1", "-mca oob_tcp_if_include eth1",
                     "-x NCCL_SOCKET_IFNAME=eth1", "-x NCCL_DEBUG=INFO", "-x CONVOY_SM_ROOT", "-x FOO=1",
                     "-mca plm_rsh_no_tree_spawn 1"):
            self.assertIn(part, text)
        self.assertNotIn("--NCCL_DEBUG", text)

    def test_efa_and_nccl_settings_reach_every_rank(self):
        env = {"FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1", "RDMAV_FORK_SAFE": "1", "NCCL_PROTO": "simple",
               "NCCL_DEBUG": "TRACE", "HOME": "/root", "LD_PRELOAD": "x.so"}
        text = " ".join(mpi.mpirun_command(["algo-1", "algo-2"], 8, "eth0", ["convoy-train"], env=env))
        for name in ("FI_PROVIDER", "FI_EFA_USE_DEVICE_RDMA", "RDMAV_FORK_SAFE", "NCCL_PROTO"):
            self.assertIn(f"-x {name} ", text)
        self.assertIn("-x NCCL_DEBUG=WARN", text)  # the container's own setting, not passed twice
        self.assertNotIn("-x NCCL_DEBUG ", text)
        self.assertNotIn("HOME", text)
        self.assertNotIn("LD_PRELOAD", text)

    def test_mpirun_command_runs_under_real_mpirun(self):
        # The options must be ones this Open MPI accepts: run it on this host with `true`.
        import socket
        import subprocess
        import shutil
        if not shutil.which("mpirun"):
            self.skipTest("mpirun not installed")
        cmd = mpi.mpirun_command(["localhost"], 2, "lo", ["true"])
        cmd.insert(1, "--oversubscribe")
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=sm_support.limit(60))
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_stop_signal_reaches_the_ranks_below_a_launcher(self):
        # A launcher (sh, standing for mpirun) with two "ranks" (sleep): the ranks get the
        # signal, the launcher does not, and processes of another name are left alone.
        import signal
        import subprocess
        launcher = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
        self.addCleanup(lambda: (launcher.kill(), launcher.wait()))
        deadline = time.monotonic() + sm_support.limit(10)
        while len(mpi.descendants([launcher.pid], "sleep")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(mpi.descendants([launcher.pid], "sleep")), 2)
        self.assertEqual(mpi.descendants([launcher.pid], "convoy-train"), [])
        self.assertEqual(mpi.signal_local_ranks([launcher.pid], "convoy-train", signal.SIGTERM), 0)
        log = io.StringIO()
        self.assertEqual(mpi.signal_local_ranks([launcher.pid], "/usr/bin/sleep", signal.SIGTERM, log), 2)
        self.assertIn("SIGTERM passed to the 2 rank(s)", log.getvalue())
        self.assertEqual(launcher.wait(timeout=sm_support.limit(10)), 0)  # the ranks ended; sh's wait returned

    def test_ssh_answers_false_on_closed_port(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.assertFalse(mpi.ssh_answers("127.0.0.1", port, timeout=0.5))



class CudaCompatTest(unittest.TestCase):
    def setUp(self):
        root = sm_support.new_dir("compat")
        self.compat = root / "compat"
        self.compat.mkdir()
        (self.compat / "libcuda.so.580.95.05").write_bytes(b"")
        os.symlink("libcuda.so.580.95.05", self.compat / "libcuda.so.1")
        self.driver = root / "version"

    def host(self, version):
        self.driver.write_text(f"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {version}  Sun May 12 19:39:15 UTC 2024\n"
                               "GCC version:  gcc version 7.3.1 20180712 (Red Hat 7.3.1-17) (GCC)\n")

    def test_older_host_driver_gets_the_compat_libraries_first(self):
        self.host("535.183.01")
        env, why = cuda_compat.environment({"LD_LIBRARY_PATH": "/usr/local/nvidia/lib64"}, self.compat, self.driver)
        self.assertEqual(env["LD_LIBRARY_PATH"], f"{self.compat}:/usr/local/nvidia/lib64")
        self.assertIn("535.183.1 is older", why)

    def test_new_enough_driver_no_gpu_or_no_compat_package_change_nothing(self):
        for version in ("580.95.05", "580.105.08", "590.1"):
            self.host(version)
            self.assertEqual(cuda_compat.environment({"A": "1"}, self.compat, self.driver), ({"A": "1"}, None))
        self.driver.unlink()  # no NVIDIA driver: a CPU host
        self.assertEqual(cuda_compat.environment({}, self.compat, self.driver), ({}, None))
        self.host("535.183.01")
        self.assertEqual(cuda_compat.environment({}, self.compat.parent / "none", self.driver), ({}, None))


if __name__ == "__main__":
    unittest.main()
