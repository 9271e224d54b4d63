"""Live migration between two virtio_pci_dev instances (tb/virtio_cosim/cocotb_migration.py) on the pair top
rtl/virtio_pci_dev_pair_tb_top.sv, Verilator: one pytest item per cocotb test x parameter set.

Smoke (make test): both tests on the default set (mode V14) and on mode_rfc. Slow (make regress): the 128-bit and
the small set (Q=16, FETCH_AHEAD=2, USED_BATCH=4, 3 queues). More seeds come from the testplan's `seeds:`.

The planted faults (migration_tb.FAULTS) corrupt the vq state B is given; the exactly-once check must fire.
"""

import pytest

from virtio_cosim.dev_tb import rtl_parameters
from virtio_cosim.migration_tb import ENV_FAULT
from virtio_cosim.pair_top import PAIR_TOP
from virtio_cosim.paths import rtl_sources
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

MODULE = "virtio_cosim.cocotb_migration"
SMOKE_SETS = ("default", "mode_rfc")
SLOW_SETS = ("wide", "small")


def build_pair(paramset: str) -> None:
    build("verilator", paramset, PAIR_TOP, rtl_sources(), rtl_parameters(paramset))


def _cases() -> list:
    params = []
    for paramset in SMOKE_SETS + SLOW_SETS:
        marks = [pytest.mark.smoke] if paramset in SMOKE_SETS else [pytest.mark.slow]
        params += cocotb_cases(MODULE, [("verilator", paramset, marks)])
    return params


@pytest.mark.parametrize("case", _cases())
def test_migration(case: CocotbCase) -> None:
    build_pair(case.paramset)
    run(case.sim, case.paramset, PAIR_TOP, case.test_module, case.testcase)


PLANTED = [  # fault, paramset, the checker's message
    ("replay_chain", "default", "exactly-once: queue 0"),
    ("skip_used", "mode_rfc", "exactly-once: queue 0"),
]


@pytest.mark.smoke
@pytest.mark.parametrize("fault, paramset, message", PLANTED, ids=[p[0] for p in PLANTED])
def test_migration_checker_fires_on_planted_fault(fault: str, paramset: str, message: str) -> None:
    build_pair(paramset)
    with pytest.raises(AssertionError, match=r"cocotb_migration\.test_migrate") as failure:
        run("verilator", paramset, PAIR_TOP, MODULE, "test_migrate", extra_env={ENV_FAULT: fault},
            label=f"planted-{fault}")
    assert "1 of 1 cocotb test(s) failed" in str(failure.value)
    assert message in str(failure.value), f"another checker fired:\n{failure.value}"
