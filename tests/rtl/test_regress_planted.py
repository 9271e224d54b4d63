"""The regression's promise, end to end on the ISR design: a failure planted on purpose (PLANT_FAILURE=1) appears
in the summary under its error signature with one rerun command, and that command, run as printed, reproduces
the failure alone, with the same seed, and writes FST waves to the folder the summary names.

The proof runs a small regression (virtio_cosim.regress) on `test_planted_failure_target`, the ISR random test in
a parameter set of its own, `regress-demo`, so its folders never collide with the ISR tests a surrounding
`make regress` runs in parallel. Without a planted fault that target has nothing to show and skips.
"""

import os
import re
import subprocess
import sys
import time

import pytest

from virtio_cosim.paths import BUILD_DIR, REPO_ROOT, RTL_DIR
from virtio_cosim.runner import CocotbCase, build, cocotb_cases, run

TOPLEVEL = "virtio_isr"
TEST_MODULE = "virtio_cosim.cocotb_isr"
SOURCES = [RTL_DIR / "virtio_pkg.sv", RTL_DIR / "virtio_isr.sv"]
PARAMSET = "regress-demo"
TARGET = f"verilator/{PARAMSET}/cocotb_isr.test_random_stimulus"
SEED = 4242
PLANTED = os.environ.get("ISR_TB_FAULT") == "1"

CASES = [param for param in cocotb_cases(TEST_MODULE, [("verilator", PARAMSET, [pytest.mark.slow])])
         if param.id == TARGET]


@pytest.mark.parametrize("case", CASES)
def test_planted_failure_target(case: CocotbCase) -> None:
    """The ISR random test, in its own parameter set: fails only with the planted fault (ISR_TB_FAULT=1)."""
    if not PLANTED:
        pytest.skip("runs only with PLANT_FAILURE=1 (tests/rtl/test_regress_planted.py)")
    build(case.sim, case.paramset, TOPLEVEL, SOURCES, {})
    run(case.sim, case.paramset, TOPLEVEL, TEST_MODULE, case.testcase)


def _clean_env() -> dict:
    """The environment of a user's shell: nothing of the surrounding pytest, make or regress."""
    drop = ("SEED", "SEEDS", "SIM", "WAVES", "COVERAGE", "ISR_TB_FAULT", "HYPOTHESIS_PROFILE", "MAKEFLAGS",
            "MFLAGS", "MAKELEVEL", "VIRTIO_SEED_INDEX", "VIRTIO_BUILD_ONLY", "VIRTIO_TEST_DIR", "COCOTB_RANDOM_SEED")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYTEST_", "VIRTIO_TEST_"))}


@pytest.mark.slow
def test_planted_failure_is_reported_with_a_rerun_command_that_reproduces_it_alone_with_waves(tmp_path) -> None:
    if PLANTED:
        pytest.skip("this run plants the fault itself: its own summary is the demonstration")
    out = tmp_path / "report"
    env = _clean_env() | {"SEED": str(SEED)}
    regress = subprocess.run(
        [sys.executable, "-m", "virtio_cosim.regress", "run", "--out", str(out), "--plant-failure", "--jobs", "0",
         "--no-coverage", "-k", TARGET], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert regress.returncode == 1 and "== regression" in regress.stdout, regress.stdout + regress.stderr
    summary = regress.stdout[regress.stdout.rindex("== regression"):]  # the closing summary, not pytest's log
    assert "failures: 1 in 1 signature(s)" in summary, summary
    assert re.search(r"\[1\] 1 x AssertionError: intx is \w+, the model says \w+ \(isr 0x#, msix \w+\) "
                     r"\[cocotb_isr\.py:check\]", summary), summary
    assert f"{TARGET} seed {SEED}" in summary, summary
    rerun = re.search(r"rerun: (.+)", summary).group(1)
    assert rerun == f"make waves TEST='{TARGET}' SEED={SEED} SIM=verilator PLANT_FAILURE=1"

    folder = BUILD_DIR / "verilator" / PARAMSET / "cocotb_isr.test_random_stimulus"
    started = time.time()
    again = subprocess.run(["bash", "-c", rerun], cwd=REPO_ROOT, env=_clean_env(), capture_output=True, text=True,
                           timeout=900)
    output = again.stdout + again.stderr
    assert again.returncode != 0, output
    assert re.search(r"=+ 1 failed, \d+ deselected in ", output), output  # that test alone
    assert "intx is" in output and "the model says" in output, output  # the same error
    waves = folder / "dump.fst"
    assert waves.is_file() and waves.stat().st_mtime >= started - 1, f"no fresh {waves}:\n{output}"
    assert f"waves: {waves}" in output, output
    assert f"seed {SEED}, test {TARGET}" in (folder / "sim.log").read_text()
