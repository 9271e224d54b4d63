"""Test durations and shards: estimate a test's running time from the committed durations file and split a
regression into N shards of about equal running time (longest test first, onto the least loaded shard).

docs/test-durations.json (refreshed by `make durations` from the last regress or nightly report), one section per
Hypothesis profile (`ci` for make regress, `nightly` for make nightly, whose property tests run 25 times longer):

    {"profiles": {"ci": {"tests": {node id: seconds}     every test that took 0.2 s or more,
                         "files": {test file: seconds}   the mean of its tests,
                         "default": {"rtl": s, "other": s}},  for tests the file does not know yet
                  "nightly": {...}}}

Repeats of one test (SEEDS=N) share the estimate of the test. The split depends only on the selected node ids and
the durations file, so every machine of a CI matrix computes the same shards from the same commit.
"""

import json
import os
import re
import statistics
from pathlib import Path

from .paths import REPO_ROOT

DURATIONS_FILE = REPO_ROOT / "docs" / "test-durations.json"
KEEP_TESTS_FROM_S = 0.2
DEFAULT_RTL_S = 5.0
DEFAULT_OTHER_S = 0.05
_RTL_ID = re.compile(r"\[(?:verilator|icarus)/")
_SEED_SUFFIX = re.compile(r"\+s\d+(?=\])|\[s\d+\]$|-s\d+(?=\]$)")


def base_nodeid(nodeid: str) -> str:
    """The node id without a seed-repeat suffix (`+s3` of an RTL repeat, the `s3` parameter of a pytest test)."""
    return _SEED_SUFFIX.sub("", nodeid)


def is_rtl(nodeid: str) -> bool:
    return bool(_RTL_ID.search(nodeid))


class Durations:
    def __init__(self, data: dict | None = None) -> None:
        data = data or {}
        self.tests: dict = data.get("tests", {})
        self.files: dict = data.get("files", {})
        default = data.get("default", {})
        self.default_rtl = float(default.get("rtl", DEFAULT_RTL_S))
        self.default_other = float(default.get("other", DEFAULT_OTHER_S))

    @classmethod
    def load(cls, path: Path = DURATIONS_FILE, profile: str | None = None) -> "Durations":
        """The section of `profile` (default: env HYPOTHESIS_PROFILE, else ci), falling back to ci."""
        profiles = json.loads(path.read_text()).get("profiles", {}) if path.is_file() else {}
        profile = profile or os.environ.get("HYPOTHESIS_PROFILE") or "ci"
        return cls(profiles.get(profile) or profiles.get("ci"))

    def estimate(self, nodeid: str) -> float:
        base = base_nodeid(nodeid)
        if base in self.tests:
            return float(self.tests[base])
        if is_rtl(nodeid):
            return self.default_rtl
        file = base.split("::", 1)[0]
        return float(self.files.get(file, self.default_other))


def durations_from(records: list) -> dict:
    """The durations file's content from test records ({"nodeid", "time"}); repeats count once (their mean)."""
    per_test: dict = {}
    for record in records:
        if record.get("outcome") == "skipped":
            continue
        per_test.setdefault(base_nodeid(record["nodeid"]), []).append(float(record["time"]))
    mean = {nodeid: statistics.fmean(times) for nodeid, times in per_test.items()}
    files: dict = {}
    for nodeid, seconds in mean.items():
        files.setdefault(nodeid.split("::", 1)[0], []).append(seconds)
    rtl = [s for nodeid, s in mean.items() if is_rtl(nodeid)]
    return {
        "default": {"rtl": round(statistics.median(rtl), 2) if rtl else DEFAULT_RTL_S, "other": DEFAULT_OTHER_S},
        "files": {file: round(statistics.fmean(times), 4) for file, times in sorted(files.items())},
        "tests": {nodeid: round(s, 2) for nodeid, s in sorted(mean.items()) if s >= KEEP_TESTS_FROM_S},
    }


def parse_shard(text: str) -> tuple[int, int]:
    """`i/N` (1 <= i <= N) as (i, N)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"SHARD must be i/N with 1 <= i <= N, such as SHARD=2/4, not {text!r}.")
    return int(match.group(1)), int(match.group(2))


def split(nodeids: list, shards: int, durations: Durations) -> list:
    """`shards` lists of node ids, balanced by estimated time (then by count, so that tests estimated at 0 s spread
    too); each list keeps the collection order."""
    loads = [0.0] * shards
    counts = [0] * shards
    chosen: dict = {}
    for nodeid in sorted(nodeids, key=lambda n: (-durations.estimate(n), n)):
        shard = min(range(shards), key=lambda s: (loads[s], counts[s], s))
        loads[shard] += durations.estimate(nodeid)
        counts[shard] += 1
        chosen[nodeid] = shard
    return [[n for n in nodeids if chosen[n] == s] for s in range(shards)]
