"""rtl/virtio_isr.sv on Verilator and Icarus, one pytest item per cocotb test (tb/virtio_cosim/cocotb_isr.py)."""

import pytest

from virtio_cosim.coverage import FUNCTIONAL_XML, read_bins
from virtio_cosim.paths import RTL_DIR
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

TOPLEVEL = "virtio_isr"
TEST_MODULE = "virtio_cosim.cocotb_isr"
SOURCES = [RTL_DIR / "virtio_pkg.sv", RTL_DIR / "virtio_isr.sv"]
PARAMSETS = {"default": {}}  # the ISR byte has no parameters

CONFIGS = [
    ("verilator", "default", [pytest.mark.smoke]),
    ("icarus", "default", [pytest.mark.smoke]),
]


@pytest.mark.parametrize("case", cocotb_cases(TEST_MODULE, CONFIGS))
def test_isr(case: CocotbCase) -> None:
    build(case.sim, case.paramset, TOPLEVEL, SOURCES, PARAMSETS[case.paramset])
    run(case.sim, case.paramset, TOPLEVEL, TEST_MODULE, case.testcase)


@pytest.mark.smoke
@pytest.mark.parametrize("sim", ["verilator", pytest.param("icarus", marks=pytest.mark.icarus)])
def test_isr_checker_fires_on_planted_fault(sim: str) -> None:
    """With a deliberately wrong reference model (ISR_TB_FAULT=1) the random test must fail, naming itself."""
    build(sim, "default", TOPLEVEL, SOURCES, PARAMSETS["default"])
    with pytest.raises(AssertionError, match=r"cocotb_isr\.test_random_stimulus") as failure:
        run(sim, "default", TOPLEVEL, TEST_MODULE, "test_random_stimulus",
            extra_env={"ISR_TB_FAULT": "1"}, label="planted-fault")
    assert "1 of 1 cocotb test(s) failed" in str(failure.value)
    assert "make waves TEST=" in str(failure.value)


@pytest.mark.smoke
def test_isr_functional_coverage_exported_and_closed() -> None:
    """Each test writes its functional coverage into its folder (DESIGN "Shared conventions"); the random test
    hits every bin of the ISR covergroup, the cross of ISR value x operation x msix_enable included."""
    build("verilator", "default", TOPLEVEL, SOURCES, PARAMSETS["default"])
    result = run("verilator", "default", TOPLEVEL, TEST_MODULE, "test_random_stimulus", label="coverage")
    bins = read_bins(result.test_dir / FUNCTIONAL_XML)
    cross = {name: hits for name, hits in bins.items() if name.startswith("isr.value_x_operation_x_msix.")}
    assert len(cross) == 4 * 6 * 2
    missed = [name for name, hits in bins.items() if hits == 0]
    assert not missed, f"bins never hit: {missed}"
