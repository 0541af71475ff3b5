"""The serving contract: sagemaker/serve against a temporary /opt/ml/model on a free
port (SAGEMAKER_BIND_TO_PORT); /ping and /invocations answer."""
import http.client
import json
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import sm_support

try:
    from PIL import Image  # Debian's python3-pil (scripts/install-deps.sh)
except ImportError:
    Image = None


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

    def start(self, port, **env):
        env = sm_support.entry_env(self.root, SAGEMAKER_BIND_TO_PORT=str(port), **env)
        proc = subprocess.Popen([sys.executable, str(sm_support.SAGEMAKER_DIR / "serve")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(), proc.stdout.close(),
                                 proc.stderr.close()))
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

    def post(self, port, body, content_type, accept=None, headers_only=False):
        """(status, content type, body) of POST /invocations. headers_only: send the headers
        (with the body's Content-Length) and read the answer without sending the body, as a
        server that refuses a body by its length answers before reading it."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=sm_support.limit(120))
        try:
            conn.putrequest("POST", "/invocations")
            conn.putheader("Content-Type", content_type)
            conn.putheader("Content-Length", str(len(body)))
            if accept:
                conn.putheader("Accept", accept)
            conn.endheaders()
            if not headers_only:
                conn.send(body)
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()

    @unittest.skipUnless(Image, "python3-pil is needed to turn the JPEGs into pixel records")
    def test_batch_transform_json_lines_over_6_mib(self):
        # A multi-record batch-transform request (SplitType Line, BatchStrategy MultiRecord):
        # every real image of the small set as one JSON Lines record, over 6 MiB in all.
        jpegs = sorted((sm_support.small_tree() / "train").rglob("*.jpg")) + \
            sorted((sm_support.small_tree() / "test").rglob("*.jpg"))
        lines = []
        for i, path in enumerate(jpegs):
            with Image.open(path) as im:
                hwc = im.convert("RGB").resize((32, 32)).tobytes()
            chw = [hwc[p * 3 + c] for c in range(3) for p in range(1024)]
            # Most records are one flat image; every 50th is an instances object instead.
            lines.append(json.dumps({"instances": [chw]} if i % 50 == 0 else chw, separators=(",", ":")))
        body = ("\n".join(lines) + "\n").encode()
        self.assertGreater(len(body), 6 * 1024 * 1024)

        port = sm_support.free_port()
        proc = self.start(port, SAGEMAKER_MAX_PAYLOAD_IN_MB="16")
        self.assertEqual(wait_for_ping(port, proc), 200)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/execution-parameters", timeout=10) as r:
            self.assertEqual(json.loads(r.read())["MaxPayloadInMB"], 16)
        status, content_type, answer = self.post(port, body, "application/jsonlines")
        self.assertEqual(status, 200, answer[:300])
        self.assertEqual(content_type, "application/jsonlines")  # JSON Lines in, JSON Lines out
        predictions = [json.loads(l) for l in answer.decode().splitlines()]
        self.assertEqual(len(predictions), len(jpegs))            # one line per record, in order
        # The same records as application/json with Accept: application/json.
        status, content_type, answer = self.post(port, body, "application/json", accept="application/json")
        self.assertEqual(status, 200, answer[:300])
        self.assertEqual(json.loads(answer)["predictions"], predictions)
        # Record k answers for image k: the JPEG itself gives the same prediction.
        for k in (0, 1, 50, len(jpegs) - 1):
            status, _, one = self.post(port, jpegs[k].read_bytes(), "image/jpeg")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(one)["predictions"][0]["label"], predictions[k]["label"], k)
        proc.send_signal(15)
        self.assertEqual(proc.wait(timeout=sm_support.limit(30)), 0)

        # Without the setting the limit is SageMaker's default 6 MB; 0 means no fixed limit.
        for setting, expected in ((None, 413), ("0", 200)):
            port = sm_support.free_port()
            proc = self.start(port, **({"SAGEMAKER_MAX_PAYLOAD_IN_MB": setting} if setting else {}))
            self.assertEqual(wait_for_ping(port, proc), 200)
            status, _, answer = self.post(port, body, "application/jsonlines", headers_only=expected == 413)
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
