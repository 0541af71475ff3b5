#!/usr/bin/env python3
"""Train convoy on SageMaker and deploy it, without the console (boto3 only).

  launch.py --image URI --role ARN --bucket B --data ./cifar-10-batches-bin \
            --instance-type ml.g4dn.xlarge --hp epochs=10 --hp batch_size=256 [--spot] \
            [--deploy --invoke-image cat.jpg] [--dry-run DIR]

Uploads the CIFAR-10 files to s3://B/PREFIX/data/training/, creates the training job
(metric regexes for convoy's epoch line, checkpoints to S3, optional spot), waits for it,
then (with --deploy) creates the model, endpoint config and endpoint, waits, and invokes
it with one image. --dry-run DIR writes each request as DIR/NN_<operation>.json instead of
calling AWS (no credentials needed). Run it with /usr/bin/python3 (or any python3 with boto3).
"""
import argparse
import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convoy_sm import requests  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", required=True, help="ECR image URI (docker/Dockerfile.cuda or .cpu, pushed)")
    p.add_argument("--role", required=True, help="SageMaker execution role ARN")
    p.add_argument("--bucket", required=True, help="S3 bucket for data, checkpoints and output")
    p.add_argument("--prefix", default="convoy", help="key prefix in the bucket (default: convoy)")
    p.add_argument("--data", default="", help="local CIFAR-10 folder or archive to upload (omit if already in S3)")
    p.add_argument("--instance-type", default="ml.g4dn.xlarge")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--volume-gb", type=int, default=30)
    p.add_argument("--max-run", type=int, default=3 * 3600, help="seconds of training at most")
    p.add_argument("--spot", action="store_true", help="managed spot training (resumes from the checkpoints)")
    p.add_argument("--max-wait", type=int, default=0, help="spot: seconds including waiting (default 2x --max-run)")
    p.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE", help="a convoy-train hyperparameter")
    p.add_argument("--job-name", default="", help="default: convoy-YYYYmmdd-HHMMSS")
    p.add_argument("--deploy", action="store_true", help="after training, create model, endpoint config, endpoint")
    p.add_argument("--endpoint-instance-type", default="ml.c5.xlarge")
    p.add_argument("--invoke-image", default="", help="JPEG/PNG to send to the endpoint once it is in service")
    p.add_argument("--region", default=None)
    p.add_argument("--dry-run", metavar="DIR", help="write the requests as JSON into DIR instead of calling AWS")
    return p.parse_args(argv)


def config_from(args):
    hp = {}
    for item in args.hp:
        if "=" not in item:
            raise SystemExit(f"launch.py: error: --hp {item!r}: use KEY=VALUE")
        key, value = item.split("=", 1)
        hp[key] = value
    return requests.LaunchConfig(
        image=args.image, role_arn=args.role, bucket=args.bucket, prefix=args.prefix, data=args.data,
        instance_type=args.instance_type, instance_count=args.instance_count, volume_gb=args.volume_gb,
        max_run_s=args.max_run, spot=args.spot, max_wait_s=args.max_wait, hyperparameters=hp,
        endpoint_instance_type=args.endpoint_instance_type, job_name=args.job_name,
        image_file=args.invoke_image)


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


def run(config, deploy, region):
    import boto3  # only for real runs: --dry-run works without it

    session = boto3.session.Session(region_name=region)
    s3, sm = session.client("s3"), session.client("sagemaker")
    steps = requests.plan(config)
    for service, operation, params in steps:
        if operation == "upload_file":
            s3.upload_file(params["Filename"], params["Bucket"], params["Key"])
            print(f"uploaded s3://{params['Bucket']}/{params['Key']}", file=sys.stderr)
    job = next(p for s, o, p in steps if o == "CreateTrainingJob")
    sm.create_training_job(**job)
    name = job["TrainingJobName"]
    print(f"training job {name} started; waiting (CloudWatch: /aws/sagemaker/TrainingJobs)", file=sys.stderr)
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 60, "MaxAttempts": 24 * 60})
    described = sm.describe_training_job(TrainingJobName=name)
    print(f"training job {name}: {described['TrainingJobStatus']}", file=sys.stderr)
    if described["TrainingJobStatus"] != "Completed":
        print(f"launch.py: error: {described.get('FailureReason', 'stopped')}", file=sys.stderr)
        return 1
    model_url = described["ModelArtifacts"]["S3ModelArtifacts"]
    print(model_url)
    if not deploy:
        return 0
    for service, operation, params in requests.deploy_requests(config, name, model_url):
        getattr(sm, {"CreateModel": "create_model", "CreateEndpointConfig": "create_endpoint_config",
                     "CreateEndpoint": "create_endpoint"}[operation])(**params)
        print(f"{operation}: done", file=sys.stderr)
    endpoint = requests.deploy_requests(config, name, model_url)[-1][2]["EndpointName"]
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint)
    print(f"endpoint {endpoint} in service", file=sys.stderr)
    if config.image_file:
        _, _, params = requests.invoke_request(config, endpoint)
        answer = session.client("sagemaker-runtime").invoke_endpoint(**params)
        print(answer["Body"].read().decode())
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = config_from(args)
    try:
        if args.dry_run:
            write_dry_run(requests.plan(config), args.dry_run)
            return 0
        return run(config, args.deploy, args.region)
    except (ValueError, OSError) as e:
        print(f"launch.py: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
