#!/usr/bin/env python3
"""Train convoy on SageMaker, deploy it, or run a batch transform, without the console (boto3).

  launch.py [train] --image URI --role ARN --bucket B --data ./cifar-10-batches-bin \\
            --instance-type ml.g5.xlarge --hp epochs=10 --hp batch_size=256 [--spot] \\
            [--deploy --invoke-image cat.jpg] [--runs DIR] [--dry-run DIR]
  launch.py transform --bucket B --input ./images-or-records (or s3://...) \\
            (--model-name M | --image URI --role ARN (--training-job JOB | --model-data s3://...)) \\
            [--content-type T] [--max-payload-mb N] [--dry-run DIR]

train uploads the CIFAR-10 files to s3://B/PREFIX/data/training/, creates the training job
(metric regexes for convoy's epoch line, checkpoints to S3, optional spot), waits for it,
writes RUNS/JOB/sagemaker-job.json (status, billable seconds) and downloads the model.tar.gz
to RUNS/JOB/output/ for convoy-report; with --deploy it then creates the model, endpoint
config and endpoint, waits, and invokes it with one image. transform uploads a local input,
creates the model unless --model-name names one, and runs a batch transform job over the
input (SplitType and BatchStrategy from the content type: convoy_sm/transform.py).
A failed job, model, endpoint or transform prints SageMaker's reason and exits 1. --dry-run
DIR writes each request as DIR/NN_<operation>.json instead of calling AWS (no credentials
needed). Run it with /usr/bin/python3 (or any python3 with boto3).
"""
import argparse
import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convoy_sm import requests, transform  # noqa: E402
from convoy_sm.aws_run import Clients, LaunchError, run_training, run_transform  # noqa: E402


def common_args(p):
    p.add_argument("--bucket", required=True, help="S3 bucket for data, checkpoints and output")
    p.add_argument("--prefix", default="convoy", help="key prefix in the bucket (default: convoy)")
    p.add_argument("--region", default=None)
    p.add_argument("--poll", type=int, default=60, metavar="SECONDS", help="seconds between status checks")
    p.add_argument("--dry-run", metavar="DIR", help="write the requests as JSON into DIR instead of calling AWS")


def train_parser():
    p = argparse.ArgumentParser(prog="launch.py [train]", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", required=True, help="ECR image URI (docker/Dockerfile.cuda or .cpu, pushed)")
    p.add_argument("--role", required=True, help="SageMaker execution role ARN")
    common_args(p)
    p.add_argument("--data", default="", help="local CIFAR-10 folder or archive to upload (omit if already in S3)")
    p.add_argument("--instance-type", default="ml.g4dn.xlarge")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--volume-gb", type=int, default=30)
    p.add_argument("--max-run", type=int, default=3 * 3600, help="seconds of training at most")
    p.add_argument("--spot", action="store_true", help="managed spot training (resumes from the checkpoints)")
    p.add_argument("--max-wait", type=int, default=0, help="spot: seconds including waiting (default 2x --max-run)")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE", help="a convoy-train hyperparameter")
    p.add_argument("--job-name", default="", help="default: convoy-YYYYmmdd-HHMMSS")
    p.add_argument("--runs", default="runs", metavar="DIR",
                   help="where RUNS/JOB/sagemaker-job.json and RUNS/JOB/output/model.tar.gz go (default: runs)")
    p.add_argument("--deploy", action="store_true", help="after training, create model, endpoint config, endpoint")
    p.add_argument("--endpoint-instance-type", default="ml.c5.xlarge")
    p.add_argument("--invoke-image", default="", help="JPEG/PNG to send to the endpoint once it is in service")
    return p


def transform_parser():
    p = argparse.ArgumentParser(prog="launch.py transform", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p)
    p.add_argument("--input", required=True, help="local file or folder to upload, or an s3:// prefix")
    p.add_argument("--content-type", default="", choices=[""] + list(transform.CONTENT_TYPES),
                   help="default: from the input's file suffixes")
    p.add_argument("--model-name", default="", help="an existing SageMaker model (else one is created)")
    p.add_argument("--image", default="", help="ECR image URI, to create the model")
    p.add_argument("--role", default="", help="SageMaker execution role ARN, to create the model")
    p.add_argument("--model-data", default="", help="s3:// URI of a model.tar.gz, to create the model")
    p.add_argument("--training-job", default="", help="the launch.py training job whose model.tar.gz to use")
    p.add_argument("--output", default="", help="s3:// output prefix (default s3://B/PREFIX/transform/JOB/output/)")
    p.add_argument("--instance-type", default="ml.c5.xlarge")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--max-payload-mb", type=int, default=6, help="MaxPayloadInMB, 0..100 (default 6)")
    p.add_argument("--max-concurrent", type=int, default=0, help="MaxConcurrentTransforms (0: ask the container)")
    p.add_argument("--job-name", default="", help="default: convoy-transform-YYYYmmdd-HHMMSS")
    return p


def train_config(args):
    hp = {}
    for item in args.hp:
        if "=" not in item:
            raise ValueError(f"--hp {item!r}: use KEY=VALUE")
        key, value = item.split("=", 1)
        hp[key] = value
    return requests.LaunchConfig(
        image=args.image, role_arn=args.role, bucket=args.bucket, prefix=args.prefix, data=args.data,
        instance_type=args.instance_type, instance_count=args.instance_count, volume_gb=args.volume_gb,
        max_run_s=args.max_run, spot=args.spot, max_wait_s=args.max_wait, hyperparameters=hp,
        endpoint_instance_type=args.endpoint_instance_type, job_name=args.job_name,
        image_file=args.invoke_image)


def transform_config(args):
    return transform.TransformConfig(
        bucket=args.bucket, prefix=args.prefix, input=args.input, content_type=args.content_type,
        model_name=args.model_name, image=args.image, role_arn=args.role, model_data=args.model_data,
        training_job=args.training_job, output=args.output, instance_type=args.instance_type,
        instance_count=args.instance_count, max_payload_mb=args.max_payload_mb,
        max_concurrent=args.max_concurrent, job_name=args.job_name)


def jsonable(params):
    out = dict(params)
    if isinstance(out.get("Body"), bytes):
        out["Body"] = {"base64": base64.b64encode(out["Body"]).decode()}
    return out


def write_dry_run(steps, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, (service, operation, params) in enumerate(steps, 1):
        record = {"service": service, "operation": operation, "params": jsonable(params)}
        (folder / f"{i:02d}_{operation}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"launch.py: wrote {len(steps)} requests to {folder}", file=sys.stderr)


def main(argv=None, clients=None):
    """clients: the AWS clients to use (tests pass stubbed ones); default boto3's."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in ("train", "transform") else "train"
    args = (transform_parser() if command == "transform" else train_parser()).parse_args(argv)
    try:
        if command == "transform":
            config = transform_config(args)
            if args.dry_run:
                write_dry_run(transform.transform_plan(config), args.dry_run)
                return 0
            return run_transform(config, clients or Clients(args.region), poll_s=args.poll)
        config = train_config(args)
        if args.dry_run:
            write_dry_run(requests.plan(config), args.dry_run)
            return 0
        return run_training(config, clients or Clients(args.region), args.deploy, args.runs, poll_s=args.poll)
    except (LaunchError, ValueError, OSError) as e:
        print(f"launch.py: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
