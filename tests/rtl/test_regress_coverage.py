"""The regression's tool side, in seconds: verilator_coverage merges per-test files and exports lcov, genhtml
renders it, and the regress plugin's shards split a real collection into disjoint, complete parts."""

import json
import subprocess
import sys

import pytest

from virtio_cosim import codecov
from virtio_cosim.paths import REPO_ROOT

pytestmark = pytest.mark.smoke


def _key(kind: str, line: int, column: int, comment: str, file: str = "rtl/virtio_isr.sv") -> str:
    return codecov.make_key({"f": str(REPO_ROOT / file), "l": str(line), "n": str(column), "t": kind,
                             "page": f"v_{kind}/virtio_isr", "o": comment, "h": "virtio_isr"})


def test_per_test_files_merge_into_lcov_and_html(tmp_path) -> None:
    first = {_key("line", 19, 5, "block"): 3, _key("branch", 21, 9, "if"): 1, _key("branch", 21, 10, "else"): 0,
             _key("toggle", 10, 24, "set_config:0->1"): 0}
    second = {_key("line", 19, 5, "block"): 2, _key("line", 25, 5, "block"): 0, _key("branch", 21, 10, "else"): 4,
              _key("toggle", 10, 24, "set_config:0->1"): 1}
    codecov.write_dat(first, tmp_path / "a.dat")
    codecov.write_dat(second, tmp_path / "b.dat")
    codecov.merge([tmp_path / "a.dat", tmp_path / "b.dat"], tmp_path / "merged.dat")
    merged = {(p["l"], p["o"]): count for key, count in codecov.read_dat(tmp_path / "merged.dat").items()
              for p in [codecov.parse_key(key)]}
    assert merged == {("19", "block"): 5, ("21", "if"): 1, ("21", "else"): 4, ("25", "block"): 0,
                      ("10", "set_config:0->1"): 1}
    points = codecov.read_dat(tmp_path / "merged.dat")
    assert all(codecov.parse_key(k)["f"] == "rtl/virtio_isr.sv" for k in points)  # repository-relative

    codecov.write_lcov(points, [], tmp_path / "coverage.info")
    info = (tmp_path / "coverage.info").read_text()
    assert "SF:rtl/virtio_isr.sv" in info and "BRDA:21,0,0,1" in info and "BRDA:21,0,1,4" in info
    hit, found, _files = codecov.read_lcov_lines(tmp_path / "coverage.info")
    assert (hit, found) == (2, 3)  # lines 19 and 21 (a branch arm) hit, 25 not; a toggle makes no line
    assert codecov.genhtml(tmp_path / "coverage.info", tmp_path / "html", "test") is not None
    assert (tmp_path / "html" / "index.html").is_file()

    excluded = codecov.parse_exclusions("line rtl/virtio_isr.sv:25 -- unreachable in this test\n")
    codecov.write_lcov(points, excluded, tmp_path / "excluded.info")
    assert codecov.read_lcov_lines(tmp_path / "excluded.info")[:2] == (2, 2)


def test_shards_of_a_real_collection_are_disjoint_and_complete(tmp_path) -> None:
    selections = []
    for shard in ("1/2", "2/2", None):
        plan = tmp_path / f"plan{len(selections)}.json"
        args = [sys.executable, "-m", "pytest", "-p", "virtio_cosim.regress_plugin", "-p", "no:cacheprovider",
                "--collect-only", "-q", "--regress-plan", str(plan), "tests/model/test_ring.py"]
        subprocess.run(args + (["--regress-shard", shard] if shard else []), cwd=REPO_ROOT, check=True,
                       capture_output=True)
        selections.append([test["nodeid"] for test in json.loads(plan.read_text())["tests"]])
    *shards, everything = selections
    assert sorted(sum(shards, [])) == sorted(everything) and all(shards)
