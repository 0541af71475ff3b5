"""Carrying out launch.py's plans against AWS (boto3 clients), waiting for each job, model and
endpoint, and saying why when one fails.

Every failure ends in LaunchError with the reason SageMaker gives: a job's, endpoint's or
transform's FailureReason from its Describe call, or a refused call's error code and message,
never a traceback. Clients are passed in, so the same code runs against botocore's Stubber in
the tests.
"""
import sys

from . import requests, transform
from .job_record import write_job_record


class LaunchError(Exception):
    """An AWS call or a job failed; the message is the reason SageMaker gave."""


class Clients:
    """The boto3 clients a launch needs, made when first used."""

    def __init__(self, region=None):
        import boto3  # only for real runs: --dry-run works without it
        self.session = boto3.session.Session(region_name=region)
        self._made = {}

    def __getattr__(self, service):  # clients.s3, clients.sagemaker, clients.runtime
        if service.startswith("_") or service == "session":
            raise AttributeError(service)
        name = {"runtime": "sagemaker-runtime"}.get(service, service)
        if name not in self._made:
            self._made[name] = self.session.client(name)
        return self._made[name]


def _client_errors():
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        from boto3.exceptions import S3UploadFailedError
    except ImportError:  # botocore alone
        S3UploadFailedError = ClientError
    return ClientError, BotoCoreError, S3UploadFailedError


def call(what, fn, **params):
    """fn(**params); a refused call becomes LaunchError naming `what` and AWS's reason."""
    ClientError, BotoCoreError, S3UploadFailedError = _client_errors()
    try:
        return fn(**params)
    except ClientError as e:
        error = e.response.get("Error", {})
        raise LaunchError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', str(e))}") from e
    except (BotoCoreError, S3UploadFailedError) as e:
        raise LaunchError(f"{what}: {e}") from e


def wait_then_describe(client, waiter, describe, params, poll_s, max_attempts):
    """Waits with the named botocore waiter, then returns the Describe answer. A waiter that
    gives up on a failed resource is not an error here: the answer says what happened."""
    from botocore.exceptions import WaiterError
    try:
        client.get_waiter(waiter).wait(**params, WaiterConfig={"Delay": poll_s, "MaxAttempts": max_attempts})
    except WaiterError:
        pass
    return call(describe, getattr(client, _snake(describe)), **params)


def _snake(operation):
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def upload(clients, steps):
    for _, operation, params in steps:
        if operation == "upload_file":
            call(f"upload of {params['Filename']} to s3://{params['Bucket']}/{params['Key']}",
                 clients.s3.upload_file, Filename=params["Filename"], Bucket=params["Bucket"], Key=params["Key"])
            log(f"uploaded s3://{params['Bucket']}/{params['Key']}")


def create(clients, operation, params):
    call(operation, getattr(clients.sagemaker, _snake(operation)), **params)
    log(f"{operation}: done")


def split_s3(uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def run_training(config, clients, deploy, runs_dir, poll_s=60):
    """Upload, train, record, download the model; with deploy: model, endpoint, invoke.
    Returns 0, or raises LaunchError."""
    steps = requests.plan(config)
    upload(clients, steps)
    job = next(p for _, o, p in steps if o == "CreateTrainingJob")
    name = job["TrainingJobName"]
    create(clients, "CreateTrainingJob", job)
    log(f"training job {name} started; waiting (CloudWatch: /aws/sagemaker/TrainingJobs)")
    longest = job["StoppingCondition"].get("MaxWaitTimeInSeconds", job["StoppingCondition"]["MaxRuntimeInSeconds"])
    described = wait_then_describe(clients.sagemaker, "training_job_completed_or_stopped", "DescribeTrainingJob",
                                   {"TrainingJobName": name}, poll_s, max_attempts=longest // max(poll_s, 1) + 60)
    folder = write_job_record(runs_dir, described)
    status = described["TrainingJobStatus"]
    billable = described.get("BillableTimeInSeconds")
    log(f"training job {name}: {status}" + (f", {billable} billable seconds per instance" if billable else "")
        + f"; recorded in {folder}")
    if status != "Completed":
        raise LaunchError(f"training job {name} {status}: "
                          + described.get("FailureReason", "stopped before it completed (StopTrainingJob or "
                                          "MaxRuntimeInSeconds); its checkpoints are in "
                                          + job["CheckpointConfig"]["S3Uri"]))
    model_url = described["ModelArtifacts"]["S3ModelArtifacts"]
    local_model = folder / "output" / "model.tar.gz"
    local_model.parent.mkdir(parents=True, exist_ok=True)
    bucket, key = split_s3(model_url)
    call(f"download of {model_url}", clients.s3.download_file, Bucket=bucket, Key=key, Filename=str(local_model))
    log(f"model in {local_model} (convoy-report {folder} compares it)")
    print(model_url, flush=True)
    if not deploy:
        return 0

    deploy_steps = requests.deploy_requests(config, name, model_url)
    for _, operation, params in deploy_steps:
        create(clients, operation, params)
    endpoint = deploy_steps[-1][2]["EndpointName"]
    described = wait_then_describe(clients.sagemaker, "endpoint_in_service", "DescribeEndpoint",
                                   {"EndpointName": endpoint}, poll_s, max_attempts=120 * 60 // max(poll_s, 1))
    if described["EndpointStatus"] != "InService":
        raise LaunchError(f"endpoint {endpoint} {described['EndpointStatus']}: "
                          f"{described.get('FailureReason', 'no reason given')}; it still bills until deleted: "
                          f"aws sagemaker delete-endpoint --endpoint-name {endpoint}")
    log(f"endpoint {endpoint} in service")
    if config.image_file:
        _, _, params = requests.invoke_request(config, endpoint)
        answer = call("InvokeEndpoint", clients.runtime.invoke_endpoint, **params)
        print(answer["Body"].read().decode(), flush=True)
    return 0


def run_transform(config, clients, poll_s=60):
    """Upload, model (unless given), transform job, wait. Returns 0, or raises LaunchError."""
    steps = transform.transform_plan(config)
    upload(clients, steps)
    for _, operation, params in steps:
        if operation != "upload_file":
            create(clients, operation, params)
    job = steps[-1][2]
    name = job["TransformJobName"]
    log(f"transform job {name} started; waiting (CloudWatch: /aws/sagemaker/TransformJobs)")
    described = wait_then_describe(clients.sagemaker, "transform_job_completed_or_stopped", "DescribeTransformJob",
                                   {"TransformJobName": name}, poll_s, max_attempts=48 * 3600 // max(poll_s, 1))
    status = described["TransformJobStatus"]
    if status != "Completed":
        raise LaunchError(f"transform job {name} {status}: {described.get('FailureReason', 'no reason given')}")
    output = job["TransformOutput"]["S3OutputPath"]
    log(f"transform job {name}: Completed; one .out object per input object under {output}")
    print(output, flush=True)
    return 0

