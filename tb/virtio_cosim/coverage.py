"""Functional coverage conventions (DESIGN.md "Shared conventions").

Covergroups are cocotb-coverage CoverPoints and CoverCrosses, named `<group>.<point>` so the testplan can name the
group. Every cocotb test runs in a simulator process of its own, so the coverage database holds exactly that
test's samples; `seeded_test` exports it, pass or fail, to `functional_coverage.xml` in the test's folder, where
`make regress` merges it.
"""

import os
from pathlib import Path
from xml.etree import ElementTree

ENV_TEST_DIR = "VIRTIO_TEST_DIR"  # set by the runner for every test run
FUNCTIONAL_XML = "functional_coverage.xml"


def export_functional() -> Path | None:
    """Write this test's functional coverage into its folder; None when not run by the project's runner."""
    from cocotb_coverage.coverage import coverage_db  # imported here: the pure-Python tools need no cocotb

    test_dir = os.environ.get(ENV_TEST_DIR)
    if not test_dir:
        return None
    path = Path(test_dir) / FUNCTIONAL_XML
    if not coverage_db:  # no covergroup in this simulation: cocotb-coverage 2.0 cannot export an empty database
        path.write_text('<top abs_name="top" size="0" coverage="0" cover_percentage="100.0" />\n')
        return path
    coverage_db.export_to_xml(filename=str(path))
    return path


def read_bins(path: Path) -> dict:
    """{`group.point.binN` (abs_name without `top.`): hits} from an exported file."""
    bins = {}
    for element in ElementTree.parse(path).getroot().iter():
        if "hits" in element.attrib:
            bins[element.get("abs_name").removeprefix("top.")] = int(element.get("hits"))
    return bins


def read_labelled_bins(path: Path) -> dict:
    """{(`group.point`, bin value as exported, e.g. "('INIT', 'ZERO', 'V14')"): hits} from an exported file."""
    bins = {}
    for element in ElementTree.parse(path).getroot().iter():
        if "hits" in element.attrib and "bin" in element.attrib:
            point = element.get("abs_name").removeprefix("top.").rsplit(".", 1)[0]
            bins[point, element.get("bin")] = int(element.get("hits"))
    return bins
