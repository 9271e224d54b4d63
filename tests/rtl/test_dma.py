"""virtio_dma (rtl/virtio_dma.sv) on Verilator and Icarus: one pytest item per cocotb test x parameter set x simulator
(tb/virtio_cosim/cocotb_dma.py, testbench tb/virtio_cosim/dma_tb.py), and each testbench checker shown to fire on a
planted fault (dma_tb.FAULTS, selected by DMA_TB_FAULT).

Smoke (make test): half the tests and the random test on Verilator at each data width, the whole dw64 set on
Icarus, and the planted faults; the rest of the sweep is `slow` (make regress).
"""

import pytest

from virtio_cosim.dma_tb import ENV_FAULT, TOPLEVEL, rtl_parameters
from virtio_cosim.paths import rtl_sources
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

MODULE = "virtio_cosim.cocotb_dma"
SMOKE_TESTS = {
    "dw64": ("test_read_alignments", "test_write_alignments", "test_read_errors", "test_write_errors",
             "test_random", "test_latency", "test_rd0_exact_ranges", "test_freeze_after_write_error",
             "test_freeze_after_read_error", "test_freeze_held"),
    "dw128": ("test_multi_command_packets", "test_4k_crossings", "test_stream_split_across_commands",
              "test_stalled_rd1", "test_random", "test_throughput", "test_rd0_exact_ranges",
              "test_freeze_after_write_error", "test_freeze_after_read_error"),
}

CONFIGS = [
    ("verilator", "dw64", []),
    ("verilator", "dw128", []),
    ("verilator", "dw64_short", []),
    ("verilator", "dw128_long", []),
    ("icarus", "dw64", []),
    ("icarus", "dw128", []),
]


def _marked(case: CocotbCase):
    smoke = case.paramset == "dw64" if case.sim == "icarus" else case.testcase in SMOKE_TESTS.get(case.paramset, ())
    return pytest.mark.smoke if smoke else pytest.mark.slow


def _cases() -> list:
    params = []
    for param in cocotb_cases(MODULE, CONFIGS):
        case = param.values[0]
        params.append(pytest.param(case, id=param.id, marks=[*param.marks, _marked(case)]))
    return params


def dma_sources() -> list:
    """The package and the DMA block's own files: the block builds whatever state the rest of rtl/ is in."""
    return [f for f in rtl_sources() if f.stem.endswith("_pkg") or f.stem.startswith("virtio_dma")]


def build_dma(sim: str, paramset: str) -> None:
    build(sim, paramset, TOPLEVEL, dma_sources(), rtl_parameters(paramset))


@pytest.mark.parametrize("case", _cases())
def test_dma(case: CocotbCase) -> None:
    build_dma(case.sim, case.paramset)
    run(case.sim, case.paramset, TOPLEVEL, case.test_module, case.testcase)


PLANTED = [  # fault, parameter set, cocotb test, the checker's message
    ("corrupt_read", "dw64", "test_read_alignments", "read checker: rd"),
    ("corrupt_write", "dw64", "test_write_alignments", "memory checker:"),
    ("narrow_range", "dw64", "test_write_alignments", "strobe monitor:"),
    ("boundary_2k", "dw64", "test_4k_crossings", "2 KiB monitor:"),
    ("burst_half", "dw64", "test_4k_crossings", "burst length monitor:"),
    ("outstanding_1", "dw64", "test_random", "outstanding monitor:"),
    ("outstanding_floor", "dw64", "test_random", "outstanding floor:"),
    ("stall_rd0", "dw64", "test_stalled_rd1", "rd1 stalled: rd0 still owes"),
    ("flip_done_err", "dw64", "test_write_errors", "wr_done checker:"),
    ("flip_terr", "dw64", "test_read_errors", "terr"),
    ("late_done", "dw64", "test_write_alignments", "idle monitor:"),
    ("keep_full_last", "dw64", "test_read_alignments", "stream monitor:"),
    ("drop_done", "dw64", "test_write_alignments", "wr_done checker: a wr_done pulse with no write command left"),
    ("rd0_short_range", "dw64", "test_rd0_exact_ranges", "rd0 range monitor:"),
    ("rd0_long_range", "dw64", "test_rd0_exact_ranges", "rd0 cover monitor:"),
    ("rd0_full_size", "dw64", "test_rd0_exact_ranges", "rd0 size monitor:"),
    ("freeze_on_okay", "dw64", "test_freeze_after_write_error", "freeze monitor:"),
    ("bus_end_every_burst", "dw64", "test_rd0_exact_ranges", "rd0_bus_end monitor:"),
]


@pytest.mark.smoke
@pytest.mark.parametrize("fault, paramset, testcase, message", PLANTED, ids=[p[0] for p in PLANTED])
def test_dma_checker_fires_on_planted_fault(fault: str, paramset: str, testcase: str, message: str) -> None:
    build_dma("verilator", paramset)
    with pytest.raises(AssertionError, match=rf"cocotb_dma\.{testcase}") as failure:
        run("verilator", paramset, TOPLEVEL, MODULE, testcase, extra_env={ENV_FAULT: fault}, label=f"planted-{fault}")
    assert "1 of 1 cocotb test(s) failed" in str(failure.value)
    assert message in str(failure.value), f"another checker fired:\n{failure.value}"
