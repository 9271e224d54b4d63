"""The testplan (docs/testplan.yaml): requirement -> tests -> coverage bins, and its consistency checks.

Each entry is `{id, title, requirements: [...], tests: [...], covergroups: [...], seeds: N}`; an entry may carry
`deferred: <reason>` instead of tests (MMIO until an issue schedules it).  A test is named by a pattern matched
against pytest node ids (`*pattern*`, shell-style), so model tests are named by `test_file.py::test_name` and RTL
tests by their id `<sim>/<paramset>/<module>.<test>`.
"""

import fnmatch
import subprocess
import sys
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
    seeds: int = 1
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


def collect_test_ids(paths=("tests",)) -> list:
    """Every pytest node id of the suite (collection only, no test runs, no simulator needed)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             *paths], cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pytest collection failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return [line.strip() for line in result.stdout.splitlines() if "::" in line]


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
