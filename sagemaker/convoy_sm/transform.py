"""Batch transform: the requests that `launch.py transform` makes (or writes with --dry-run).

SageMaker reads every object under the input prefix, cuts it into records (SplitType), packs
records into requests of at most MaxPayloadInMB (BatchStrategy) and POSTs them to the
container's /invocations with the job's ContentType and Accept; convoy-serve reads the
payload limit from SAGEMAKER_MAX_PAYLOAD_IN_MB, which SageMaker sets from the job.

  image/jpeg, image/png, application/x-image   one image per object: SplitType None,
                                               SingleRecord
  application/json                             one {"instances": [...]} per object: None,
                                               SingleRecord
  application/octet-stream                     CIFAR-10 records, a whole object per request:
                                               None, SingleRecord
  text/csv, application/jsonlines              one image per line: SplitType Line,
                                               MultiRecord, answered in JSON Lines (one line
                                               per image, so the output lines match the input)

The plan: upload a local --input, create the model unless --model-name names one, create
the transform job.
"""
from dataclasses import dataclass, field
from pathlib import Path

from .requests import NAME_PATTERN, model_data_url, s3_uri, timestamped_name

# content type -> (SplitType, BatchStrategy, Accept, AssembleWith)
CONTENT_TYPES = {
    "image/jpeg": ("None", "SingleRecord", "application/json", "None"),
    "image/png": ("None", "SingleRecord", "application/json", "None"),
    "application/x-image": ("None", "SingleRecord", "application/json", "None"),
    "application/json": ("None", "SingleRecord", "application/json", "None"),
    "application/octet-stream": ("None", "SingleRecord", "application/jsonlines", "None"),
    "text/csv": ("Line", "MultiRecord", "application/jsonlines", "Line"),
    "application/jsonlines": ("Line", "MultiRecord", "application/jsonlines", "Line"),
}
SUFFIX_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".csv": "text/csv",
                ".jsonl": "application/jsonlines", ".json": "application/json", ".bin": "application/octet-stream"}


@dataclass
class TransformConfig:
    bucket: str
    input: str                       # a local file or folder (uploaded), or s3://bucket/prefix/
    prefix: str = "convoy"
    content_type: str = ""           # "" = from the input's file suffixes
    model_name: str = ""             # an existing SageMaker model; else one is created:
    image: str = ""                  #   from this image
    role_arn: str = ""               #   with this execution role
    model_data: str = ""             #   and this model.tar.gz (s3://...)
    training_job: str = ""           #   or the model.tar.gz of this launch.py training job
    output: str = ""                 # s3://...; default s3://BUCKET/PREFIX/transform/JOB/output/
    instance_type: str = "ml.c5.xlarge"
    instance_count: int = 1
    max_payload_mb: int = 6          # 0..100; 0: whole objects, however large (SplitType None only)
    max_concurrent: int = 0          # 0: let SageMaker ask the container (/execution-parameters)
    job_name: str = ""
    tags: dict = field(default_factory=dict)

    def name(self):
        return self.job_name or timestamped_name("convoy-transform")


def local_files(path):
    root = Path(path)
    if root.is_file():
        return [(root, root.name)]
    if root.is_dir():
        files = [(p, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*"))
                 if p.is_file() and not p.name.startswith(".")]
        if files:
            return files
        raise ValueError(f"--input {path}: the folder is empty")
    raise ValueError(f"--input {path}: no such file or folder (or give an s3:// prefix)")


def content_type_of(config, files):
    """--content-type, else the one type the local input's file suffixes give."""
    if config.content_type:
        if config.content_type not in CONTENT_TYPES:
            raise ValueError(f"--content-type {config.content_type}: use one of {', '.join(CONTENT_TYPES)}")
        return config.content_type
    if not files:
        raise ValueError("--content-type is needed with an s3:// input")
    found = {SUFFIX_TYPES.get(p.suffix.lower()) for p, _ in files}
    if len(found) != 1 or None in found:
        names = ", ".join(sorted({p.suffix or p.name for p, _ in files}))
        raise ValueError(f"--content-type: the input's files ({names}) do not name one type; give it")
    return found.pop()


def transform_plan(config):
    """Every request, in order, as (service, operation, params)."""
    name = config.name()
    if not NAME_PATTERN.match(name):
        raise ValueError(f"job name {name!r}: letters, digits and '-', at most 63 characters")
    if not 0 <= config.max_payload_mb <= 100:
        raise ValueError(f"--max-payload-mb {config.max_payload_mb}: SageMaker allows 0 to 100")
    steps = []
    if config.input.startswith("s3://"):
        files, input_uri = [], config.input
    else:
        files = local_files(config.input)
        input_uri = s3_uri(config.bucket, config.prefix, "transform", name, "input") + "/"
        steps += [("s3", "upload_file", {"Filename": str(p), "Bucket": config.bucket,
                                         "Key": f"{config.prefix.strip('/')}/transform/{name}/input/{key}"})
                  for p, key in files]
    content_type = content_type_of(config, files)
    split, strategy, accept, assemble = CONTENT_TYPES[content_type]
    if split == "None" and config.max_payload_mb:
        too_big = [p for p, _ in files if p.stat().st_size > config.max_payload_mb * 2**20]
        if too_big:
            raise ValueError(f"{too_big[0]} is {too_big[0].stat().st_size / 2**20:.1f} MiB, over --max-payload-mb "
                             f"{config.max_payload_mb}: each {content_type} object is sent whole; raise the limit "
                             "(at most 100) or split the file")

    model_name = config.model_name
    if not model_name:
        model_data = config.model_data or (model_data_url(config, config.training_job) if config.training_job else "")
        if not (model_data and config.image and config.role_arn):
            raise ValueError("give --model-name, or --image and --role with --model-data or --training-job")
        model_name = f"{name}-model"[:63]
        steps.append(("sagemaker", "CreateModel", {
            "ModelName": model_name,
            "PrimaryContainer": {"Image": config.image, "ModelDataUrl": model_data},
            "ExecutionRoleArn": config.role_arn,
        }))
    job = {
        "TransformJobName": name,
        "ModelName": model_name,
        "BatchStrategy": strategy,
        "MaxPayloadInMB": config.max_payload_mb,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": content_type,
            "CompressionType": "None",
            "SplitType": split,
        },
        "TransformOutput": {
            "S3OutputPath": config.output or s3_uri(config.bucket, config.prefix, "transform", name, "output") + "/",
            "Accept": accept,
            "AssembleWith": assemble,
        },
        "TransformResources": {"InstanceType": config.instance_type, "InstanceCount": config.instance_count},
    }
    if config.max_concurrent:
        job["MaxConcurrentTransforms"] = config.max_concurrent
    if config.tags:
        job["Tags"] = [{"Key": k, "Value": str(v)} for k, v in sorted(config.tags.items())]
    steps.append(("sagemaker", "CreateTransformJob", job))
    return steps
