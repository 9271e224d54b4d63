"""The regression flow without a simulator: seeds of repeats, shards, error signatures, rerun commands, functional
and code coverage arithmetic, exclusions, thresholds and the report's text and HTML (docs/regression.md)."""

import json
import re
import xml.etree.ElementTree as ElementTree

import pytest
import yaml

from virtio_cosim import codecov, regress, regress_seeds, report
from virtio_cosim.paths import REPO_ROOT
from virtio_cosim.regress_shard import Durations, base_nodeid, durations_from, parse_shard, split
from virtio_cosim.report_html import render_html

pytestmark = pytest.mark.model

RTL_NODE = "tests/rtl/test_isr.py::test_isr[verilator/default/cocotb_isr.test_random_stimulus{}]"


# -- seeds -----------------------------------------------------------------------------------------------------


def test_repeat_seeds_derive_from_the_session_seed_and_differ() -> None:
    seeds = [regress_seeds.derive_seed(1234, k) for k in range(50)]
    assert seeds[0] == 1234
    assert len(set(seeds)) == 50
    assert seeds == [regress_seeds.derive_seed(1234, k) for k in range(50)]
    assert regress_seeds.derive_seed(1235, 1) != seeds[1]
    assert all(0 <= s < 2**31 for s in seeds)


def test_seed_count_follows_seeds_and_the_plan_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regress_seeds, "plan_overrides", lambda: ((("cocotb_isr.test_random",), 7),))
    monkeypatch.setattr(regress_seeds, "_collecting", True)
    monkeypatch.delenv("SEEDS", raising=False)
    assert regress_seeds.seed_count(["verilator/default/cocotb_isr.test_random_stimulus"], random=True) == 1
    monkeypatch.setenv("SEEDS", "50")
    assert regress_seeds.seed_count(["verilator/default/cocotb_isr.test_random_stimulus"], random=True) == 7
    assert regress_seeds.seed_count(["verilator/default/cocotb_core.test_x"], random=True) == 50
    assert regress_seeds.seed_count(["verilator/default/cocotb_core.test_x"], random=False) == 1
    monkeypatch.setattr(regress_seeds, "_collecting", False)  # a test calling cocotb_cases itself: no repeats
    assert regress_seeds.seed_count(["verilator/default/cocotb_core.test_x"], random=True) == 1
    monkeypatch.setenv("SEEDS", "0")
    with pytest.raises(ValueError, match="SEEDS must be a positive integer"):
        regress_seeds.requested_seeds()


def test_random_cocotb_tests_are_those_that_use_their_generator() -> None:
    assert regress_seeds.is_random_cocotb_test("virtio_cosim.cocotb_isr", "test_random_stimulus")
    assert not regress_seeds.is_random_cocotb_test("virtio_cosim.cocotb_isr", "test_directed")


def test_seed_suffixes_come_off_for_reruns_and_durations() -> None:
    assert regress_seeds.without_model_seed_id("tests/model/t.py::test_x[V14-0-s3]") == "tests/model/t.py::test_x[V14-0]"
    assert regress_seeds.without_model_seed_id("tests/model/t.py::test_x[s12]") == "tests/model/t.py::test_x"
    assert base_nodeid(RTL_NODE.format("+s3")) == RTL_NODE.format("")


# -- shards and durations --------------------------------------------------------------------------------------


def test_shards_are_disjoint_complete_balanced_and_deterministic() -> None:
    durations = Durations({"tests": {f"t.py::test_{i}": float(i) for i in range(1, 41)}})
    nodeids = [f"t.py::test_{i}" for i in range(1, 41)]
    shards = split(nodeids, 4, durations)
    assert sorted(n for s in shards for n in s) == sorted(nodeids)
    loads = [sum(durations.estimate(n) for n in s) for s in shards]
    assert max(loads) - min(loads) <= 40  # 820 s over 4 shards, within one test's time
    assert [set(s) for s in shards] == [set(s) for s in split(list(reversed(nodeids)), 4, durations)]


def test_tests_estimated_at_zero_seconds_spread_over_every_shard() -> None:
    """A file whose tests all round to 0 s in the durations file (fast model tests under one profile) still
    spreads over the shards instead of piling onto the first."""
    durations = Durations({"files": {"t.py": 0.0}})
    shards = split([f"t.py::test_{i}" for i in range(9)], 3, durations)
    assert [len(s) for s in shards] == [3, 3, 3]


def test_shard_syntax() -> None:
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/4", "5/4", "2", "a/b"):
        with pytest.raises(ValueError, match="SHARD must be i/N"):
            parse_shard(bad)


