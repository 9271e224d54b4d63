"""docs/testplan.yaml is consistent: every requirement ID exists, every SUS-xx, every section of chapters 2 to 5
and every rule 8.x is in the plan, every test it names exists; docs/spec-ids.txt matches SPEC.md when present."""

from pathlib import Path

import pytest

from virtio_cosim.paths import REPO_ROOT
from virtio_cosim.testplan import PlanEntry, check_plan, collect_test_ids, load_plan, read_spec_ids

pytestmark = pytest.mark.model

SPEC = REPO_ROOT.parent / "shared" / "spec" / "SPEC.md"


@pytest.fixture(scope="module")
def test_ids():
    return collect_test_ids()


def test_plan_is_consistent(test_ids):
    problems = check_plan(load_plan(), read_spec_ids(), test_ids)
    assert not problems, "docs/testplan.yaml:\n" + "\n".join(problems)


def test_plan_checker_reports_each_kind_of_problem(test_ids):
    spec_ids = {"SUS-01": "Status bit", "R8.4": "Status writes", "B1": "Init"}
    plan = [PlanEntry("a", "x", ["SUS-01", "SUS-99"], tests=["no_such_test_anywhere"]),
            PlanEntry("a", "y", ["B1"])]
    problems = "\n".join(check_plan(plan, spec_ids, test_ids))
    assert "SUS-99 is not in docs/spec-ids.txt" in problems
    assert "no test matches 'no_such_test_anywhere'" in problems
    assert "names no test and is not marked deferred" in problems
    assert "entry id a is used twice" in problems
    assert "requirement R8.4 (Status writes) is in no plan entry" in problems


def test_spec_ids_match_spec_when_present():
    """The project keeps its own copy of the IDs; when the shared SPEC.md is beside the checkout, they must agree."""
    import importlib.util
    script = REPO_ROOT / "scripts" / "spec_ids.py"
    spec = importlib.util.spec_from_file_location("spec_ids", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not SPEC.is_file():
        assert read_spec_ids(), "docs/spec-ids.txt is empty"
        return
    expected = module.render(module.extract(SPEC.read_text()))
    assert Path(module.IDS_FILE).read_text() == expected, "docs/spec-ids.txt is stale: run scripts/spec_ids.py"
