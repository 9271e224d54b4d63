"""virtio_pci_dev (rtl/virtio_pci_dev.sv) end to end on Verilator and Icarus: one pytest item per cocotb test x
parameter set x simulator (tb/virtio_cosim/cocotb_dev_*.py, testbench tb/virtio_cosim/dev_tb.py).

The smoke set (make test) is a small subset: the default set and the 128-bit set on Verilator, the default set on
Icarus, each with the `smoke`-listed tests only; everything else is `slow` (make regress).
"""

import pytest

from virtio_cosim.dev_tb import TOPLEVEL, rtl_parameters
from virtio_cosim.paths import rtl_sources
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

MODULES = [
    "virtio_cosim.cocotb_dev_traffic",
    "virtio_cosim.cocotb_dev_buffers",
    "virtio_cosim.cocotb_dev_errors",
    "virtio_cosim.cocotb_dev_queues",
    "virtio_cosim.cocotb_dev_backend",
    "virtio_cosim.cocotb_dev_random",
    "virtio_cosim.cocotb_dev_suspend",
]

# (module, test) pairs of the smoke set: one build per parameter set covers them all.
SMOKE_TESTS = {
    ("virtio_cosim.cocotb_dev_traffic", "test_bring_up"),
    ("virtio_cosim.cocotb_dev_traffic", "test_traffic"),
    ("virtio_cosim.cocotb_dev_errors", "test_malformed"),
    ("virtio_cosim.cocotb_dev_buffers", "test_alignment_and_length"),
    ("virtio_cosim.cocotb_dev_suspend", "test_used_idx_response_at_latch"),
    ("virtio_cosim.cocotb_dev_suspend", "test_rfc_driver_sequences"),
}

SMOKE, SLOW = [pytest.mark.smoke], [pytest.mark.slow]
SMOKE_CONFIGS = [("verilator", "default"), ("verilator", "wide"), ("icarus", "default")]
ALL_CONFIGS = SMOKE_CONFIGS + [("verilator", "mode_rfc"), ("verilator", "small"), ("icarus", "wide")]
MODULE_CONFIGS = {"virtio_cosim.cocotb_dev_suspend": [("verilator", "watchdog")]}  # extra builds for one module


def build_dev(sim: str, paramset: str) -> None:
    build(sim, paramset, TOPLEVEL, rtl_sources(), rtl_parameters(paramset))


def _cases() -> list:
    params = []
    for module in MODULES:
        configs = ALL_CONFIGS + MODULE_CONFIGS.get(module, [])
        for param in cocotb_cases(module, [(sim, paramset, []) for sim, paramset in configs]):
            case = param.values[0]
            smoke = (case.sim, case.paramset) in SMOKE_CONFIGS and (module, case.testcase) in SMOKE_TESTS
            params.append(pytest.param(case, id=param.id, marks=[*param.marks, *(SMOKE if smoke else SLOW)]))
    return params


@pytest.mark.parametrize("case", _cases())
def test_dev(case: CocotbCase) -> None:
    build_dev(case.sim, case.paramset)
    run(case.sim, case.paramset, TOPLEVEL, case.test_module, case.testcase)
