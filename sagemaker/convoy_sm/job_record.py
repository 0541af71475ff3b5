"""What a finished SageMaker training job says about itself, kept beside the run's report.

launch.py writes RUNS/JOB/sagemaker-job.json from DescribeTrainingJob once the job has ended
(and puts its model.tar.gz in RUNS/JOB/output/), so `convoy-report RUNS/JOB` can price the
run as AWS bills it. DescribeTrainingJob's BillableTimeInSeconds is the wall-clock time
charged per instance; AWS gives the total as BillableTimeInSeconds x InstanceCount, priced at
the instance type's hourly rate. Under managed spot training the savings show as billable
time below TrainingTimeInSeconds (AWS: savings = 1 - billable / training time).
"""
import json
import re
from pathlib import Path

RECORD_NAME = "sagemaker-job.json"
KEPT = ("TrainingJobName", "TrainingJobArn", "TrainingJobStatus", "SecondaryStatus", "FailureReason",
        "BillableTimeInSeconds", "TrainingTimeInSeconds", "EnableManagedSpotTraining",
        "CreationTime", "TrainingStartTime", "TrainingEndTime")


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def job_record(described):
    """The parts of a DescribeTrainingJob answer that convoy-report reads, as plain JSON."""
    record = {k: _plain(described[k]) for k in KEPT if k in described}
    resources = described.get("ResourceConfig", {})
    record["InstanceType"] = resources.get("InstanceType", "")
    record["InstanceCount"] = resources.get("InstanceCount", 1)
    arn = re.match(r"arn:[^:]+:sagemaker:([^:]+):", described.get("TrainingJobArn", ""))
    if arn:
        record["Region"] = arn.group(1)
    artifacts = described.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    if artifacts:
        record["S3ModelArtifacts"] = artifacts
    return record


def write_job_record(runs_dir, described):
    """RUNS/JOB/sagemaker-job.json; returns the run folder."""
    folder = Path(runs_dir) / described["TrainingJobName"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD_NAME).write_text(json.dumps(job_record(described), indent=2) + "\n")
    return folder
