"""The AWS API requests that launch.py makes, as plain dicts (so --dry-run can write them
and a test can check each against botocore's own service models).

The plan, in order: upload the CIFAR-10 files to S3 (s3 PutObject via upload_file), create a
training job, then create a model, an endpoint config and an endpoint from its
model.tar.gz, and invoke the endpoint with one image.
"""
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

# Each regex reads one number from convoy-train's epoch line,
#   epoch=3 train_loss=1.2340 train_acc=0.5612 test_loss=1.1010 test_acc=0.6093 images_per_sec=812.4 elapsed_s=61.2
# (under mpirun --tag-output the line starts with "[1,0]<stdout>:", which the regexes allow).
METRIC_KEYS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "images_per_sec", "elapsed_s")


def metric_definitions():
    return [{"Name": key, "Regex": rf"\b{key}=([-+0-9.eE]+)"} for key in METRIC_KEYS]


NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"


@dataclass
class LaunchConfig:
    image: str                      # ECR image URI
    role_arn: str                   # SageMaker execution role
    bucket: str
    prefix: str = "convoy"
    data: str = ""                  # local CIFAR-10 folder or archive to upload ("" = already in S3)
    instance_type: str = "ml.g4dn.xlarge"
    instance_count: int = 1
    volume_gb: int = 30
    max_run_s: int = 3 * 3600
    spot: bool = False
    max_wait_s: int = 0             # spot: total time including waiting for capacity (>= max_run_s)
    hyperparameters: dict = field(default_factory=dict)
    endpoint_instance_type: str = "ml.c5.xlarge"
    endpoint_instance_count: int = 1
    job_name: str = ""
    image_file: str = ""            # the image sent to the endpoint
    tags: dict = field(default_factory=dict)

    def name(self):
        return self.job_name or timestamped_name("convoy")


def timestamped_name(prefix):
    """prefix-YYYYmmdd-HHMMSS (UTC): a job name that sorts by time."""
    return time.strftime(f"{prefix}-%Y%m%d-%H%M%S", time.gmtime())


def s3_uri(bucket, *parts):
    return "s3://" + "/".join([bucket] + [p.strip("/") for p in parts if p])


def upload_requests(config):
    """One upload_file call per file under config.data (or the file itself)."""
    if not config.data:
        return []
    root = Path(config.data)
    if root.is_file():
        files = [(root, root.name)]
    elif root.is_dir():
        files = [(p, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*")) if p.is_file()]
    else:
        raise ValueError(f"--data {config.data}: no such file or folder")
    if not files:
        raise ValueError(f"--data {config.data}: the folder is empty")
    return [{"Filename": str(path), "Bucket": config.bucket,
             "Key": f"{config.prefix.strip('/')}/data/training/{key}"} for path, key in files]


def training_job_request(config, job_name):
    if not NAME_PATTERN.match(job_name):
        raise ValueError(f"job name {job_name!r}: letters, digits and '-', at most 63 characters")
    hyperparameters = {str(k): (v if isinstance(v, str) else json.dumps(v))
                       for k, v in config.hyperparameters.items()}
    if config.instance_count > 1:
        hyperparameters.setdefault("sagemaker_mpi_enabled", "true")
    request = {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": {
            "TrainingImage": config.image,
            "TrainingInputMode": "File",
            "MetricDefinitions": metric_definitions(),
            "EnableSageMakerMetricsTimeSeries": True,
        },
        "RoleArn": config.role_arn,
        "HyperParameters": hyperparameters,
        "InputDataConfig": [{
            "ChannelName": "training",
            "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": s3_uri(config.bucket, config.prefix, "data", "training") + "/",
                "S3DataDistributionType": "FullyReplicated",
            }},
            "InputMode": "File",
        }],
        "OutputDataConfig": {"S3OutputPath": s3_uri(config.bucket, config.prefix, "output") + "/"},
        "ResourceConfig": {
            "InstanceType": config.instance_type,
            "InstanceCount": config.instance_count,
            "VolumeSizeInGB": config.volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": config.max_run_s},
        "CheckpointConfig": {
            "S3Uri": s3_uri(config.bucket, config.prefix, "checkpoints", job_name) + "/",
            "LocalPath": CHECKPOINT_LOCAL_PATH,
        },
        "EnableManagedSpotTraining": bool(config.spot),
    }
    if config.spot:
        wait = config.max_wait_s or 2 * config.max_run_s
        if wait < config.max_run_s:
            raise ValueError(f"--max-wait {wait} s is shorter than --max-run {config.max_run_s} s; "
                             "spot jobs need MaxWaitTimeInSeconds >= MaxRuntimeInSeconds")
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = wait
    if config.tags:
        request["Tags"] = [{"Key": k, "Value": str(v)} for k, v in sorted(config.tags.items())]
    return request


def model_data_url(config, job_name):
    """Where SageMaker puts the job's model.tar.gz (OutputDataConfig/<job>/output/)."""
    return s3_uri(config.bucket, config.prefix, "output", job_name, "output", "model.tar.gz")


def deploy_requests(config, job_name, model_url):
    model_name = f"{job_name}-model"[:63]
    endpoint_config_name = f"{job_name}-config"[:63]
    endpoint_name = f"{job_name}-endpoint"[:63]
    return [
        ("sagemaker", "CreateModel", {
            "ModelName": model_name,
            "PrimaryContainer": {"Image": config.image, "ModelDataUrl": model_url,
                                 "Environment": {"SAGEMAKER_BIND_TO_PORT": "8080"}},
            "ExecutionRoleArn": config.role_arn,
        }),
        ("sagemaker", "CreateEndpointConfig", {
            "EndpointConfigName": endpoint_config_name,
            "ProductionVariants": [{
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InitialInstanceCount": config.endpoint_instance_count,
                "InstanceType": config.endpoint_instance_type,
                "InitialVariantWeight": 1.0,
            }],
        }),
        ("sagemaker", "CreateEndpoint", {
            "EndpointName": endpoint_name,
            "EndpointConfigName": endpoint_config_name,
        }),
    ]


def content_type_for(path):
    suffix = Path(path).suffix.lower()
    return {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(suffix, "application/x-image")


def invoke_request(config, endpoint_name):
    body = Path(config.image_file).read_bytes() if config.image_file else b""
    return ("sagemaker-runtime", "InvokeEndpoint", {
        "EndpointName": endpoint_name,
        "ContentType": content_type_for(config.image_file or "x.jpg"),
        "Accept": "application/json",
        "Body": body,
    })


def plan(config):
    """Every request, in order, as (service, operation, params). The model URL is where the
    training job will put model.tar.gz."""
    job_name = config.name()
    steps = [("s3", "upload_file", u) for u in upload_requests(config)]
    steps.append(("sagemaker", "CreateTrainingJob", training_job_request(config, job_name)))
    deploy = deploy_requests(config, job_name, model_data_url(config, job_name))
    steps += deploy
    steps.append(invoke_request(config, deploy[-1][2]["EndpointName"]))
    return steps
