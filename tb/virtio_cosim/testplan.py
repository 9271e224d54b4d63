"""The testplan (docs/testplan.yaml): requirement -> tests -> coverage bins, and its consistency checks.

Each entry is `{id, title, requirements: [...], tests: [...], covergroups: [...], seeds: N}`; an entry may carry
`deferred: <reason>` instead of tests (MMIO until an issue schedules it).  A test is named by a pattern matched
against the test names of `collect_test_ids` (`*pattern*`, shell-style), so a pytest test is named by
`test_file.py::test_name` (a prefix matches its parametrized cases) and a cocotb test by `<module>.<test>`.
"""

import ast
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .paths import REPO_ROOT

PLAN_FILE = REPO_ROOT / "docs" / "testplan.yaml"
SPEC_IDS_FILE = REPO_ROOT / "docs" / "spec-ids.txt"
ENTRY_KEYS = {"id", "title", "requirements", "tests", "covergroups", "seeds", "deferred"}


@dataclass
class PlanEntry:
    id: str
    title: str
    requirements: list
    tests: list = field(default_factory=list)
    covergroups: list = field(default_factory=list)
    seeds: int | None = None  # nightly seeds of the entry's random tests; None: the SEEDS of the run
    deferred: str = ""


def load_plan(path: Path = PLAN_FILE) -> list:
    raw = yaml.safe_load(path.read_text())
    entries = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a mapping with a list under 'entries'")
    plan = []
    for item in entries:
        unknown = set(item) - ENTRY_KEYS
        if unknown:
            raise ValueError(f"{path}: entry {item.get('id')!r} has unknown keys {sorted(unknown)}")
        plan.append(PlanEntry(**item))
    return plan


def read_spec_ids(path: Path = SPEC_IDS_FILE) -> dict:
    ids = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            rid, title = line.split("\t", 1)
            ids[rid] = title
    return ids


def collect_test_ids(repo: Path = REPO_ROOT) -> list:
    """The names of every test, read from the sources (no import, so no simulator or cocotb is needed):
    `tests/<dir>/<file>.py::<function>` for each pytest function, and `<module>.<test>` for each cocotb test of
    `tb/virtio_cosim/cocotb_*.py` (the tail of an RTL test id `<sim>/<paramset>/<module>.<test>`)."""
    ids = []
    for path in sorted((repo / "tests").rglob("test_*.py")):
        rel = path.relative_to(repo).as_posix()
        ids += [f"{rel}::{name}" for name in _functions(path, lambda f: f.name.startswith("test_"))]
    for path in sorted((repo / "tb" / "virtio_cosim").glob("cocotb_*.py")):
        ids += [f"{path.stem}.{name}" for name in _functions(path, _is_cocotb_test)]
    return ids


def _functions(path: Path, keep) -> list:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and keep(node)]


def _is_cocotb_test(node) -> bool:
    """An async function decorated with cocotb.test or the project's seeded_test."""
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if isinstance(node, ast.AsyncFunctionDef) and name in ("test", "seeded_test"):
            return True
    return False


def matching_tests(pattern: str, test_ids: list) -> list:
    return [t for t in test_ids if fnmatch.fnmatchcase(t, f"*{pattern}*")]


def check_plan(plan: list, spec_ids: dict, test_ids: list, required_prefixes=("SUS-", "S", "R")) -> list:
    """Every problem of the plan, as sentences; empty when it is consistent.

    - every requirement an entry names exists in spec-ids.txt;
    - every requirement of SPEC with a required prefix (SUS-xx, the sections of chapters 2 to 5, rules 8.x) is
      named by some entry;
    - every test pattern matches at least one collected test, and a non-deferred entry names at least one test;
    - entry ids are unique.
    """
    problems = []
    seen_entries = set()
    named = set()
    for entry in plan:
        if entry.id in seen_entries:
            problems.append(f"entry id {entry.id} is used twice")
        seen_entries.add(entry.id)
        for rid in entry.requirements:
            if rid not in spec_ids:
                problems.append(f"{entry.id}: requirement {rid} is not in docs/spec-ids.txt")
            named.add(rid)
        if not entry.deferred and not entry.tests:
            problems.append(f"{entry.id}: names no test and is not marked deferred")
        for pattern in entry.tests:
            if not matching_tests(pattern, test_ids):
                problems.append(f"{entry.id}: no test matches {pattern!r}")
    for rid in spec_ids:
        if rid.startswith(required_prefixes) and rid not in named:
            problems.append(f"requirement {rid} ({spec_ids[rid]}) is in no plan entry")
    return problems
