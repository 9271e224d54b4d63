"""The device testbench's checkers fire on planted faults (DESIGN.md "Verification conventions";
tb/virtio_cosim/dev_tb.py, dev_monitors.py).

Each planted fault (dev_tb.FAULTS, selected by DEV_TB_FAULT) breaks one thing a checker guards against; the test
that normally passes must then fail with that checker's message:
- wrong_data: the backend flips one byte of an answer (the end-of-test comparison; the golden model cannot see it,
  since it judges the scatter against the packet as sent);
- corrupt_used: the len of the first used element is corrupted in memory once published (end-of-test comparison);
- early_quiesce: be_quiesce is reported high while RUNNING (golden model Mismatch);
- forget_chain: the write monitor forgets the first chain in flight, so its scatter is a write outside (write monitor);
- desc_write: a chain's writable buffer lies in its own descriptor table (write monitor, descriptor-table check);
- lost_response: write responses never retire a burst, so used.idx looks issued too early (used.idx monitor);
- dma_state: the DMA monitor also forbids SUSPENDING, so the drain's DMA fires it (DMA monitor);
- irq_state: the SUS-25 monitor counts SUSPENDING as suspended, so a drain's forced notification fires it;
- error_freeze: the DMA monitor takes the first write response for an error, so the next new AR/AW offer fires it.
The last five plant the fault in the checker's own reference, as test_core_checkers.py does, since the RTL cannot
be broken from the testbench. These need a working datapath: they fail (with another message) on an engine stub.
"""

import pytest

from virtio_cosim.dev_tb import ENV_FAULT, TOPLEVEL
from virtio_cosim.runner import run

from test_dev_suite import build_dev

PLANTED = [  # fault, cocotb module and test, the checker's message
    ("wrong_data", "cocotb_dev_traffic", "test_bring_up", "expected len"),
    ("corrupt_used", "cocotb_dev_traffic", "test_bring_up", "expected len"),
    ("early_quiesce", "cocotb_dev_traffic", "test_bring_up", "Quiesce(level=True) is not allowed"),
    ("forget_chain", "cocotb_dev_traffic", "test_bring_up", "write monitor: the engine writes"),
    ("desc_write", "cocotb_dev_traffic", "test_bring_up", "inside the descriptor table of queue 0"),
    ("lost_response", "cocotb_dev_traffic", "test_bring_up", "used.idx monitor"),
    ("dma_state", "cocotb_dev_backend", "test_suspend_drain", "DMA monitor: an m_axi_"),
    ("irq_state", "cocotb_dev_backend", "test_suspend_drain", "SUS-25 monitor"),
    ("error_freeze", "cocotb_dev_traffic", "test_bring_up", "cycles after an error response"),
]


@pytest.mark.smoke
@pytest.mark.parametrize("fault, module, testcase, message", PLANTED, ids=[p[0] for p in PLANTED])
def test_dev_checker_fires_on_planted_fault(fault: str, module: str, testcase: str, message: str) -> None:
    build_dev("verilator", "default")
    with pytest.raises(AssertionError, match=rf"{module}\.{testcase}") as failure:
        run("verilator", "default", TOPLEVEL, f"virtio_cosim.{module}", testcase, extra_env={ENV_FAULT: fault},
            label=f"planted-{fault}")
    assert "1 of 1 cocotb test(s) failed" in str(failure.value)
    assert message in str(failure.value), f"another checker fired:\n{failure.value}"
