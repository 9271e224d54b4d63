"""pytest plugin of `make regress` (loaded with `-p virtio_cosim.regress_plugin`; never by `make test`).

    --regress-shard i/N        keep shard i of N, balanced by docs/test-durations.json (virtio_cosim.regress_shard)
    --regress-plan FILE        write the selected node ids with their estimated seconds (JSON) after collection
    --regress-build-only       keep only RTL tests and stop each after its build (VIRTIO_BUILD_ONLY=1): the serial
                               pre-build that compiles every parameter set once before the parallel run
    --regress-progress         one line per finished RTL, slow or failed test and a heartbeat, with counts and the
                               time left, instead of pytest's dots
    --regress-timeout SECONDS  fail a test that runs longer (SIGALRM in the process running it; the simulator child
                               is killed by subprocess.run on the way out); 0: no limit

Always, per test, into the JUnit XML: `nodeid`, and for a cocotb test `test_id` and `sim`, and `run_dir` for every
test folder the runner created (their results.xml, coverage.dat and functional_coverage.xml feed the report).
"""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from .regress_shard import DURATIONS_FILE, Durations, is_rtl, parse_shard, split

HEARTBEAT_S = 15.0  # a "running" line at the next finished test after this long without a line
STALL_S = 60.0  # with nothing finished for this long, a line naming the tests in flight and their age
SLOW_S = 1.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("regress", "virtio regression (virtio_cosim.regress_plugin)")
    group.addoption("--regress-shard", default=None, metavar="i/N", help="run shard i of N")
    group.addoption("--regress-durations", default=str(DURATIONS_FILE), metavar="FILE",
                    help="durations file for shards and estimates")
    group.addoption("--regress-plan", default=None, metavar="FILE", help="write the selection with estimates")
    group.addoption("--regress-build-only", action="store_true", help="build every parameter set, run nothing")
    group.addoption("--regress-progress", action="store_true", help="progress lines instead of dots")
    group.addoption("--regress-timeout", type=float, default=0.0, metavar="SECONDS", help="per-test time limit")


def _case_of(item: pytest.Item):
    callspec = getattr(item, "callspec", None)
    for name, value in (callspec.params.items() if callspec else ()):
        if hasattr(value, "test_id") and hasattr(value, "sim"):
            return value
    return None


def _sim_of(item: pytest.Item) -> str | None:
    case = _case_of(item)
    if case is not None:
        return case.sim
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("sim") if callspec else None
    return value if isinstance(value, str) else None


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("regress_build_only"):
        from .runner import ENV_BUILD_ONLY

        os.environ[ENV_BUILD_ONLY] = "1"
    if config.getoption("regress_progress") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(Progress(config), "virtio-regress-progress")
    elif config.getoption("regress_build_only"):
        config.pluginmanager.register(NoLetters(), "virtio-regress-no-letters")


@pytest.hookimpl(trylast=True)  # after -k, -m and the SIM filter of tests/conftest.py
def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    durations = Durations.load(Path(config.getoption("regress_durations")))
    shard = config.getoption("regress_shard")
    if shard:
        index, count = parse_shard(shard)
        keep = set(split([item.nodeid for item in items], count, durations)[index - 1])
        _deselect(config, items, [item for item in items if item.nodeid not in keep])
    plan = config.getoption("regress_plan")
    if plan and not hasattr(config, "workerinput"):
        selection = [{"nodeid": item.nodeid, "estimate_s": durations.estimate(item.nodeid),
                      "sim": _sim_of(item)} for item in items]
        Path(plan).write_text(json.dumps({"shard": shard, "tests": selection}, indent=1))
    if config.getoption("regress_build_only"):
        _deselect(config, items, [item for item in items if _sim_of(item) is None])


def _deselect(config: pytest.Config, items: list, drop: list) -> None:
    if drop:
        dropped = set(id(item) for item in drop)
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if id(item) not in dropped]


def _runner():
    return sys.modules.get("virtio_cosim.runner")  # imported only where RTL tests are collected


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    runner = _runner()
    if runner is not None:
        runner.RUN_DIRS.clear()
        item.stash[_BUILDS] = (set(runner._built), time.monotonic())


_BUILDS = pytest.StashKey[tuple]()


