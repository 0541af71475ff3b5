"""launch.py's real path (not --dry-run), offline: every AWS call it makes goes to botocore's
own clients with a Stubber in front, which checks each request against the service model and
against the one expected, and answers as SageMaker and S3 do, failures included."""
import contextlib
import datetime
import io
import json
import unittest

import sm_support

try:
    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import ANY, Stubber
except ImportError:  # the tests run with /usr/bin/python3, which has python3-boto3
    boto3 = None

if boto3:
    import launch  # sagemaker/launch.py (sm_support put sagemaker/ on sys.path)
    from convoy_sm import requests as sm_requests
    from convoy_sm import transform
    from convoy_sm.job_record import RECORD_NAME

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/convoy:cuda"
ROLE = "arn:aws:iam::123456789012:role/convoy-sagemaker"
BUCKET = "convoy-test-bucket"
T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


class StubbedClients:
    """The clients launch.py uses, each behind a Stubber; no network, fake credentials."""

    def __init__(self):
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name="us-east-1")
        self.s3 = session.client("s3")
        self.sagemaker = session.client("sagemaker")
        self.runtime = session.client("sagemaker-runtime")
        self.stubs = {name: Stubber(getattr(self, name)) for name in ("s3", "sagemaker", "runtime")}
        for stub in self.stubs.values():
            stub.activate()

    def expect(self, service, operation, response, params=None):
        self.stubs[service].add_response(operation, response, params)

    def refuse(self, service, operation, code, message, status=400):
        self.stubs[service].add_client_error(operation, service_error_code=code, service_message=message,
                                             http_status_code=status)

    def all_used(self):
        """Every expected call was made."""
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def training_job_answer(name, status, **extra):
    answer = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "TrainingJobStatus": status, "SecondaryStatus": {"InProgress": "Training"}.get(status, status),
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "CreationTime": T0,
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://{BUCKET}/convoy/output/{name}/output/model.tar.gz"},
    }
    answer.update(extra)
    return answer