def test_durations_file_from_records_and_estimates() -> None:
    records = [{"nodeid": RTL_NODE.format(""), "time": 2.0, "outcome": "passed"},
               {"nodeid": RTL_NODE.format("+s1"), "time": 4.0, "outcome": "passed"},
               {"nodeid": "tests/model/test_ring.py::test_a", "time": 0.01, "outcome": "passed"},
               {"nodeid": "tests/model/test_ring.py::test_b", "time": 0.03, "outcome": "passed"}]
    data = durations_from(records)
    durations = Durations(data)
    assert durations.estimate(RTL_NODE.format("+s7")) == 3.0  # the mean of the repeats
    assert durations.estimate("tests/model/test_ring.py::test_new") == pytest.approx(0.02)
    assert durations.estimate("tests/rtl/test_new.py::test_new[icarus/default/cocotb_new.test_x]") == 3.0


@pytest.mark.parametrize("shard", [None, "1/2"])
def test_durations_from_a_shard_keep_the_other_tests_figures(tmp_path, shard) -> None:
    """`make durations` after one nightly shard updates the tests it ran and keeps the rest of the profile; after a
    whole run it replaces the profile."""
    out = tmp_path / "durations.json"
    out.write_text(json.dumps({"profiles": {"nightly": {"tests": {"a.py::test_old": 9.0}, "files": {"a.py": 9.0}}}}))
    report = tmp_path / "report"
    report.mkdir()
    (report / "tests.json").write_text(json.dumps([{"nodeid": "b.py::test_new", "time": 7.0, "outcome": "passed"}]))
    (report / "meta.json").write_text(json.dumps({"hypothesis_profile": "nightly", "shard": shard}))
    assert regress.durations(report, out) == 0
    tests = json.loads(out.read_text())["profiles"]["nightly"]["tests"]
    assert tests == ({"b.py::test_new": 7.0} if shard is None else {"a.py::test_old": 9.0, "b.py::test_new": 7.0})


def test_the_committed_durations_file_loads() -> None:
    data = json.loads((REPO_ROOT / "docs" / "test-durations.json").read_text())
    assert "ci" in data["profiles"]
    assert Durations.load(profile="ci").tests


# -- signatures and rerun commands -----------------------------------------------------------------------------


def _failure(seed: int, address: int, index: int = 0) -> dict:
    return {"nodeid": RTL_NODE.format(f"+s{index}" if index else ""), "outcome": "failed", "seed": seed,
            "seed_index": index, "kind": "verilator", "test_id": "verilator/default/cocotb_isr.test_random_stimulus",
            "sim": "verilator", "message": "", "text": "", "timeout_s": None,
            "runs": [{"dir": "/x/build/verilator/default/cocotb_isr.test_random_stimulus", "passed": False,
                      "failure": {"type": "AssertionError", "where": "cocotb_core.py:check_used",
                                  "message": f"used.idx {address} written at 0x{address:08x} before its element "
                                             f"(seed {seed}, /work/main/build/x/sim.log)\nassert 3 == 4"}}]}


def test_one_bug_hit_by_thirty_seeds_is_one_signature() -> None:
    records = [_failure(1000 + k, 0x1000 + 64 * k, k) for k in range(30)]
    for record in records:
        record["signature"] = report.signature(record)
    groups = report.group_failures(records)
    assert len(groups) == 1 and groups[0]["count"] == 30
    assert groups[0]["signature"] == ("AssertionError: used.idx # written at 0x# before its element (seed #, <path>) "
                                      "[cocotb_core.py:check_used]")


def test_rerun_commands_name_one_test_and_its_own_seed() -> None:
    record = _failure(77, 0x10, 3)
    assert report.rerun_command(record, {}) == (
        "make waves TEST='verilator/default/cocotb_isr.test_random_stimulus' SEED=77 SIM=verilator")
    assert report.rerun_command(record, {"rerun_make_vars": "PLANT_FAILURE=1"}).endswith(" PLANT_FAILURE=1")
    wrapper = _failure(5, 0) | {"test_id": None, "nodeid": "tests/rtl/test_isr.py::test_isr_closed"}
    wrapper["runs"][0]["dir"] = "/x/build/verilator/default/cocotb_isr.test_random_stimulus+coverage"
    assert "TEST='verilator/default/cocotb_isr.test_random_stimulus'" in report.rerun_command(wrapper, {})
    model = {"nodeid": "tests/model/test_migration_model.py::test_m[V14-0-s4]", "seed": 99, "seed_index": 4,
             "kind": "model", "runs": [], "test_id": None}
    assert report.rerun_command(model, {"rerun_env": "HYPOTHESIS_PROFILE=nightly"}) == (
        "HYPOTHESIS_PROFILE=nightly SEED=99 .venv/bin/python -m pytest -p no:xdist "
        "'tests/model/test_migration_model.py::test_m[V14-0]'")


