"""Checking launch.py's requests against a botocore service model: types, required members
and lengths (botocore's ParamValidator), the regex patterns of names, and optionally the enums
(instance types and the like), which only a current model knows in full."""
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import sm_support


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/convoy:cuda"
ROLE = "arn:aws:iam::123456789012:role/convoy-sagemaker"
BUCKET = "convoy-test-bucket"


def train_argv(instance_type="ml.g5.xlarge", endpoint_instance_type="ml.c5.xlarge"):
    """A spot, two-instance training run with deployment and an invocation."""
    return ["--image", IMAGE, "--role", ROLE, "--bucket", BUCKET, "--data", str(sm_support.small_archive()),
            "--instance-type", instance_type, "--instance-count", "2", "--spot", "--max-run", "7200",
            "--hp", "epochs=10", "--hp", "batch_size=256", "--hp", "model=quick", "--job-name", "convoy-test-1",
            "--endpoint-instance-type", endpoint_instance_type, "--invoke-image", str(sm_support.some_test_jpeg())]


def transform_inputs():
    """{content type: a local input folder} for launch.py transform: a few real JPEGs, a
    JSON Lines file, a CSV file (one image per line each)."""
    tree = sm_support.small_tree()
    jpegs = sorted((tree / "test" / "cat").iterdir())[:3]
    folders = {}
    for content_type in ("image/jpeg", "application/jsonlines", "text/csv"):
        folders[content_type] = folder = sm_support.new_dir("transform-" + content_type.replace("/", "-"))
        if content_type == "image/jpeg":
            for j in jpegs:
                (folder / j.name).write_bytes(j.read_bytes())
        elif content_type == "application/jsonlines":
            (folder / "part-1.jsonl").write_text("".join(json.dumps([k % 256] * 3072) + "\n" for k in range(3)))
        else:
            (folder / "part-1.csv").write_text("".join(",".join([str(k)] * 3072) + "\n" for k in range(3)))
    return folders


def transform_argv(input_path, name, instance_type="ml.c5.xlarge", *extra):
    return ["transform", "--bucket", BUCKET, "--input", str(input_path), "--image", IMAGE, "--role", ROLE,
            "--training-job", "convoy-test-1", "--instance-type", instance_type, "--max-payload-mb", "20",
            "--job-name", name, *extra]


def dry_run(argv, folder):
    """Runs launch.py --dry-run with argv; returns (CompletedProcess, [request records])."""
    result = subprocess.run([sys.executable, str(sm_support.SAGEMAKER_DIR / "launch.py"), *argv,
                             "--dry-run", str(folder)], capture_output=True, text=True, timeout=sm_support.limit(60))
    return result, [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]


def walk(value, shape, where, visit):
    """Calls visit(value, shape, where) on every scalar of `value` below `shape`."""
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                walk(value[name], member, f"{where}.{name}", visit)
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            walk(item, shape.member, f"{where}[{i}]", visit)
    elif shape.type_name == "map":
        for k, v in value.items():
            walk(k, shape.key, f"{where} key", visit)
            walk(v, shape.value, f"{where}[{k}]", visit)
    else:
        visit(value, shape, where)


def problems(session, record, enums=False):
    """What is wrong with one dry-run request record under this botocore session's models."""
    from botocore.validate import ParamValidator
    params = dict(record["params"])
    service, operation = record["service"], record["operation"]
    found = []
    if operation == "upload_file":  # boto3's upload_file becomes PutObject(s)
        if Path(params.pop("Filename")).stat().st_size == 0:
            found.append("upload of an empty file")
        service, operation = "s3", "PutObject"
    if isinstance(params.get("Body"), dict):
        params["Body"] = base64.b64decode(params["Body"]["base64"])
    shape = session.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        found.append(f"{operation}: {report.generate_report()}")

    def visit(value, shape, where):
        if shape.type_name != "string" or not isinstance(value, str):
            return
        pattern = shape.metadata.get("pattern")
        if pattern:
            try:
                if not re.fullmatch(pattern, value):
                    found.append(f"{operation} {where}={value!r} does not match {pattern}")
            except re.error:
                pass  # a few service patterns use Java-only syntax
        if enums and shape.enum and value not in shape.enum:
            found.append(f"{operation} {where}={value!r} is not one of the {len(shape.enum)} values of "
                         f"{shape.name} in botocore {session.user_agent_version}")

    walk(params, shape, operation, visit)
    return found