@unittest.skipIf(boto3 is None, "boto3 not importable (run with /usr/bin/python3)")
class LaunchAwsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = sm_support.small_archive()
        cls.image_file = sm_support.some_test_jpeg()

    def setUp(self):
        self.aws = StubbedClients()
        self.runs = sm_support.new_dir("runs")

    def launch(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = launch.main(list(argv), clients=self.aws)
        return rc, out.getvalue(), err.getvalue()

    def train_args(self, name, *extra):
        return ["--image", IMAGE, "--role", ROLE, "--bucket", BUCKET, "--data", str(self.data),
                "--instance-type", "ml.g5.xlarge", "--instance-count", "2", "--max-run", "7200", "--hp", "epochs=3",
                "--job-name", name, "--runs", str(self.runs), "--poll", "0", *extra]

    def expect_upload_and_job(self, name):
        config = launch.train_config(launch.train_parser().parse_args(self.train_args(name)))
        plan = sm_requests.plan(config)
        uploads = [p for _, o, p in plan if o == "upload_file"]
        self.assertEqual(len(uploads), 1)
        self.aws.expect("s3", "put_object", {"ETag": '"1"'},
                        {"Bucket": BUCKET, "Key": uploads[0]["Key"], "Body": ANY})
        job = next(p for _, o, p in plan if o == "CreateTrainingJob")
        self.aws.expect("sagemaker", "create_training_job",
                        {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}"}, job)
        return config

    def test_train_deploy_invoke_record_and_model(self):
        name = "convoy-test-ok"
        config = self.expect_upload_and_job(name)
        model_bytes = sm_support.small_archive().read_bytes()[:4096]
        described = training_job_answer(name, "Completed", BillableTimeInSeconds=250, TrainingTimeInSeconds=300,
                                        TrainingStartTime=T0, TrainingEndTime=T0 + datetime.timedelta(seconds=300))
        # The waiter polls (one InProgress answer, then Completed), then launch.py describes once more.
        for answer in (training_job_answer(name, "InProgress"), described, described):
            self.aws.expect("sagemaker", "describe_training_job", answer, {"TrainingJobName": name})
        key = f"convoy/output/{name}/output/model.tar.gz"
        self.aws.expect("s3", "head_object", {"ContentLength": len(model_bytes), "ETag": '"m"'},
                        {"Bucket": BUCKET, "Key": key})
        self.aws.expect("s3", "get_object", {"Body": StreamingBody(io.BytesIO(model_bytes), len(model_bytes)),
                                             "ContentLength": len(model_bytes), "ETag": '"m"'},
                        {"Bucket": BUCKET, "Key": key})
        model_url = f"s3://{BUCKET}/{key}"
        for _, operation, params in sm_requests.deploy_requests(config, name, model_url):
            arn_key = {"CreateModel": "ModelArn", "CreateEndpointConfig": "EndpointConfigArn",
                       "CreateEndpoint": "EndpointArn"}[operation]
            snake = {"CreateModel": "create_model", "CreateEndpointConfig": "create_endpoint_config",
                     "CreateEndpoint": "create_endpoint"}[operation]
            self.aws.expect("sagemaker", snake, {arn_key: f"arn:aws:sagemaker:us-east-1:123456789012:x/{name}"},
                            params)
        endpoint = f"{name}-endpoint"
        in_service = {"EndpointName": endpoint, "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
                      "EndpointConfigName": f"{name}-config", "EndpointStatus": "InService",
                      "CreationTime": T0, "LastModifiedTime": T0}
        for answer in (dict(in_service, EndpointStatus="Creating"), in_service, in_service):
            self.aws.expect("sagemaker", "describe_endpoint", answer, {"EndpointName": endpoint})
        body = b'{"predictions":[{"label":"cat"}]}'
        self.aws.expect("runtime", "invoke_endpoint", {"Body": StreamingBody(io.BytesIO(body), len(body)),
                                                       "ContentType": "application/json"},
                        {"EndpointName": endpoint, "ContentType": "image/jpeg", "Accept": "application/json",
                         "Body": self.image_file.read_bytes()})

        rc, out, err = self.launch(*self.train_args(name, "--deploy", "--invoke-image", str(self.image_file)))
        self.assertEqual(rc, 0, err)
        self.aws.all_used()
        self.assertIn(model_url, out)
        self.assertIn('"label":"cat"', out)
        record = json.loads((self.runs / name / RECORD_NAME).read_text())
        self.assertEqual((record["BillableTimeInSeconds"], record["TrainingTimeInSeconds"]), (250, 300))
        self.assertEqual((record["InstanceType"], record["InstanceCount"], record["Region"]),
                         ("ml.g5.xlarge", 2, "us-east-1"))
        self.assertEqual(record["TrainingEndTime"], "2024-05-01T12:05:00+00:00")
        self.assertEqual((self.runs / name / "output" / "model.tar.gz").read_bytes(), model_bytes)

    def test_failed_training_job_prints_its_failure_reason(self):
        name = "convoy-test-fails"
        self.expect_upload_and_job(name)
        reason = "AlgorithmError: convoy-train exited with status 1: convoy-train: error: --model 'x': unknown model"
        failed = training_job_answer(name, "Failed", FailureReason=reason, BillableTimeInSeconds=61)
        for answer in (failed, failed):  # the waiter stops at Failed; launch.py describes once more
            self.aws.expect("sagemaker", "describe_training_job", answer, {"TrainingJobName": name})
        rc, out, err = self.launch(*self.train_args(name))
        self.assertEqual(rc, 1)
        self.aws.all_used()
        self.assertIn(f"launch.py: error: training job {name} Failed: {reason}", err)
        self.assertNotIn("Traceback", err)
        self.assertEqual(out, "")
        # A failed job bills too: its record is kept for convoy-report.
        self.assertEqual(json.loads((self.runs / name / RECORD_NAME).read_text())["BillableTimeInSeconds"], 61)

    def test_failed_endpoint_and_refused_model(self):
        # The training job completes; the endpoint fails.
        for model_refused in (False, True):
            with self.subTest(model_refused=model_refused):
                self.aws = StubbedClients()
                name = f"convoy-test-ep-{int(model_refused)}"
                self.expect_upload_and_job(name)
                done = training_job_answer(name, "Completed", BillableTimeInSeconds=100)
                for answer in (done, done):
                    self.aws.expect("sagemaker", "describe_training_job", answer, {"TrainingJobName": name})
                self.aws.expect("s3", "head_object", {"ContentLength": 3}, {"Bucket": BUCKET, "Key": ANY})
                self.aws.expect("s3", "get_object", {"Body": StreamingBody(io.BytesIO(b"abc"), 3)},
                                {"Bucket": BUCKET, "Key": ANY})
                if model_refused:
                    self.aws.refuse("sagemaker", "create_model", "ValidationException",
                                    "Could not access model data at s3://convoy-test-bucket/...")
                    expected = "launch.py: error: CreateModel: ValidationException: Could not access model data"
                else:
                    self.aws.expect("sagemaker", "create_model", {"ModelArn": "arn:aws:sagemaker:us-east-1:1:model/m"})
                    self.aws.expect("sagemaker", "create_endpoint_config",
                                    {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/c"})
                    self.aws.expect("sagemaker", "create_endpoint",
                                    {"EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/e"})
                    failed = {"EndpointName": f"{name}-endpoint", "EndpointConfigName": f"{name}-config",
                              "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/e",
                              "EndpointStatus": "Failed", "CreationTime": T0, "LastModifiedTime": T0,
                              "FailureReason": "The primary container for production variant AllTraffic did not "
                                               "pass the ping health check."}
                    for answer in (failed, failed):
                        self.aws.expect("sagemaker", "describe_endpoint", answer, {"EndpointName": f"{name}-endpoint"})
                    expected = (f"launch.py: error: endpoint {name}-endpoint Failed: The primary container for "
                                "production variant AllTraffic did not pass the ping health check.")
                rc, _, err = self.launch(*self.train_args(name, "--deploy"))
                self.assertEqual(rc, 1)
                self.aws.all_used()
                self.assertIn(expected, err)
                self.assertNotIn("Traceback", err)

    def test_refused_upload_names_the_file_and_the_reason(self):
        self.aws.refuse("s3", "put_object", "AccessDenied", "Access Denied", status=403)
        rc, _, err = self.launch(*self.train_args("convoy-test-denied"))
        self.assertEqual(rc, 1)
        self.aws.all_used()
        self.assertIn(f"launch.py: error: upload of {self.data}", err)
        self.assertIn("Access Denied", err)

    def transform_args(self, name, input_path, *extra):
        return ["transform", "--bucket", BUCKET, "--input", str(input_path), "--image", IMAGE, "--role", ROLE,
                "--training-job", "convoy-test-ok", "--max-payload-mb", "16", "--job-name", name, "--poll", "0",
                *extra]

    def test_transform_job_completes_and_fails_with_its_reason(self):
        folder = sm_support.new_dir("transform-input")
        (folder / "batch.jsonl").write_text("[" + ",".join(["0"] * 3072) + "]\n")
        for status in ("Completed", "Failed"):
            with self.subTest(status=status):
                self.aws = StubbedClients()
                name = f"convoy-transform-{status.lower()}"
                config = launch.transform_config(launch.transform_parser().parse_args(
                    self.transform_args(name, folder)[1:]))
                plan = transform.transform_plan(config)
                self.assertEqual([o for _, o, _ in plan], ["upload_file", "CreateModel", "CreateTransformJob"])
                self.aws.expect("s3", "put_object", {}, {"Bucket": BUCKET, "Key": plan[0][2]["Key"], "Body": ANY})
                self.aws.expect("sagemaker", "create_model", {"ModelArn": "arn:aws:sagemaker:us-east-1:1:model/m"},
                                plan[1][2])
                self.aws.expect("sagemaker", "create_transform_job",
                                {"TransformJobArn": "arn:aws:sagemaker:us-east-1:1:transform-job/t"}, plan[2][2])
                answer = {"TransformJobName": name, "TransformJobArn": "arn:aws:sagemaker:us-east-1:1:transform-job/t",
                          "TransformJobStatus": status, "ModelName": f"{name}-model", "CreationTime": T0,
                          "TransformInput": plan[2][2]["TransformInput"],
                          "TransformResources": plan[2][2]["TransformResources"]}
                if status == "Failed":
                    answer["FailureReason"] = "ClientError: See job logs for more information"
                for a in (answer, answer):
                    self.aws.expect("sagemaker", "describe_transform_job", a, {"TransformJobName": name})
                rc, out, err = self.launch(*self.transform_args(name, folder))
                self.aws.all_used()
                if status == "Completed":
                    self.assertEqual(rc, 0, err)
                    self.assertEqual(out.strip(), plan[2][2]["TransformOutput"]["S3OutputPath"])
                else:
                    self.assertEqual(rc, 1)
                    self.assertIn(f"launch.py: error: transform job {name} Failed: ClientError: See job logs", err)


if __name__ == "__main__":
    unittest.main()