def test_a_timeout_has_its_own_signature() -> None:
    record = _failure(1, 1) | {"timeout_s": 900.0}
    assert report.signature(record) == "Timeout: the test ran longer than 900 s"


def test_junit_records_carry_the_properties_of_the_plugin(tmp_path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.rtl.test_isr" name="test_isr[verilator/default/cocotb_isr.test_directed+s2]" '
        'file="tests/rtl/test_isr.py" time="1.5"><properties><property name="seed" value="123"/>'
        '<property name="seed_index" value="2"/></properties>'
        '<failure message="AssertionError: boom">trace</failure></testcase>'
        '<testcase classname="tests.model.test_ring" name="test_a" file="tests/model/test_ring.py" time="0.1">'
        '<skipped type="pytest.xfail" message="x"/></testcase></testsuite></testsuites>')
    failed, xfailed = report.read_junit(junit)
    assert failed["nodeid"] == "tests/rtl/test_isr.py::test_isr[verilator/default/cocotb_isr.test_directed+s2]"
    assert (failed["outcome"], failed["seed"], failed["seed_index"]) == ("failed", 123, 2)
    assert failed["test_id"] == "verilator/default/cocotb_isr.test_directed" and failed["kind"] == "verilator"
    assert (xfailed["outcome"], xfailed["kind"]) == ("xfailed", "model")


# -- coverage arithmetic ---------------------------------------------------------------------------------------


def _functional_xml(path, hits: list) -> None:
    bins = "".join(f'<bin{i} bin="{i}" hits="{h}" abs_name="top.g.p.bin{i}"/>' for i, h in enumerate(hits))
    path.write_text(f'<top abs_name="top"><g abs_name="top.g"><p abs_name="top.g.p" at_least="2">{bins}</p></g></top>')


def test_functional_bins_are_summed_over_tests_with_their_at_least(tmp_path) -> None:
    _functional_xml(tmp_path / "a.xml", [1, 0, 3])
    _functional_xml(tmp_path / "b.xml", [1, 1, 0])
    total: dict = {}
    for name in ("a.xml", "b.xml"):
        report.add_functional(total, report.read_functional(tmp_path / name))
    assert {n: b["hits"] for n, b in total.items()} == {"g.p.bin0": 2, "g.p.bin1": 1, "g.p.bin2": 3}
    assert [report.is_hit(total[f"g.p.bin{i}"]) for i in range(3)] == [True, False, True]
    assert set(report.bins_of(total, "g")) == set(total) and not report.bins_of(total, "gx")


def _key(kind: str, file: str, line: int, comment: str, hier: str = "top") -> str:
    return codecov.make_key({"f": file, "l": str(line), "n": "1", "t": kind, "page": f"v_{kind}/m", "o": comment,
                             "h": hier})


def test_code_figures_unite_instances_and_apply_exclusions() -> None:
    points = {
        _key("toggle", "rtl/a.sv", 3, "x:0->1", "top.u0"): 0,
        _key("toggle", "rtl/a.sv", 3, "x:0->1", "top.u1"): 2,  # the same point in another instance: hit
        _key("toggle", "rtl/a.sv", 3, "x:1->0", "top.u0"): 0,
        _key("branch", "rtl/a.sv", 9, "if"): 4,
        _key("branch", "rtl/a.sv", 9, "else"): 0,
        _key("toggle", "rtl/harness.sv", 1, "y:0->1"): 0,
        _key("toggle", "tests/tb.sv", 1, "z:0->1"): 0,  # outside rtl/
    }
    exclusions = codecov.parse_exclusions("* rtl/harness.sv -- test harness\nbranch rtl/a.sv:9 else -- tied off\n")
    figures = codecov.figures(points, exclusions)
    assert figures.kinds == {"toggle": [1, 2], "branch": [1, 1]}
    assert [(h.file, h.comment) for h in figures.holes] == [("rtl/a.sv", "x:1->0")]
    assert sum(figures.excluded.values()) == 2


def test_an_exclusion_without_a_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        codecov.parse_exclusions("toggle rtl/a.sv:3\n")
    with pytest.raises(ValueError, match="line range"):
        codecov.parse_exclusions("toggle rtl/a.sv:x -- why\n")


def test_the_committed_exclusions_and_thresholds_are_well_formed() -> None:
    for exclusion in codecov.read_exclusions():
        assert exclusion.reason and (REPO_ROOT / exclusion.file).exists() or "*" in exclusion.file
    thresholds = yaml.safe_load((REPO_ROOT / "docs" / "coverage-thresholds.yaml").read_text())
    assert thresholds["goals"] == {"functional": 100, "line": 95, "toggle": 90}
    assert set(thresholds["floors"]) >= {"functional", "line", "toggle"}


