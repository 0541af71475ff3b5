"""The serving contract: sagemaker/serve against a temporary /opt/ml/model on a free
port (SAGEMAKER_BIND_TO_PORT); /ping and /invocations answer."""
import json
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

import sm_support



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

    def start(self, port, **env):
        env = sm_support.entry_env(self.root, SAGEMAKER_BIND_TO_PORT=str(port), **env)
        proc = subprocess.Popen([sys.executable, str(sm_support.SAGEMAKER_DIR / "serve")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait()))  # stderr: see wait_for_ping
        return proc

    def test_ping_and_invocations(self):
        port = sm_support.free_port()
        proc = self.start(port)
        self.assertEqual(sm_support.wait_for_ping(port, proc), 200)
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

    @unittest.skipUnless(sm_support.have_pil(), "python3-pil is needed to turn the JPEGs into pixel records")
    def test_batch_transform_json_lines_over_6_mib(self):
        # A multi-record batch-transform request (SplitType Line, BatchStrategy MultiRecord):
        # every real image of the small set as one JSON Lines record, over 6 MiB in all.
        jpegs, body = sm_support.transform_body()
        self.assertGreater(len(body), 6 * 1024 * 1024)

        port = sm_support.free_port()
        proc = self.start(port, SAGEMAKER_MAX_PAYLOAD_IN_MB="16")
        self.assertEqual(sm_support.wait_for_ping(port, proc), 200)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/execution-parameters", timeout=10) as r:
            self.assertEqual(json.loads(r.read())["MaxPayloadInMB"], 16)
        status, content_type, answer = sm_support.post_invocations(port, body, "application/jsonlines")
        self.assertEqual(status, 200, answer[:300])
        self.assertEqual(content_type, "application/jsonlines")  # JSON Lines in, JSON Lines out
        predictions = [json.loads(l) for l in answer.decode().splitlines()]
        self.assertEqual(len(predictions), len(jpegs))            # one line per record, in order
        # The same records as application/json with Accept: application/json.
        status, content_type, answer = sm_support.post_invocations(port, body, "application/json",
                                                                   accept="application/json")
        self.assertEqual(status, 200, answer[:300])
        self.assertEqual(json.loads(answer)["predictions"], predictions)
        # Record k answers for image k: the JPEG itself gives the same prediction.
        for k in (0, 1, 50, len(jpegs) - 1):
            status, _, one = sm_support.post_invocations(port, jpegs[k].read_bytes(), "image/jpeg")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(one)["predictions"][0]["label"], predictions[k]["label"], k)
        proc.send_signal(15)
        self.assertEqual(proc.wait(timeout=sm_support.limit(30)), 0)

        # Without the setting the limit is SageMaker's default 6 MB; 0 means no fixed limit.
        for setting, expected in ((None, 413), ("0", 200)):
            port = sm_support.free_port()
            proc = self.start(port, **({"SAGEMAKER_MAX_PAYLOAD_IN_MB": setting} if setting else {}))
            self.assertEqual(sm_support.wait_for_ping(port, proc), 200)
            status, _, answer = sm_support.post_invocations(port, body, "application/jsonlines",
                                                            headers_only=expected == 413)
            self.assertEqual(status, expected, answer[:300])
            proc.send_signal(15)
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
