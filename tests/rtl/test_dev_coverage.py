"""The device covergroups of tb/virtio_cosim/dev_coverage.py close: the tests named for each group, run on Verilator
with the parameter sets of both SUSPEND_MODEs, hit every bin of the group in their merged functional coverage
(the files `seeded_test` exports, as `make regress` merges them).

The smoke variant closes `malformed` and `dma_error` with two tests on the default set; the full closure of every
group is `slow`.
"""

import pytest

from virtio_cosim.coverage import FUNCTIONAL_XML, read_labelled_bins
from virtio_cosim.dev_tb import TOPLEVEL
from virtio_cosim.pair_top import PAIR_TOP
from virtio_cosim.runner import run

from test_dev_suite import build_dev
from test_migration import build_pair

DEV, PAIR = "dev", "pair"
MODE_SETS = ("default", "mode_rfc")  # SUSPEND_MODE V14 and RFC
ERRORS = [(DEV, "cocotb_dev_errors", "test_malformed"), (DEV, "cocotb_dev_errors", "test_dma_errors")]
CLOSING = {  # group -> (top, cocotb module, test) whose runs on both mode sets close it
    "suspend": [(DEV, "cocotb_dev_backend", "test_suspend_matrix")],
    "resume": [(DEV, "cocotb_dev_backend", "test_resume_paths")],
    "migration": [(PAIR, "cocotb_migration", "test_migrate"), (PAIR, "cocotb_migration", "test_rollback")],
    "malformed": ERRORS,
    "dma_error": ERRORS,
    "ring": [(DEV, "cocotb_dev_queues", "test_index_wrap"), (DEV, "cocotb_dev_queues", "test_rings_across_4k")],
    "notify": [(DEV, "cocotb_dev_queues", "test_event_idx_edges"), (DEV, "cocotb_dev_traffic", "test_no_event_idx"),
               (DEV, "cocotb_dev_backend", "test_suspend_matrix")],
}


def merged_bins(runs: set, paramsets: tuple) -> dict:
    """{(`group.point`, bin): hits} summed over every run of `runs` on each parameter set."""
    bins: dict = {}
    for paramset in paramsets:
        for top, module, testcase in sorted(runs):
            if top == DEV:
                build_dev("verilator", paramset)
            else:
                build_pair(paramset)
            result = run("verilator", paramset, TOPLEVEL if top == DEV else PAIR_TOP, f"virtio_cosim.{module}",
                         testcase, label="coverage")
            for key, hits in read_labelled_bins(result.test_dir / FUNCTIONAL_XML).items():
                bins[key] = bins.get(key, 0) + hits
    return bins


def empty_bins(bins: dict, groups) -> list:
    mine = {key: hits for key, hits in bins.items() if key[0].split(".")[0] in groups}
    assert {key[0].split(".")[0] for key in mine} == set(groups), f"groups missing from the export: {groups}"
    return sorted(f"{point} {label}" for (point, label), hits in mine.items() if not hits)


@pytest.mark.smoke
def test_error_coverage_closed() -> None:
    """test_malformed and test_dma_errors see every SPEC 4.7 class end in NEEDS_RESET and each access answered by
    SLVERR and by DECERR."""
    missed = empty_bins(merged_bins(set(ERRORS), ("default",)), ("malformed", "dma_error"))
    assert not missed, f"bins never hit: {missed}"


@pytest.mark.slow
def test_device_coverage_closed() -> None:
    bins = merged_bins({run for runs in CLOSING.values() for run in runs}, MODE_SETS)
    missed = empty_bins(bins, CLOSING)
    assert not missed, f"bins never hit: {missed}"
