"""virtio_core (rtl/virtio_core_tb_top.sv) on Verilator and Icarus: one pytest item per cocotb test x parameter set x
simulator (tb/virtio_cosim/cocotb_core_*.py, testbench tb/virtio_cosim/core_tb.py).

The smoke set (make test) is two parameter sets on Verilator and one on Icarus (DESIGN.md); the other sets run in
make regress.
"""

import pytest

from virtio_cosim.core_tb import TOPLEVEL, rtl_parameters
from virtio_cosim.paths import rtl_sources
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

MODULES = [
    "virtio_cosim.cocotb_core_regs",
    "virtio_cosim.cocotb_core_status",
    "virtio_cosim.cocotb_core_queues",
    "virtio_cosim.cocotb_core_irq",
    "virtio_cosim.cocotb_core_driver",
    "virtio_cosim.cocotb_core_random",
]

SMOKE, SLOW = [pytest.mark.smoke], [pytest.mark.slow]
CONFIGS = [
    ("verilator", "default", SMOKE),
    ("verilator", "mode_rfc", SMOKE),
    ("icarus", "default", SMOKE),
    ("verilator", "slow_resume", SLOW),
    ("verilator", "cfg_lock", SLOW),
    ("verilator", "small", SLOW),
    ("icarus", "mode_rfc", SLOW),
    ("icarus", "small", SLOW),  # DEVICE_FEATURES as a 64-bit literal through Icarus's -P too
]


def build_core(sim: str, paramset: str) -> None:
    build(sim, paramset, TOPLEVEL, rtl_sources(), rtl_parameters(paramset))


@pytest.mark.parametrize("case", [case for module in MODULES for case in cocotb_cases(module, CONFIGS)])
def test_core(case: CocotbCase) -> None:
    build_core(case.sim, case.paramset)
    run(case.sim, case.paramset, TOPLEVEL, case.test_module, case.testcase)
