"""launch.py's requests and every instance type convoy names, against a current botocore
(pinned in requirements-current-botocore.txt): enum values included, which botocore's own
validation does not check and which only a recent service model lists in full (ml.g6, ml.p5).

scripts/sagemaker-test.sh installs the pinned botocore into a venv and runs this suite with
CONVOY_SM_REQUIRE_CURRENT_BOTOCORE=1 (fail, not skip, without it); ctest runs it with that
venv's python when it exists.
"""
import json
import os
import re
import unittest
from pathlib import Path

import request_checks
import sm_support

REQUIREMENTS = Path(__file__).resolve().parent / "requirements-current-botocore.txt"
PINNED = re.search(r"^botocore==(\S+)", REQUIREMENTS.read_text(), re.M).group(1)

try:
    import botocore
    import botocore.session
    CURRENT = botocore.__version__ == PINNED
except ImportError:
    botocore, CURRENT = None, False

WHY_NOT = (f"needs botocore {PINNED} (requirements-current-botocore.txt; scripts/sagemaker-test.sh makes the "
           f"venv), this python has {botocore.__version__ if botocore else 'none'}")
if not CURRENT and os.environ.get("CONVOY_SM_REQUIRE_CURRENT_BOTOCORE") == "1":
    raise SystemExit("test_launch_current_model: " + WHY_NOT)


def named_instance_types():
    """Every ml.* instance type that convoy's docs, launcher defaults and price table name."""
    import launch
    text = (sm_support.SOURCE_DIR / "docs" / "sagemaker.md").read_text()
    named = set(re.findall(r"\bml\.[a-z0-9]+\.[0-9]*x?large\b", text))
    prices = json.loads((sm_support.SAGEMAKER_DIR / "prices.json").read_text())["usd_per_hour"]
    training = {t for t in prices if t != "local"} | {launch.train_parser().get_default("instance_type")}
    return named, training, launch.train_parser().get_default("endpoint_instance_type"), \
        launch.transform_parser().get_default("instance_type")


@unittest.skipUnless(CURRENT, WHY_NOT)
class CurrentModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = botocore.session.get_session()
        model = cls.session.get_service_model("sagemaker")
        cls.enums = {role: set(model.shape_for(shape).enum) for role, shape in (
            ("training", "TrainingInstanceType"), ("endpoint", "ProductionVariantInstanceType"),
            ("transform", "TransformInstanceType"))}

    def test_every_named_instance_type_exists(self):
        named, training, endpoint, transform = named_instance_types()
        self.assertGreater(len(named), 3)
        known = set().union(*self.enums.values())
        self.assertEqual(sorted(named - known), [], "docs/sagemaker.md names instance types SageMaker does not have")
        self.assertEqual(sorted(training - self.enums["training"]), [], "not training instance types")
        self.assertIn(endpoint, self.enums["endpoint"])
        self.assertIn(transform, self.enums["transform"])

    def test_training_deploy_requests_with_current_instance_types(self):
        for training, endpoint in (("ml.g6.xlarge", "ml.g5.xlarge"), ("ml.p5.48xlarge", "ml.c5.xlarge"),
                                   ("ml.p4d.24xlarge", "ml.g6.xlarge")):
            result, reqs = request_checks.dry_run(request_checks.train_argv(training, endpoint),
                                                  sm_support.new_dir("dry"))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(len(reqs), 6)
            for r in reqs:
                self.assertEqual(request_checks.problems(self.session, r, enums=True), [], (training, endpoint))

    def test_transform_requests(self):
        for content_type, folder in request_checks.transform_inputs().items():
            for instance_type in ("ml.c5.xlarge", "ml.g5.xlarge", "ml.g6.xlarge"):
                name = "t-" + content_type.split("/")[1] + "-" + instance_type.replace(".", "-")
                result, reqs = request_checks.dry_run(request_checks.transform_argv(folder, name, instance_type),
                                                      sm_support.new_dir("dry"))
                self.assertEqual(result.returncode, 0, result.stderr)
                for r in reqs:
                    self.assertEqual(request_checks.problems(self.session, r, enums=True), [])

    def test_the_enum_check_catches_a_wrong_value(self):
        _, reqs = request_checks.dry_run(request_checks.train_argv(), sm_support.new_dir("dry"))
        job = next(r for r in reqs if r["operation"] == "CreateTrainingJob")
        job["params"]["ResourceConfig"]["InstanceType"] = "ml.g6.xxlarge"
        job["params"]["AlgorithmSpecification"]["TrainingInputMode"] = "Files"
        found = request_checks.problems(self.session, job, enums=True)
        self.assertEqual(len(found), 2, found)
        self.assertIn("'ml.g6.xxlarge' is not one of the", found[0] + found[1])


if __name__ == "__main__":
    unittest.main()
