"""The training contract end to end: sagemaker/train run against temporary /opt/ml trees
with real CIFAR-10 images and the real convoy-train."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

import sm_support
from convoy_sm import requests

needs_train = unittest.skipUnless(sm_support.executable(sm_support.CONVOY_TRAIN), "CONVOY_TRAIN not built")


def metric_values(stdout):
    """What SageMaker's metric regexes would read from the job's log."""
    found = {}
    for definition in requests.metric_definitions():
        found[definition["Name"]] = [float(m) for m in re.findall(definition["Regex"], stdout)]
    return found


@needs_train
class TrainEntryTest(unittest.TestCase):
    def test_archive_channel_hyperparameter_strings_model_and_report(self):
        # With the keys a hyperparameter tuning job adds to each of its training jobs.
        root = sm_support.make_ml_root({"training": sm_support.copy_file_into(sm_support.small_archive())},
                                       dict(sm_support.SHORT, epochs="2", **sm_support.TUNING_RESERVED))
        result = sm_support.run_train(root)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse((root / "output" / "failure").exists())
        self.assertGreater((root / "model" / "model.convoy").stat().st_size, 1000)
        report = json.loads((root / "output" / "data" / "report.json").read_text())
        self.assertTrue((root / "model" / "report.json").exists())  # travels in model.tar.gz too
        self.assertEqual(report["hyperparameters"]["epochs"], 2)
        self.assertEqual(report["hyperparameters"]["batch_size"], 32)
        self.assertEqual(report["data"]["train_images"], 10 * sm_support.TRAIN_PER_CLASS)
        self.assertEqual(report["machine"]["instance_type"], "local-test")
        self.assertEqual(report["machine"]["platform"], "local")
        self.assertEqual(report["machine"]["host_count"], 1)
        metrics = metric_values(result.stdout)
        self.assertEqual(metrics["epoch"], [1.0, 2.0])
        self.assertEqual(metrics["test_acc"], [round(e["test_acc"], 4) for e in report["epochs"]])
        for name in ("train_loss", "test_acc", "images_per_sec", "elapsed_s"):
            self.assertEqual(len(metrics[name]), 2, name)
        self.assertAlmostEqual(metrics["test_acc"][-1], report["final"]["test_acc"], places=3)
        if sm_support.train_has("--log-every"):
            lines = (root / "output" / "data" / "metrics.jsonl").read_text().splitlines()
            self.assertTrue(lines and all(json.loads(l) for l in lines))

    def test_separate_training_and_testing_channels(self):
        tree = sm_support.small_tree()
        root = sm_support.make_ml_root({"training": sm_support.link_tree_into(tree / "train"),
                                        "testing": sm_support.link_tree_into(tree / "test")}, sm_support.SHORT)
        result = sm_support.run_train(root, TRAINING_JOB_NAME="convoy-test-job")  # as SageMaker sets it
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((root / "output" / "data" / "report.json").read_text())
        self.assertEqual(report["machine"]["platform"], "sagemaker")
        self.assertEqual(report["machine"]["training_job_name"], "convoy-test-job")
        self.assertEqual(report["data"]["train_images"], 10 * sm_support.TRAIN_PER_CLASS)
        self.assertEqual(report["data"]["test_images"], 10 * sm_support.TEST_PER_CLASS)
        self.assertIn("convoy-staging", report["data"]["spec"])

    def test_bad_channel_writes_the_failure_file(self):
        root = sm_support.make_ml_root({"training": lambda d: (d / "notes.txt").write_text("no images here")},
                                       sm_support.SHORT)
        result = sm_support.run_train(root)
        self.assertNotEqual(result.returncode, 0)
        failure = (root / "output" / "failure").read_text()
        self.assertIn("channel 'training'", failure[:1024])
        self.assertIn("holds no CIFAR-10 data", failure[:1024])
        self.assertFalse((root / "model" / "model.convoy").exists())

    def test_unknown_hyperparameter_writes_the_failure_file(self):
        root = sm_support.make_ml_root({"training": sm_support.copy_file_into(sm_support.small_archive())},
                                       dict(sm_support.SHORT, learning_rate="0.1"))
        result = sm_support.run_train(root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("learning_rate", (root / "output" / "failure").read_text()[:1024])

    def test_convoy_train_error_reaches_the_failure_file(self):
        root = sm_support.make_ml_root({"training": sm_support.copy_file_into(sm_support.small_archive())},
                                       dict(sm_support.SHORT, model="\"no-such-model\""))
        result = sm_support.run_train(root)
        self.assertEqual(result.returncode, 1)
        failure = (root / "output" / "failure").read_text()
        self.assertTrue(failure.startswith("convoy-train exited with status 1"), failure)
        self.assertIn("convoy-train: error:", failure[:1024])
        self.assertIn("no-such-model", failure[:1024])

    @unittest.skipUnless(sm_support.train_has("--resume"), "convoy-train has no --resume yet (checkpoints not landed)")
    def test_sigterm_checkpoints_and_the_next_start_resumes(self):
        hp = dict(sm_support.SHORT, epochs="6")
        root = sm_support.make_ml_root({"training": sm_support.copy_file_into(sm_support.small_archive())}, hp)
        proc = subprocess.Popen([sys.executable, str(sm_support.SAGEMAKER_DIR / "train")],
                                env=sm_support.entry_env(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        first = proc.stdout.readline()  # the first epoch line: training is under way
        self.assertTrue(first.startswith("epoch=1 "), first)
        proc.send_signal(signal.SIGTERM)  # what StopTrainingJob and spot interruption send
        out, err = proc.communicate(timeout=sm_support.limit(120))
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("stopped by SIGTERM", err)
        self.assertFalse((root / "output" / "failure").exists())
        self.assertTrue(any((root / "checkpoints").iterdir()), "no checkpoint written on SIGTERM")
        self.assertNotIn("epoch=6 ", first + out)

        # A new container start (spot resume) finds the checkpoints and finishes the run.
        result = sm_support.run_train(root)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("resuming from the checkpoints", result.stderr)
        self.assertIn("epoch=6 ", result.stdout)
        self.assertNotIn("epoch=1 ", result.stdout)
        report = json.loads((root / "output" / "data" / "report.json").read_text())
        self.assertEqual(report["epochs"][-1]["epoch"], 6)
        self.assertTrue((root / "model" / "model.convoy").exists())

    @unittest.skipUnless(sm_support.train_has("--bucket-mb") and shutil.which("mpirun"),
                         "convoy-train has no data-parallel training yet, or no mpirun")
    def test_two_processes_per_host_run_under_mpirun(self):
        hp = dict(sm_support.SHORT, threads="1", sagemaker_mpi_num_of_processes_per_host="2")
        resource = {"current_host": "localhost", "hosts": ["localhost"], "network_interface_name": "lo"}
        root = sm_support.make_ml_root({"training": sm_support.copy_file_into(sm_support.small_archive())}, hp,
                                       resource=resource)
        result = sm_support.run_train(root, timeout=180)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("mpirun --host localhost:2 -np 2", result.stderr)
        report = json.loads((root / "output" / "data" / "report.json").read_text())
        self.assertEqual(report["distributed"]["world_size"], 2)

    @unittest.skipUnless(sm_support.train_has("--bucket-mb") and sm_support.train_has("--resume")
                         and shutil.which("mpirun"), "convoy-train lacks data parallelism or resume, or no mpirun")
    def test_sigterm_under_mpirun_checkpoints_every_rank_and_exits_zero(self):
        # StopTrainingJob on an MPI job: SIGTERM reaches the entry point while two ranks train
        # under mpirun. Every rank must stop at the same step, rank 0 must write a checkpoint,
        # and the entry point must exit 0 (SageMaker marks a non-zero exit as a failed job).
        hp = dict(sm_support.SHORT, epochs="6", threads="1", sagemaker_mpi_num_of_processes_per_host="2")
        resource = {"current_host": "localhost", "hosts": ["localhost"], "network_interface_name": "lo"}
        root = sm_support.make_ml_root({"training": sm_support.copy_file_into(sm_support.small_archive())}, hp,
                                       resource=resource)
        proc = subprocess.Popen([sys.executable, str(sm_support.SAGEMAKER_DIR / "train")],
                                env=sm_support.entry_env(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        first = proc.stdout.readline()  # rank 0's first epoch line (under --tag-output)
        self.assertIn("epoch=1 ", first)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=sm_support.limit(120))
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("passed to the 2 rank(s) on this host", err)
        self.assertIn("stopped by SIGTERM", err)
        self.assertFalse((root / "output" / "failure").exists())
        checkpoints = sorted((root / "checkpoints").glob("checkpoint-*.convoy"))
        self.assertTrue(checkpoints, "no checkpoint written on SIGTERM")
        self.assertNotIn("epoch=6 ", first + out)
        # Both ranks stopped by themselves (mpirun tags each rank's lines), none was killed.
        for rank in (0, 1):
            self.assertIn(f"[1,{rank}]<stderr>:convoy-train: stopped by", err)

        # The restarted job resumes on two ranks and finishes.
        result = sm_support.run_train(root, timeout=180)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("resuming from the checkpoints", result.stderr)
        report = json.loads((root / "output" / "data" / "report.json").read_text())
        self.assertEqual(report["epochs"][-1]["epoch"], 6)
        self.assertEqual(report["distributed"]["world_size"], 2)


if __name__ == "__main__":
    unittest.main()
