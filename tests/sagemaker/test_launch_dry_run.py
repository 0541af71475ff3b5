"""launch.py --dry-run writes one request per AWS call; each must be well-formed according
to botocore's own service models (shipped inside botocore, no AWS access needed)."""
import base64
import re
import subprocess
import sys
import unittest

import request_checks
import sm_support

try:
    import botocore.session
except ImportError:  # the tests run with /usr/bin/python3, which has python3-botocore
    botocore = None

IMAGE, ROLE = request_checks.IMAGE, request_checks.ROLE


@unittest.skipIf(botocore is None, "botocore not importable (run with /usr/bin/python3)")
class DryRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.image_file = sm_support.some_test_jpeg()
        cls.result, cls.requests = request_checks.dry_run(request_checks.train_argv(),
                                                          sm_support.new_dir("dry-run"))
        cls.session = botocore.session.get_session()

    def test_every_request_validates_against_botocore(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        ops = [r["operation"] for r in self.requests]
        self.assertEqual(ops, ["upload_file", "CreateTrainingJob", "CreateModel", "CreateEndpointConfig",
                               "CreateEndpoint", "InvokeEndpoint"])
        for r in self.requests:
            self.assertEqual(request_checks.problems(self.session, r), [])

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



@unittest.skipIf(botocore is None, "botocore not importable (run with /usr/bin/python3)")
class TransformDryRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = botocore.session.get_session()
        cls.inputs = request_checks.transform_inputs()

    def test_each_content_type_gives_its_split_and_validates(self):
        expected = {"image/jpeg": ("None", "SingleRecord", "application/json", 3),
                    "application/jsonlines": ("Line", "MultiRecord", "application/jsonlines", 1),
                    "text/csv": ("Line", "MultiRecord", "application/jsonlines", 1)}
        for content_type, folder in self.inputs.items():
            with self.subTest(content_type=content_type):
                name = "convoy-transform-" + content_type.split("/")[1]
                result, reqs = request_checks.dry_run(request_checks.transform_argv(folder, name),
                                                      sm_support.new_dir("dry"))
                self.assertEqual(result.returncode, 0, result.stderr)
                split, strategy, accept, files = expected[content_type]
                self.assertEqual([r["operation"] for r in reqs],
                                 ["upload_file"] * files + ["CreateModel", "CreateTransformJob"])
                for r in reqs:
                    self.assertEqual(request_checks.problems(self.session, r), [])
                job = reqs[-1]["params"]
                self.assertEqual(job["TransformInput"]["ContentType"], content_type)  # told by the file names
                self.assertEqual(job["TransformInput"]["SplitType"], split)
                self.assertEqual(job["BatchStrategy"], strategy)
                self.assertEqual(job["TransformOutput"]["Accept"], accept)
                self.assertEqual(job["MaxPayloadInMB"], 20)
                self.assertEqual(job["ModelName"], reqs[-2]["params"]["ModelName"])
                self.assertTrue(reqs[-2]["params"]["PrimaryContainer"]["ModelDataUrl"].endswith(
                    "/convoy/output/convoy-test-1/output/model.tar.gz"))  # where the training job put it
                uploaded = {f"s3://{r['params']['Bucket']}/{r['params']['Key']}" for r in reqs[:files]}
                self.assertTrue(all(u.startswith(job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"])
                                    for u in uploaded))

    def test_existing_model_and_s3_input(self):
        argv = ["transform", "--bucket", "b-1", "--input", "s3://b-1/images/", "--model-name", "convoy-m",
                "--content-type", "application/x-image", "--job-name", "t-1"]
        result, reqs = request_checks.dry_run(argv, sm_support.new_dir("dry"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([r["operation"] for r in reqs], ["CreateTransformJob"])
        self.assertEqual(request_checks.problems(self.session, reqs[0]), [])
        self.assertEqual(reqs[0]["params"]["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"], "s3://b-1/images/")

    def test_refusals_say_what_to_do(self):
        big = sm_support.new_dir("big")
        (big / "all.json").write_bytes(b" " * (7 * 2**20))
        cases = [
            (["--input", str(big), "--model-name", "m", "--max-payload-mb", "6"], "over --max-payload-mb 6"),
            (["--input", "s3://b-1/x/", "--model-name", "m"], "--content-type is needed with an s3:// input"),
            (["--input", str(self.inputs["text/csv"])], "give --model-name, or --image and --role"),
            (["--input", str(self.inputs["text/csv"]), "--model-name", "m", "--max-payload-mb", "101"],
             "SageMaker allows 0 to 100"),
        ]
        for argv, message in cases:
            result, reqs = request_checks.dry_run(["transform", "--bucket", "b-1", *argv], sm_support.new_dir("dry"))
            self.assertEqual(result.returncode, 1, argv)
            self.assertIn(message, result.stderr)
            self.assertEqual(reqs, [])


if __name__ == "__main__":
    unittest.main()