def test_dat_files_round_trip_with_repository_relative_paths(tmp_path) -> None:
    absolute = {_key("line", str(REPO_ROOT / "rtl" / "a.sv"), 5, "block"): 3}
    codecov.write_dat(absolute, tmp_path / "a.dat")
    relative = codecov.relative_to_repo(codecov.read_dat(tmp_path / "a.dat"))
    assert [codecov.parse_key(k)["f"] for k in relative] == ["rtl/a.sv"] and list(relative.values()) == [3]


def test_coverage_check_names_each_figure_below_its_floor() -> None:
    summary = {"coverage": {"functional": {"hit": 9, "total": 10, "percent": 90.0},
                            "line": {"hit": 95, "total": 100, "percent": 95.0},
                            "toggle": {"hit": 0, "total": 0, "percent": None}}}
    problems = report.check(summary, {"floors": {"functional": 100, "line": 95, "toggle": 10}})
    assert problems == ["functional coverage 90.00% (9/10) is below its floor 100.00%",
                        "toggle coverage: no data in the report, floor 10%"]


# -- the report ------------------------------------------------------------------------------------------------


def _summary(records: list) -> dict:
    for record in records:
        if record["outcome"] == "failed":
            record["signature"] = report.signature(record)
            record["rerun"] = report.rerun_command(record, {})
            record["waves"] = report.waves_path(record)
    entries, requirements = report.annotate_plan(records, {"isr.operation.bin0": {"hits": 0, "at_least": 1,
                                                                                    "label": "idle"}})
    groups = report.group_failures(records)
    return {
        "generated": "now", "bundles": ["b"], "meta": [{"seed": 1, "switches": ["SIM=verilator"]}], "seeds": [1],
        "wall_s": 12.0, "counts": {"tests": len(records), "failed": 2, "passed": 1},
        "kinds": {"verilator": {"tests": 3, "passed": 1, "failed": 2, "time": 9.0, "seeds": 2}},
        "coverage": {"functional": {"hit": 0, "total": 1, "percent": 0.0},
                     "line": {"hit": 9, "total": 10, "percent": 90.0}},
        "thresholds": {"floors": {"line": 80}, "goals": {"line": 95}},
        "code_files": {"rtl/a.sv": {"toggle": {"hit": 1, "total": 2, "percent": 50.0},
                                    "lcov_line": {"hit": 9, "total": 10, "percent": 90.0}}},
        "code_holes": [{"kind": "toggle", "file": "rtl/a.sv", "line": 3, "comment": "x:1->0"}],
        "code_excluded": {}, "functional_groups": {"isr.operation": {"hit": 0, "total": 1, "hits": 0}},
        "functional_holes": ["isr.operation.bin0"], "plan": entries, "requirements": requirements,
        "failures": [{"signature": g["signature"], "count": g["count"], "tests": g["tests"]} for g in groups],
        "slowest": [{"nodeid": r["nodeid"], "time": 3.0, "outcome": r["outcome"], "seed": r["seed"]} for r in records],
        "genhtml": None, "html_coverage": None,
    }


def test_the_text_groups_failures_lists_holes_first_and_prints_reruns() -> None:
    records = [_failure(11, 1), _failure(12, 2, 1)]
    records.append(dict(_failure(13, 3), nodeid="tests/rtl/test_isr.py::test_isr[verilator/default/cocotb_isr.x]",
                        outcome="passed"))
    for record in records:
        record["time"] = 3.0
    summary = _summary(records)
    text = report.render_text(summary, failures_per_signature=1)
    assert "failures: 2 in 1 signature(s)" in text
    assert "[1] 2 x AssertionError: used.idx # written at 0x#" in text
    assert "rerun: make waves TEST='verilator/default/cocotb_isr.test_random_stimulus' SEED=11 SIM=verilator" in text
    assert "... 1 more with this signature" in text
    statuses = [match.group(1) for line in text.splitlines()
                for match in [re.match(r"^     (failing|not run|coverage hole) ", line)] if match]
    assert statuses and statuses[0] == "failing"  # the entry naming the ISR tests, failing, comes first
    failing = [entry for entry in summary["plan"] if entry["status"] == "failing"]
    assert failing and summary["plan"][:len(failing)] == failing
    assert any("test_isr" in name for entry in failing for name in entry["failed_tests"])
    assert "   functional holes: 1 bins in 1 coverpoints" in text


def test_the_html_is_one_page_with_well_formed_inline_svg() -> None:
    records = [_failure(11, 1), _failure(12, 2, 1)]
    for record in records:
        record["time"] = 3.0
    page = render_html(_summary(records), records, {})
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 4
    for svg in page.split("<svg")[1:]:
        ElementTree.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")
