"""rtl/virtio_core.sv through its test top on Verilator and Icarus (tb/virtio_cosim/cocotb_core_smoke.py)."""

import pytest

from virtio_cosim.paths import RTL_DIR
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

TOPLEVEL = "virtio_core_tb_top"
TEST_MODULE = "virtio_cosim.cocotb_core_smoke"
SOURCES = [RTL_DIR / name for name in (
    "virtio_pkg.sv", "virtio_isr.sv", "virtio_axil_slave.sv", "virtio_status_fsm.sv", "virtio_queue_regs.sv",
    "virtio_devcfg.sv", "virtio_irq.sv", "virtio_core.sv", "virtio_core_tb_top.sv")]
PARAMSETS = {
    "default": {},
    "rfc": {"SUSPEND_MODE": 1, "RESUME_LATENCY": 3, "NUM_QUEUES": 3, "SUSPEND_DRAIN_TIMEOUT": 40},
}

CONFIGS = [
    ("verilator", "default", [pytest.mark.smoke]),
    ("icarus", "default", [pytest.mark.smoke]),
    ("verilator", "rfc", [pytest.mark.slow]),
    ("icarus", "rfc", [pytest.mark.slow]),
]


@pytest.mark.parametrize("case", cocotb_cases(TEST_MODULE, CONFIGS))
def test_core_smoke(case: CocotbCase) -> None:
    build(case.sim, case.paramset, TOPLEVEL, SOURCES, PARAMSETS[case.paramset])
    run(case.sim, case.paramset, TOPLEVEL, TEST_MODULE, case.testcase)
