"""virtio_cosim.runner and identity without a simulation: test discovery, ids, build-folder rules."""

import pytest

from virtio_cosim import runner
from virtio_cosim.identity import rerun_command, test_identity

pytestmark = pytest.mark.smoke


def test_cocotb_tests_are_discovered_without_a_simulator() -> None:
    assert runner.cocotb_test_names("virtio_cosim.cocotb_isr") == ["test_directed", "test_random_stimulus"]


def test_cases_carry_the_test_id_as_pytest_id_and_icarus_gets_its_marker() -> None:
    params = runner.cocotb_cases("virtio_cosim.cocotb_isr", [("icarus", "default", [pytest.mark.smoke])])
    assert [p.id for p in params] == [
        "icarus/default/cocotb_isr.test_directed",
        "icarus/default/cocotb_isr.test_random_stimulus",
    ]
    assert {mark.name for mark in params[0].marks} == {"smoke", "icarus"}


def test_identity_and_rerun_command() -> None:
    test_id = test_identity("verilator", "q4", "virtio_cosim.cocotb_core", "test_suspend")
    assert test_id == "verilator/q4/cocotb_core.test_suspend"
    expected = "make waves TEST='verilator/q4/cocotb_core.test_suspend' SEED=7 SIM=verilator"
    assert rerun_command(test_id, 7, "verilator") == expected


def test_build_folders_separate_waves_and_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAVES", raising=False)
    monkeypatch.delenv("COVERAGE", raising=False)
    plain = runner.build_dir("verilator", "default", "top")
    monkeypatch.setenv("WAVES", "1")
    monkeypatch.setenv("COVERAGE", "1")
    assert runner.build_dir("verilator", "default", "top") == plain.with_name("top+waves+cov")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert runner.build_dir("icarus", "default", "top").name == "top+waves+main"  # no code coverage on Icarus


def test_icarus_builds_are_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """cocotb rebuilds an Icarus image at every build(): xdist workers must not share one (a vvp whose sim.vvp
    is rewritten under it hangs at time 0)."""
    monkeypatch.delenv("WAVES", raising=False)
    folders = set()
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        folders.add(runner.build_dir("icarus", "default", "top"))
    assert len(folders) == 2


def test_a_bad_waves_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVES", "maybe")
    with pytest.raises(ValueError, match="WAVES must be 1 or 0, not 'maybe'"):
        runner.env_flag("WAVES")


def test_one_paramset_name_cannot_mean_two_parameter_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAVES", raising=False)
    folder = runner.build_dir("icarus", "default", "virtio_isr")
    monkeypatch.setitem(runner._built, folder, {"WIDTH": 8})
    with pytest.raises(ValueError, match="used with two different parameter values"):
        runner.build("icarus", "default", "virtio_isr", [], {"WIDTH": 16})
