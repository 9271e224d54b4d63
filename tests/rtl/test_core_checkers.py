"""The virtio_core testbench's checkers fire on planted faults, and its `status` covergroup closes
(DESIGN.md "Verification conventions"; tb/virtio_cosim/core_tb.py).

Each planted fault (core_tb.FAULTS, selected by CORE_TB_FAULT) breaks one thing the named checker guards against;
the test that normally passes must then fail with that checker's message:
- early_stopped: the engine reports `stopped` at once while its chains are still in flight (engine checker);
- corrupt_read: one read value handed to the scoreboard is corrupted (golden-model Mismatch on a RegRead);
- extra_irq: the engine sends a used notification that nothing decided (golden-model Mismatch on an Irq);
- bus_during_reset: `rst` pulses under a pending write of 0 and a read follows (the SUS-13 bus monitor);
- stop_req_window: the stop_req monitor wrongly expects stop_req in HALTED after a FAILED abort (stop_req monitor);
- late_state: the SUS-25 monitor judges with the state one cycle late, so the configuration interrupt of a fault in
  SUSPENDED (mode RFC) looks like one started while SUSPENDED (SUS-25 monitor).
The last two plant the fault in the checker's own reference, as the ISR test does, since the RTL cannot be broken
from the testbench.
"""

import pytest

from virtio_cosim.core_tb import ENV_FAULT, NO_FEATURES_OK_CLASS, TOPLEVEL
from virtio_cosim.coverage import FUNCTIONAL_XML, read_labelled_bins
from virtio_cosim.runner import run

from test_core_suite import build_core

PLANTED = [  # fault, parameter set, cocotb module and test, the checker's message
    ("early_stopped", "default", "cocotb_core_driver", "test_suspend_resume",
     "engine checker: the core shows SUSPENDED while the engine"),
    ("corrupt_read", "default", "cocotb_core_regs", "test_reset_values", "Mismatch: RegRead("),
    ("extra_irq", "default", "cocotb_core_irq", "test_config_change", "Mismatch: Irq("),
    ("bus_during_reset", "default", "cocotb_core_driver", "test_reset_from_every_state",
     "SUS-13 monitor: a bus handshake"),
    ("stop_req_window", "default", "cocotb_core_irq", "test_aborted_drain_notifications", "stop_req is False in HALTED"),
    ("late_state", "mode_rfc", "cocotb_core_status", "test_fault_inj", "SUS-25 monitor"),
]


@pytest.mark.smoke
@pytest.mark.parametrize("fault, paramset, module, testcase, message", PLANTED, ids=[p[0] for p in PLANTED])
def test_core_checker_fires_on_planted_fault(fault: str, paramset: str, module: str, testcase: str,
                                             message: str) -> None:
    build_core("verilator", paramset)
    with pytest.raises(AssertionError, match=rf"{module}\.{testcase}") as failure:
        run("verilator", paramset, TOPLEVEL, f"virtio_cosim.{module}", testcase, extra_env={ENV_FAULT: fault},
            label=f"planted-{fault}")
    assert "1 of 1 cocotb test(s) failed" in str(failure.value)
    assert message in str(failure.value), f"another checker fired:\n{failure.value}"


STATUS_TESTS = ["test_table", "test_fault_inj", "test_reset_pending_fault", "test_resume_latency"]


@pytest.mark.smoke
@pytest.mark.parametrize("paramset, mode", [("default", "V14"), ("mode_rfc", "RFC")])
def test_core_status_coverage_closed(paramset: str, mode: str) -> None:
    """The status tests of one mode hit every bin of the `status` covergroup for that mode: each reachable engine
    state x rule 8.4 write class, and each transition not caused by a write (rule 8.4, B16, B23)."""
    build_core("verilator", paramset)
    bins: dict = {}
    for testcase in STATUS_TESTS:
        result = run("verilator", paramset, TOPLEVEL, "virtio_cosim.cocotb_core_status", testcase, label="coverage")
        for key, hits in read_labelled_bins(result.test_dir / FUNCTIONAL_XML).items():
            bins[key] = bins.get(key, 0) + hits
    crosses = ("status.state_x_class_x_mode", "status.transition_x_mode")
    mine = {key: hits for key, hits in bins.items() if key[0] in crosses and f"'{mode}'" in key[1]}
    assert len([key for key in mine if key[0] == crosses[0]]) == 6 * 6 - len(NO_FEATURES_OK_CLASS)
    missed = sorted(label for (point, label), hits in mine.items() if not hits)
    assert not missed, f"bins never hit in mode {mode}: {missed}"
