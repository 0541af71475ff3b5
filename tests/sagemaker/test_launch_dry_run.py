"""launch.py --dry-run writes one request per AWS call; each must be well-formed according
to botocore's own service models (shipped inside botocore, no AWS access needed)."""
import base64
import json
import re
import subprocess
import sys
import unittest
from pathlib import Path

import sm_support

try:
    import botocore.session
    from botocore.validate import ParamValidator
except ImportError:  # the tests run with /usr/bin/python3, which has python3-botocore
    botocore = None

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/convoy:cuda"
ROLE = "arn:aws:iam::123456789012:role/convoy-sagemaker"


def check_patterns(testcase, value, shape, where):
    """ParamValidator checks types, required members and lengths; also check the regex
    patterns the model gives for names (job, model, endpoint, ...)."""
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                check_patterns(testcase, value[name], member, f"{where}.{name}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            check_patterns(testcase, item, shape.member, f"{where}[{i}]")
    elif shape.type_name == "map":
        for k, v in value.items():
            check_patterns(testcase, k, shape.key, f"{where} key")
            check_patterns(testcase, v, shape.value, f"{where}[{k}]")
    elif shape.type_name == "string" and "pattern" in shape.metadata:
        pattern = shape.metadata["pattern"]
        try:
            compiled = re.compile(pattern)
        except re.error:
            return  # a few service patterns use Java-only syntax
        testcase.assertTrue(compiled.fullmatch(value), f"{where}={value!r} does not match {pattern}")


@unittest.skipIf(botocore is None, "botocore not importable (run with /usr/bin/python3)")
class DryRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = sm_support.new_dir("dry-run")
        data = sm_support.small_archive()
        cls.image_file = sm_support.some_test_jpeg()
        cmd = [sys.executable, str(sm_support.SAGEMAKER_DIR / "launch.py"), "--image", IMAGE, "--role", ROLE,
               "--bucket", "convoy-test-bucket", "--data", str(data), "--instance-type", "ml.g5.xlarge",
               "--instance-count", "2", "--spot", "--max-run", "7200", "--hp", "epochs=10", "--hp", "batch_size=256",
               "--hp", "model=quick", "--invoke-image", str(cls.image_file), "--job-name", "convoy-test-1",
               "--dry-run", str(cls.out)]
        cls.result = subprocess.run(cmd, capture_output=True, text=True, timeout=sm_support.limit(60))
        cls.requests = [json.loads(p.read_text()) for p in sorted(cls.out.glob("*.json"))]
        cls.session = botocore.session.get_session()

    def test_every_request_validates_against_botocore(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        ops = [r["operation"] for r in self.requests]
        self.assertEqual(ops, ["upload_file", "CreateTrainingJob", "CreateModel", "CreateEndpointConfig",
                               "CreateEndpoint", "InvokeEndpoint"])
        for r in self.requests:
            params = dict(r["params"])
            service, operation = r["service"], r["operation"]
            if operation == "upload_file":  # boto3's upload_file becomes PutObject(s)
                self.assertTrue(Path(params.pop("Filename")).stat().st_size > 0)
                service, operation = "s3", "PutObject"
            if isinstance(params.get("Body"), dict):
                params["Body"] = base64.b64decode(params["Body"]["base64"])
            shape = self.session.get_service_model(service).operation_model(operation).input_shape
            report = ParamValidator().validate(params, shape)
            self.assertFalse(report.has_errors(), f"{operation}: {report.generate_report()}")
            check_patterns(self, params, shape, operation)

    def test_training_job_contents(self):
        job = next(r["params"] for r in self.requests if r["operation"] == "CreateTrainingJob")
        self.assertEqual(job["ResourceConfig"]["InstanceCount"], 2)
        self.assertTrue(job["EnableManagedSpotTraining"])
        self.assertGreaterEqual(job["StoppingCondition"]["MaxWaitTimeInSeconds"],
                                job["StoppingCondition"]["MaxRuntimeInSeconds"])
        self.assertEqual(job["CheckpointConfig"]["LocalPath"], "/opt/ml/checkpoints")
        self.assertTrue(job["CheckpointConfig"]["S3Uri"].startswith("s3://convoy-test-bucket/"))
        self.assertTrue(all(isinstance(v, str) for v in job["HyperParameters"].values()))
        self.assertEqual(job["HyperParameters"]["sagemaker_mpi_enabled"], "true")
        upload = self.requests[0]["params"]
        channel = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
        self.assertTrue(f"s3://{upload['Bucket']}/{upload['Key']}".startswith(channel))
        model = next(r["params"] for r in self.requests if r["operation"] == "CreateModel")
        self.assertTrue(model["PrimaryContainer"]["ModelDataUrl"].endswith("/convoy-test-1/output/model.tar.gz"))
        invoke = self.requests[-1]["params"]
        self.assertEqual(invoke["ContentType"], "image/jpeg")
        self.assertEqual(base64.b64decode(invoke["Body"]["base64"]), self.image_file.read_bytes())

    def test_metric_regexes_read_the_epoch_line(self):
        job = next(r["params"] for r in self.requests if r["operation"] == "CreateTrainingJob")
        line = ("[1,0]<stdout>:epoch=3 train_loss=1.2340 train_acc=0.5612 test_loss=1.1010 test_acc=0.6093 "
                "images_per_sec=812.4 elapsed_s=61.2")
        found = {m["Name"]: re.search(m["Regex"], line).group(1) for m in job["AlgorithmSpecification"]["MetricDefinitions"]}
        self.assertEqual(found, {"epoch": "3", "train_loss": "1.2340", "train_acc": "0.5612", "test_loss": "1.1010",
                                 "test_acc": "0.6093", "images_per_sec": "812.4", "elapsed_s": "61.2"})

    def test_spot_wait_shorter_than_run_is_refused(self):
        cmd = [sys.executable, str(sm_support.SAGEMAKER_DIR / "launch.py"), "--image", IMAGE, "--role", ROLE,
               "--bucket", "b-1", "--spot", "--max-run", "7200", "--max-wait", "3600",
               "--dry-run", str(sm_support.new_dir("dry-bad"))]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=sm_support.limit(60))
        self.assertEqual(result.returncode, 1)
        self.assertIn("MaxWaitTimeInSeconds", result.stderr)


if __name__ == "__main__":
    unittest.main()
