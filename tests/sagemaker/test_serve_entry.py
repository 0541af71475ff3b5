"""The serving contract: sagemaker/serve against a temporary /opt/ml/model on a free
port (SAGEMAKER_BIND_TO_PORT); /ping and /invocations answer."""
import json
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import sm_support


def wait_for_ping(port, proc, timeout_s=60):
    deadline = time.monotonic() + sm_support.limit(timeout_s)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                return r.status
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"no answer on /ping within {timeout_s} s")


@unittest.skipUnless(sm_support.executable(sm_support.CONVOY_SERVE) and sm_support.executable(sm_support.CONVOY_TRAIN),
                     "CONVOY_SERVE / CONVOY_TRAIN not built")
class ServeEntryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A real model from a short real training run, laid out as SageMaker extracts
        # model.tar.gz: /opt/ml/model/model.convoy.
        cls.root = sm_support.new_dir("serve-ml")
        out = cls.root / "model"
        subprocess.run([sm_support.CONVOY_TRAIN, "--data", str(sm_support.small_tree()), "--epochs", "1",
                        "--batch-size", "32", "--threads", "2", "--out", str(out), "--no-progress"],
                       check=True, capture_output=True, timeout=sm_support.limit(300))

    def start(self, port):
        env = sm_support.entry_env(self.root, SAGEMAKER_BIND_TO_PORT=str(port))
        proc = subprocess.Popen([sys.executable, str(sm_support.SAGEMAKER_DIR / "serve")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait()))
        return proc

    def test_ping_and_invocations(self):
        port = sm_support.free_port()
        proc = self.start(port)
        self.assertEqual(wait_for_ping(port, proc), 200)
        image = sm_support.some_test_jpeg("ship", 0).read_bytes()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=image,
                                         headers={"Content-Type": "image/jpeg", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=sm_support.limit(30)) as r:
            self.assertEqual(r.status, 200)
            answer = json.loads(r.read())
        text = json.dumps(answer)
        self.assertTrue(any(name in text for name in ("airplane", "ship", "cat", "truck")), text[:300])
        proc.send_signal(15)  # SIGTERM: convoy-serve is the process itself (exec)
        self.assertEqual(proc.wait(timeout=sm_support.limit(30)), 0)

    def test_missing_model_fails_with_a_reason(self):
        empty = sm_support.new_dir("serve-empty")
        (empty / "model").mkdir()
        env = sm_support.entry_env(empty, SAGEMAKER_BIND_TO_PORT=str(sm_support.free_port()))
        result = subprocess.run([sys.executable, str(sm_support.SAGEMAKER_DIR / "serve")], env=env,
                                capture_output=True, text=True, timeout=sm_support.limit(30))
        self.assertEqual(result.returncode, 1)
        self.assertIn("no .convoy file", result.stderr)
        self.assertIn("no .convoy file", (empty / "output" / "failure").read_text())


if __name__ == "__main__":
    unittest.main()
