"""Session-wide test conventions: the seed, per-test generators, Hypothesis profiles and the SIM filter.

- SEED (env, default virtio_golden.seeds.DEFAULT_SEED) is printed in the header and the summary and recorded
  in the JUnit XML of every test; the fixture `rng` gives each test `test_rng(SEED, nodeid)`.
- Hypothesis profiles: "ci" (default) and "nightly", chosen by env HYPOTHESIS_PROFILE; both draw from SEED.
- SIM=verilator|icarus (env) keeps only the RTL tests of that simulator.
- SEEDS=N (env, make nightly) repeats every random test N times with seeds derived from SEED
  (virtio_cosim.regress_seeds): a testplan test using `rng` gets the parameter `seed_index`; an RTL repeat is a
  CocotbCase with a seed_index. A repeat runs with SEED set to its own seed, which the JUnit XML records.
"""

import os
import random
import sys

import pytest
from hypothesis import settings

from virtio_cosim import regress_seeds
from virtio_cosim.regress_seeds import (ENV_SEED_INDEX, derive_seed, in_plan, model_seed_id, seed_count,
                                        without_model_seed_id)
from virtio_cosim.toolchain import SIMULATORS
from virtio_golden.seeds import session_seed, test_rng

SEED = session_seed()

settings.register_profile("ci", max_examples=200, deadline=None, database=None, print_blob=True)
settings.register_profile("nightly", max_examples=5000, deadline=None, database=None, print_blob=True)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(HYPOTHESIS_PROFILE)

SIM = os.environ.get("SIM", "").strip()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if SIM and SIM not in SIMULATORS:
        raise pytest.UsageError(f"SIM must be one of {', '.join(SIMULATORS)}, not {SIM!r}.")
    # Hypothesis draws from SEED too (its own --hypothesis-seed wins when given), so a seed reproduces everything.
    if config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = str(SEED)


def pytest_report_header() -> list[str]:
    sim = SIM or "all"
    return [f"seed: {SEED} (env SEED), hypothesis profile: {HYPOTHESIS_PROFILE}, simulators: {sim}"]


def _sim_of(item: pytest.Item) -> str | None:
    """The simulator of an RTL test: its `sim` parameter, or the `.sim` of a parameter (runner.CocotbCase)."""
    callspec = getattr(item, "callspec", None)
    for name, value in (callspec.params.items() if callspec else ()):
        if name == "sim":
            return value
        if isinstance(getattr(value, "sim", None), str):
            return value.sim
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not SIM:
        return
    other = [item for item in items if _sim_of(item) not in (None, SIM)]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if item not in other]


def _seed_index_of(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    for name, value in (callspec.params.items() if callspec else ()):
        if name == "seed_index":
            return value
        if isinstance(getattr(value, "seed_index", None), int):
            return value.seed_index
    return 0


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session):
    regress_seeds.collecting(True)  # SEEDS repeats exist in the collection only
    try:
        return (yield)
    finally:
        regress_seeds.collecting(False)


@pytest.hookimpl(trylast=True)  # after the parametrize marks, so the seed id ends the node id
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rng" in metafunc.fixturenames and regress_seeds.requested_seeds():
        nodeid = metafunc.definition.nodeid
        count = seed_count([nodeid], random=in_plan(nodeid))
        if count > 1:
            metafunc.parametrize("seed_index", range(count), indirect=True, ids=model_seed_id)


@pytest.fixture(autouse=True)
def _record_seed(request: pytest.FixtureRequest, record_property, monkeypatch: pytest.MonkeyPatch) -> None:
    index = _seed_index_of(request.node)
    if index:
        monkeypatch.setenv("SEED", str(derive_seed(SEED, index)))
        monkeypatch.setenv(ENV_SEED_INDEX, str(index))
        record_property("seed_index", index)
    record_property("seed", derive_seed(SEED, index))


@pytest.fixture
def seed_index(request: pytest.FixtureRequest) -> int:
    """Which repeat of a random test this is (SEEDS=N); 0 when tests run once."""
    return getattr(request, "param", 0)


@pytest.fixture
def rng(request: pytest.FixtureRequest, seed_index: int) -> random.Random:
    """This test's own generator: the same SEED gives the same numbers, whatever else runs. Repeat k draws from
    its own seed and the plain node id, so SEED=<that seed> reruns it alone."""
    nodeid = request.node.nodeid
    if "seed_index" in getattr(getattr(request.node, "callspec", None), "params", {}):
        nodeid = without_model_seed_id(nodeid)
    return test_rng(derive_seed(SEED, seed_index), nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        terminalreporter.write_line("no test was selected: exit status 5, which make and CI count as a failure")
    terminalreporter.write_line(f"seed: {SEED} (rerun this session with SEED={SEED})")
    runner = sys.modules.get("virtio_cosim.runner")  # loaded only if RTL tests ran; model-only runs need no cocotb
    for waves in runner.WAVES_WRITTEN if runner else ():
        terminalreporter.write_line(f"waves: {waves}")