class TestTimeout(Exception):
    """A test ran past --regress-timeout."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    limit = item.config.getoption("regress_timeout")
    if not limit or not hasattr(signal, "SIGALRM"):
        return (yield)

    def expire(signum, frame):
        item.user_properties.append(("timeout_s", limit))
        raise TestTimeout(f"Timeout: the test ran longer than {limit:g} s (--regress-timeout, make TIMEOUT=...)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    if call.when == "teardown":
        item.user_properties.append(("nodeid", item.nodeid))
        case = _case_of(item)
        if case is not None:
            item.user_properties += [("test_id", case.test_id), ("sim", case.sim)]
        elif _sim_of(item):
            item.user_properties.append(("sim", _sim_of(item)))
        runner = _runner()
        for run_dir in runner.RUN_DIRS if runner else ():
            item.user_properties.append(("run_dir", str(run_dir)))
        if runner is not None:
            runner.RUN_DIRS.clear()
        if runner is not None and item.config.getoption("regress_build_only") and _BUILDS in item.stash:
            before, start = item.stash[_BUILDS]
            for directory in sorted(set(runner._built) - before, key=str):
                rel = directory.relative_to(directory.parents[3]) if len(directory.parents) > 3 else directory
                reporter = item.config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    reporter.ensure_newline()
                    reporter.write_line(f"built {rel} in {time.monotonic() - start:.1f} s")
    return (yield)


class NoLetters:
    """No pytest dots or letters: this plugin writes whole lines instead."""

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report, config):
        category, _letter, word = yield
        return category, "", word


class Progress(NoLetters):
    """Progress of the run as lines a CI log can show: done/total, failures, elapsed time and time left."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.durations = Durations.load(Path(config.getoption("regress_durations")))
        self.estimates: dict = {}
        self.workers: set = set()
        self.outcome: dict = {}
        self.time: dict = {}
        self.done = 0
        self.failed = 0
        self.start = time.monotonic()
        self.last_line = self.start
        self.running: dict = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.watch = threading.Thread(target=self._watch, name="regress-progress", daemon=True)
        self.watch.start()

    def pytest_unconfigure(self) -> None:
        self.stop.set()

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        self.running.setdefault(nodeid, time.monotonic())

    def _watch(self) -> None:
        while not self.stop.wait(5.0):
            now = time.monotonic()
            if now - self.last_line < STALL_S or not self.running:
                continue
            oldest = sorted(self.running.items(), key=lambda kv: kv[1])[:4]
            names = ", ".join(f"{_name(n)} ({_hms(now - t)})" for n, t in oldest)
            self._line(f"still running: {names}", now)

    # total and estimates: from the session (no xdist) or from the workers' collections
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.workers.add(str(getattr(getattr(node, "gateway", None), "id", id(node))))
        self._collected(ids)

    def _collected(self, ids) -> None:
        if not self.estimates:
            self.estimates = {nodeid: self.durations.estimate(nodeid) for nodeid in ids}
            self.start = self.last_line = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        self.time[nodeid] = self.time.get(nodeid, 0.0) + (report.duration or 0.0)
        if report.failed:
            self.outcome[nodeid] = "ERROR" if report.when != "call" else "FAILED"
        elif report.skipped and nodeid not in self.outcome:
            self.outcome[nodeid] = "XFAIL" if hasattr(report, "wasxfail") else "SKIPPED"
        if report.when != "teardown":
            return
        outcome = self.outcome.pop(nodeid, "PASSED")
        seconds = self.time.pop(nodeid)
        self.running.pop(nodeid, None)
        self.done += 1
        self.failed += outcome in ("FAILED", "ERROR")
        self.estimates.pop(nodeid, None)
        now = time.monotonic()
        if outcome in ("FAILED", "ERROR") or is_rtl(nodeid) or seconds >= SLOW_S:
            self._line(f"{outcome:<7} {_name(nodeid)}  {seconds:.1f} s", now)
        elif now - self.last_line >= HEARTBEAT_S:
            self._line("running", now)

    def _line(self, text: str, now: float) -> None:
        total = self.done + len(self.estimates)
        workers = max(len(self.workers), 1)
        left = sum(self.estimates.values()) / workers
        elapsed = now - self.start
        percent = 100 * self.done // total if total else 100
        width = len(str(total))
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        line = (f"[{self.done:>{width}}/{total} {percent:>3}% {_hms(elapsed)} ~{_hms(left)} left,"
                f" {self.failed} failed] {text}")
        with self.lock:
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(line)
                reporter.flush()
            self.last_line = now


def _name(nodeid: str) -> str:
    """An RTL test by its test id, any other by its node id."""
    return nodeid[nodeid.rindex("[") + 1:-1] if is_rtl(nodeid) else nodeid


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
