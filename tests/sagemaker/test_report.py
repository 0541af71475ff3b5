"""convoy-report on reports from real short runs: a run folder, the same run packed as a
SageMaker model.tar.gz, and a second run with other settings; the Markdown table and the
SVG plot."""
import json
import shutil
import subprocess
import tarfile
import unittest
import xml.etree.ElementTree as ET

import sm_support
from convoy_sm.job_record import write_job_record


@unittest.skipUnless(sm_support.executable(sm_support.CONVOY_REPORT) and sm_support.executable(sm_support.CONVOY_TRAIN),
                     "CONVOY_REPORT / CONVOY_TRAIN not built")
class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.runs = sm_support.new_dir("report-runs")
        for name, threads, epochs in (("local-1thread", "1", "2"), ("local-2threads", "2", "3")):
            subprocess.run([sm_support.CONVOY_TRAIN, "--data", str(sm_support.small_tree()), "--epochs", epochs,
                            "--batch-size", "32", "--threads", threads, "--out", str(cls.runs / name),
                            "--no-progress"], check=True, capture_output=True, timeout=sm_support.limit(300))
        # The second run as SageMaker hands it back: JOB/output/model.tar.gz with report.json inside.
        job = cls.runs / "convoy-job-1" / "output"
        job.mkdir(parents=True)
        with tarfile.open(job / "model.tar.gz", "w:gz") as tar:
            tar.add(cls.runs / "local-2threads" / "model.convoy", arcname="model.convoy")
            tar.add(cls.runs / "local-2threads" / "report.json", arcname="report.json")
        cls.reports = {n: json.loads((cls.runs / n / "report.json").read_text())
                       for n in ("local-1thread", "local-2threads")}

    def report(self, *args):
        return subprocess.run([sm_support.CONVOY_REPORT, *args], capture_output=True, text=True, timeout=sm_support.limit(60))

    def test_table_and_plot(self):
        svg = self.runs / "compare.svg"
        result = self.report(str(self.runs / "local-1thread"), str(self.runs / "local-2threads"),
                             str(self.runs / "convoy-job-1" / "output" / "model.tar.gz"),
                             "--target", "0.15", "--price", "local=0.5", "--svg", str(svg))
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = [l for l in result.stdout.splitlines() if l.startswith("| ")]
        self.assertIn("time to 15%", lines[0])
        rows = {l.split("|")[1].strip(): [c.strip() for c in l.split("|")[1:-1]] for l in lines[1:]}
        self.assertEqual(set(rows), {"local-1thread", "local-2threads", "convoy-job-1"})
        header = [c.strip() for c in lines[0].split("|")[1:-1]]
        col = {name: header.index(name) for name in header}
        for name, report in self.reports.items():
            row = rows[name]
            mean_ips = sum(e["images_per_sec"] for e in report["epochs"]) / len(report["epochs"])
            self.assertEqual(row[col["images/s"]], f"{mean_ips:.0f}")
            self.assertEqual(row[col["final test acc"]], f"{report['final']['test_acc'] * 100:.2f}%")
            self.assertEqual(row[col["epochs"]], str(len(report["epochs"])))
            self.assertEqual(row[col["world size"]], "1")
            self.assertEqual(row[col["$/hour"]], "0.500 (own)")  # a local run: the user's own price
            self.assertEqual(row[col["cost"]], f"${report['final']['total_s'] / 3600 * 0.5:.4f} (own)")
            self.assertEqual(row[col["billed time"]], "-")
            reached = [e["elapsed_s"] for e in report["epochs"] if e["test_acc"] >= 0.15]
            self.assertEqual(row[col["time to 15%"]] == "not reached", not reached)
        self.assertEqual(rows["convoy-job-1"][col["final test acc"]], rows["local-2threads"][col["final test acc"]])

        root = ET.parse(svg).getroot()  # well-formed XML
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual(len(root.findall(f"{ns}polyline")), 3)  # one accuracy curve per run
        points = root.findall(f"{ns}polyline")[1].get("points").split()
        self.assertEqual(len(points), 1 + len(self.reports["local-2threads"]["epochs"]))
        texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
        for label in ("local-1thread", "local-2threads", "convoy-job-1", "target 15.0%"):
            self.assertIn(label, texts)

    def test_unknown_price_and_bad_inputs(self):
        result = self.report(str(self.runs / "local-1thread"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("| unknown | unknown |", result.stdout)
        bad = self.report(str(self.runs / "nothing-here"))
        self.assertEqual(bad.returncode, 1)
        self.assertIn("convoy-report: error:", bad.stderr)
        self.assertIn("nothing-here", bad.stderr)
        bad = self.report(str(self.runs / "local-1thread"), "--price", "local=cheap")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("--price 'local=cheap'", bad.stderr)

    def sagemaker_job(self, name, record=None, instance_type="ml.c5.xlarge", count=2):
        """JOB/output/model.tar.gz as SageMaker leaves it, from the 2-thread run's files with the
        report saying SageMaker ran it; with `record`, the sagemaker-job.json launch.py writes."""
        report = dict(self.reports["local-2threads"])
        report["machine"] = dict(report["machine"], platform="sagemaker", instance_type=instance_type,
                                 host_count=count, training_job_name=name)
        out = self.runs / name / "output"
        out.mkdir(parents=True)
        (self.runs / name / "report.json.tmp").write_text(json.dumps(report))
        with tarfile.open(out / "model.tar.gz", "w:gz") as tar:
            tar.add(self.runs / "local-2threads" / "model.convoy", arcname="model.convoy")
            tar.add(self.runs / name / "report.json.tmp", arcname="report.json")
        (self.runs / name / "report.json.tmp").unlink()
        if record:
            described = {"TrainingJobName": name, "TrainingJobStatus": "Completed",
                         "TrainingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name}",
                         "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": count}, **record}
            write_job_record(self.runs, described)
        return out / "model.tar.gz"

    def test_cost_from_billable_time(self):
        billed = self.sagemaker_job("job-billed", {"BillableTimeInSeconds": 250, "TrainingTimeInSeconds": 900})
        unbilled = self.sagemaker_job("job-unbilled")
        for path in (billed, billed.parent.parent):  # the archive, or the job's folder
            result = self.report(str(path), str(unbilled), "--price", "ml.c5.xlarge=0.5")
            self.assertEqual(result.returncode, 0, result.stderr)
            lines = [l for l in result.stdout.splitlines() if l.startswith("| ")]
            header = [c.strip() for c in lines[0].split("|")[1:-1]]
            rows = {l.split("|")[1].strip(): dict(zip(header, (c.strip() for c in l.split("|")[1:-1])))
                    for l in lines[1:]}
            row = rows["job-billed"]
            self.assertEqual(row["where"], "sagemaker x2")
            self.assertEqual(row["billed time"], "4.2 min x2")
            self.assertEqual(row["$/hour"], "0.500")
            self.assertEqual(row["cost"], f"${250 / 3600 * 0.5 * 2:.4f}")  # billable s x instances x price
            # Without the record: the run's own time, marked as leaving out what SageMaker bills besides.
            total_s = self.reports["local-2threads"]["final"]["total_s"]
            self.assertEqual(rows["job-unbilled"]["billed time"], "unknown")
            self.assertEqual(rows["job-unbilled"]["cost"], f"~${total_s / 3600 * 0.5 * 2:.4f}")
        broken = self.runs / "job-broken"
        shutil.copytree(billed.parent.parent, broken)
        (broken / "sagemaker-job.json").write_text('{"BillableTimeInSeconds": -3}')
        result = self.report(str(broken))
        self.assertEqual(result.returncode, 1)
        self.assertIn("sagemaker-job.json: not a SageMaker job record", result.stderr)

    def test_prices_from_an_aws_offer_file(self):
        job = self.sagemaker_job("job-offer", {"BillableTimeInSeconds": 3600}, instance_type="ml.c5.xlarge", count=1)
        offer = sm_support.SOURCE_DIR / "tests" / "sagemaker" / "data" / "sagemaker-offer-sample.json"
        for region, usd in (("us-east-1", "0.250"), ("eu-west-1", "0.270")):  # Training, not Hosting (0.300)
            result = self.report(str(job), "--prices-from", str(offer), "--region", region)
            self.assertEqual(result.returncode, 0, result.stderr)
            row = next(l for l in result.stdout.splitlines() if l.startswith("| job-offer"))
            self.assertEqual([c.strip() for c in row.split("|")[-3:-1]], [usd, "$" + usd + "0"])
            self.assertIn("AWS Price List AmazonSageMaker 20240501000000", result.stdout)
        result = self.report(str(job), "--prices-from", str(offer), "--region", "ap-south-1")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no Training instance prices for region ap-south-1", result.stderr)
        result = self.report(str(job), "--prices-from", str(sm_support.SAGEMAKER_DIR / "prices.json"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("not an AWS Price List offer file", result.stderr)

    def table_rows(self, stdout):
        lines = [l for l in stdout.splitlines() if l.startswith("| ")]
        header = [c.strip() for c in lines[0].split("|")[1:-1]]
        rows = {l.split("|")[1].strip(): [c.strip() for c in l.split("|")[1:-1]] for l in lines[1:]}
        return {name: dict(zip(header, row)) for name, row in rows.items()}

    def test_price_table_file(self):
        prices = sm_support.SOURCE_DIR / "sagemaker" / "prices.json"
        table = json.loads(prices.read_text())
        self.assertIn("read_on", table)
        for t in ("ml.c5.xlarge", "ml.m5.xlarge", "ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3.2xlarge",
                  "ml.p4d.24xlarge", "ml.p5.48xlarge"):
            self.assertIn(t, table["usd_per_hour"])
        # The shipped table knows no price yet (null): the cost stays unknown, not zero.
        result = self.report(str(self.runs / "local-1thread"), "--prices", str(prices))
        self.assertEqual(result.returncode, 0, result.stderr)
        row = self.table_rows(result.stdout)["local-1thread"]
        expected = "unknown" if table["usd_per_hour"]["local"] is None else f"{table['usd_per_hour']['local']:.3f}"
        self.assertEqual(row["$/hour"], expected)

    def test_prices_from_a_table_priced_per_instance(self):
        # A SageMaker-like run on two ml.c5.xlarge hosts: the price of its instance type, times two.
        sm_run = self.runs / "sm-c5x2"
        sm_run.mkdir(exist_ok=True)
        report = dict(self.reports["local-2threads"])
        report["machine"] = dict(report["machine"], platform="sagemaker", instance_type="ml.c5.xlarge", host_count=2)
        (sm_run / "report.json").write_text(json.dumps(report))
        table = self.runs / "prices-test.json"
        table.write_text(json.dumps({"read_on": "2026-01-02", "source": "test",
                                     "usd_per_hour": {"local": 0.25, "ml.c5.xlarge": 1.5, "ml.m5.xlarge": None}}))
        result = self.report(str(self.runs / "local-1thread"), str(sm_run), "--prices", str(table))
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = self.table_rows(result.stdout)
        local, sm = rows["local-1thread"], rows["sm-c5x2"]
        self.assertEqual(local["$/hour"], "0.250 (own)")  # a local run is priced at the user's own rate
        self.assertEqual(local["cost"], f"${self.reports['local-1thread']['final']['total_s'] / 3600 * 0.25:.4f} (own)")
        self.assertEqual(sm["where"], "sagemaker x2")
        self.assertEqual(sm["$/hour"], "1.500")
        # No billing record beside it: priced on its own run time, marked ~.
        self.assertEqual(sm["cost"], f"~${report['final']['total_s'] / 3600 * 1.5 * 2:.4f}")
        self.assertIn("read on 2026-01-02", result.stdout)
        # --price overrides the table's entry.
        result = self.report(str(self.runs / "local-1thread"), "--prices", str(table), "--price", "local=1")
        self.assertEqual(self.table_rows(result.stdout)["local-1thread"]["$/hour"], "1.000 (own)")
        # A negative price is an error that names the file and the entry.
        bad = self.runs / "prices-bad.json"
        bad.write_text(json.dumps({"usd_per_hour": {"local": -1}}))
        result = self.report(str(self.runs / "local-1thread"), "--prices", str(bad))
        self.assertEqual(result.returncode, 1)
        self.assertIn(str(bad), result.stderr)
        self.assertIn('usd_per_hour["local"]', result.stderr)

    def test_markdown_file(self):
        # --markdown writes exactly the table convoy-report prints without it, and prints none.
        out = self.runs / "compare.md"
        args = [str(self.runs / "local-1thread"), str(self.runs / "local-2threads"), "--target", "0.15"]
        shown = self.report(*args)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        written = self.report(*args, "--markdown", str(out))
        self.assertEqual(written.returncode, 0, written.stderr)
        self.assertEqual(written.stdout, "")
        self.assertIn(f"wrote {out}", written.stderr)
        self.assertEqual(out.read_text(), shown.stdout)
        self.assertEqual(set(self.table_rows(out.read_text())), {"local-1thread", "local-2threads"})

if __name__ == "__main__":
    unittest.main()
