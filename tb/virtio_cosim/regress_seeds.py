"""Seeds of a regression: which tests are random, how many seeds each one runs, and the seed of each repeat.

    SEEDS unset    every test runs once, with the session seed (make test, make regress)
    SEEDS=N        every random test runs N times, with seed indices 0 .. N-1 (make nightly: 50), except the tests
                   a testplan entry with `seeds: M` names, which run M times

Repeat k of a test runs with `derive_seed(SEED, k)`: index 0 is the session seed itself, the others are 31-bit
numbers hashed from the session seed and the index, so they are distinct, reproducible from the session seed, and
each is an ordinary seed. The test's generator stays `random.Random(f"{seed}:{test_id}")` with its plain test id,
so `make waves TEST=<test id> SEED=<derived seed>` reruns exactly that repeat alone.

A cocotb test is random when its body uses its `rng` argument (read from the source, no import). A pytest test is
repeated when it asks for the `rng` fixture and the testplan names it (the plan lists the verification workload;
the tests of the flow itself, such as the seed plumbing's, are not repeated). Repeats exist only in a collection
(tests/conftest.py switches them on around it), so a test that calls `runner.cocotb_cases` itself sees one case
per test whatever SEEDS says. Repeats get their own pytest id and artefact folder: the suffix `+s<k>`
(`verilator/default/cocotb_isr.test_random_stimulus+s3`, `build/verilator/default/cocotb_isr.test_random_stimulus+s3/`)
for RTL tests, the parameter id `s<k>` for pytest tests.
"""

import ast
import fnmatch
import hashlib
import importlib.util
import os
import re
from functools import lru_cache

ENV_SEEDS = "SEEDS"
_collecting = False
ENV_SEED_INDEX = "VIRTIO_SEED_INDEX"  # set by tests/conftest.py for a repeat, read by the runner (folder suffix)
SEED_BITS = 31


def derive_seed(session_seed: int, index: int) -> int:
    """The seed of repeat `index` of a test: the session seed for index 0, else a hash of both."""
    if index == 0:
        return session_seed
    digest = hashlib.sha256(f"{session_seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (1 << SEED_BITS)


def collecting(active: bool) -> None:
    """Switch repeats on while pytest collects (tests/conftest.py), off while tests run."""
    global _collecting
    _collecting = active


def requested_seeds() -> int | None:
    """env SEEDS as a positive integer, or None when unset or empty."""
    text = os.environ.get(ENV_SEEDS, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"SEEDS must be a positive integer such as SEEDS=50, not {text!r}.") from None
    if value < 1:
        raise ValueError(f"SEEDS must be a positive integer such as SEEDS=50, not {text!r}.")
    return value


@lru_cache(maxsize=1)
def plan_overrides() -> tuple:
    """((test patterns, seeds), ...) of the testplan entries that set `seeds:`."""
    from .testplan import load_plan  # PyYAML only when SEEDS is set

    return tuple((tuple(entry.tests), entry.seeds) for entry in load_plan() if entry.seeds is not None)


@lru_cache(maxsize=1)
def plan_patterns() -> tuple:
    from .testplan import load_plan

    return tuple(pattern for entry in load_plan() for pattern in entry.tests)


def in_plan(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, f"*{pattern}*") for pattern in plan_patterns())


def seed_count(names: list, random: bool) -> int:
    """How many seeds a test runs. `names`: the names the testplan may use for it (test id, pytest node id)."""
    default = requested_seeds()
    if default is None or not _collecting:
        return 1
    override = [
        seeds
        for patterns, seeds in plan_overrides()
        if any(fnmatch.fnmatchcase(name, f"*{pattern}*") for pattern in patterns for name in names)
    ]
    if override:
        return max(override)
    return default if random else 1


def seed_suffix(index: int) -> str:
    """The suffix of an RTL repeat's pytest id and folder: empty for index 0, `+s<k>` otherwise."""
    return f"+s{index}" if index else ""


def model_seed_id(index: int) -> str:
    return f"s{index}"


_MODEL_SEED_ID = re.compile(r"\[s\d+\]$|-s\d+(?=\]$)")


def without_model_seed_id(nodeid: str) -> str:
    """The node id of a repeated pytest test without its seed parameter id (added last, so it ends the id)."""
    return _MODEL_SEED_ID.sub("", nodeid)


@lru_cache(maxsize=None)
def _random_functions(test_module: str) -> frozenset:
    spec = importlib.util.find_spec(test_module)
    if spec is None or spec.origin is None:
        return frozenset()
    with open(spec.origin) as source:
        tree = ast.parse(source.read(), filename=spec.origin)
    random = set()
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and len(node.args.args) > 1:
            rng = node.args.args[1].arg  # seeded_test passes the generator right after dut
            if any(isinstance(n, ast.Name) and n.id == rng for stmt in node.body for n in ast.walk(stmt)):
                random.add(node.name)
    return frozenset(random)


def is_random_cocotb_test(test_module: str, testcase: str) -> bool:
    """A cocotb test is random when its body uses the generator seeded_test hands it."""
    name = re.match(r"\w+", testcase)
    return bool(name) and name.group(0) in _random_functions(test_module)
