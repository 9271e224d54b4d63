"""Verilator code coverage of a regression: merge the per-test .dat files, read their points, apply the committed
exclusions, export line coverage to lcov and HTML.

A Verilator coverage file (`# SystemC::Coverage-3`) holds one point per line, `C '<key>' <count>`, the key a list
of `\\x01<field>\\x02<value>` pairs: `f` file, `l` line, `n` column, `t` type (line, branch, toggle, expr, user...),
`page`, `o` the point's comment (`block`, `if`, `else`, `sig[3]:0->1`, an expression term), `h` the instance.

- Merging: Debian's verilator_coverage 5.006 (`--write`), run with toolchain.verilator_coverage_env(); files are
  first rewritten with repository-relative paths, so shards merged on another machine agree.
- Figures (`figures`): every point type in files under rtl/, a point counted once per (file, line, column, type,
  comment) over all instances and builds (a toggle of `virtio_isr.isr[0]` is covered when any instance of the
  module toggled it), hit when its count is at least 1, minus the exclusions.
- lcov: the `line` and `branch` points kept after exclusions go through `verilator_coverage --write-info`, which
  gives every source line of a block or a branch arm (the `S` span) its execution count; toggle and expression
  points stay out (they would count a port declaration or a term as an executed line). Verilator 5.48 files most
  procedural code under `branch` (if/else and ?: arms), so both kinds make the lines. BRDA records from the
  `branch` points are added; genhtml renders both.
- Exclusions (docs/coverage-exclusions): one per line, `<kind> <file>[:<line>[-<line>]] [<comment glob>] -- <reason>`,
  kind one of the point types or `*`, file a glob relative to the repository; the reason is mandatory.
"""

import fnmatch
import re
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import toolchain
from .paths import REPO_ROOT

EXCLUSIONS_FILE = REPO_ROOT / "docs" / "coverage-exclusions"
SCOPE = "rtl/"
HEADER = "# SystemC::Coverage-3\n"
MERGE_CHUNK = 200
_POINT = re.compile(r"^C '(.*)' (\d+)\s*$")


def parse_key(key: str) -> dict:
    fields = {}
    for part in key.split("\x01")[1:]:
        name, _, value = part.partition("\x02")
        fields[name] = value
    return fields


def make_key(fields: dict) -> str:
    return "".join(f"\x01{name}\x02{value}" for name, value in fields.items())


def read_dat(path: Path) -> dict:
    """{key: count} of a coverage file (counts of repeated keys summed)."""
    points: dict = defaultdict(int)
    with open(path, encoding="utf-8", errors="surrogateescape") as stream:
        for line in stream:
            match = _POINT.match(line)
            if match:
                points[match.group(1)] += int(match.group(2))
    return dict(points)


def write_dat(points: dict, path: Path) -> None:
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as stream:
        stream.write(HEADER)
        for key, count in points.items():
            stream.write(f"C '{key}' {count}\n")


def relative_to_repo(points: dict, root: Path = REPO_ROOT) -> dict:
    """The points with their `f` paths made relative to the repository when they lie inside it."""
    prefix = str(root).rstrip("/") + "/"
    out: dict = defaultdict(int)
    for key, count in points.items():
        fields = parse_key(key)
        if fields.get("f", "").startswith(prefix):
            fields["f"] = fields["f"][len(prefix):]
            key = make_key(fields)
        out[key] += count
    return dict(out)


def _verilator_coverage(*args: str, cwd: Path | None = None) -> None:
    tool = toolchain.find_verilator_coverage()
    result = subprocess.run([str(tool), *args], capture_output=True, text=True, cwd=cwd,
                            env=toolchain.verilator_coverage_env())
    if result.returncode:
        raise RuntimeError(f"verilator_coverage {' '.join(args[:2])} ... failed:\n{result.stdout}{result.stderr}")


def merge(inputs: list, out: Path) -> None:
    """Merge coverage files into `out` with verilator_coverage, paths made repository-relative first."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cov-merge-") as tmp:
        staged = []
        prefix = ("\x01f\x02" + str(REPO_ROOT).rstrip("/") + "/").encode()
        for index, path in enumerate(inputs):  # relative paths by a byte replace: nightly merges thousands
            target = Path(tmp) / f"{index}.dat"
            target.write_bytes(Path(path).read_bytes().replace(prefix, b"\x01f\x02"))
            staged.append(target)
        if not staged:
            out.write_text(HEADER)
            return
        while len(staged) > 1:  # in chunks, so a nightly's thousands of files never hit the argument limit
            merged = []
            for start in range(0, len(staged), MERGE_CHUNK):
                target = Path(tmp) / f"m{len(staged)}_{start}.dat"
                _verilator_coverage("--write", str(target), *map(str, staged[start:start + MERGE_CHUNK]))
                merged.append(target)
            staged = merged
        out.write_bytes(staged[0].read_bytes())


# -- exclusions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exclusion:
    kind: str
    file: str
    first: int | None
    last: int | None
    comment: str
    reason: str
    source: str

    def matches(self, kind: str, file: str, line: int, comment: str) -> bool:
        return ((self.kind == "*" or self.kind == kind) and fnmatch.fnmatchcase(file, self.file)
                and (self.first is None or self.first <= line <= self.last)
                and fnmatch.fnmatchcase(comment, self.comment))


def read_exclusions(path: Path = EXCLUSIONS_FILE) -> list:
    if not path.is_file():
        return []
    return parse_exclusions(path.read_text(), str(path))


def parse_exclusions(text: str, name: str = "exclusions") -> list:
    exclusions = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        rule, sep, reason = line.partition(" -- ")
        if not sep or not reason.strip():
            raise ValueError(f"{where}: every exclusion needs a reason after ' -- ': {raw!r}")
        parts = rule.split()
        if len(parts) not in (2, 3):
            raise ValueError(f"{where}: expected '<kind> <file>[:<lines>] [<comment glob>] -- <reason>': {raw!r}")
        kind, location = parts[0], parts[1]
        file, _, lines = location.partition(":")
        first = last = None
        if lines:
            match = re.fullmatch(r"(\d+)(?:-(\d+))?", lines)
            if not match:
                raise ValueError(f"{where}: line range must be N or N-M, not {lines!r}")
            first = int(match.group(1))
            last = int(match.group(2) or first)
        exclusions.append(Exclusion(kind, file, first, last, parts[2] if len(parts) == 3 else "*",
                                    reason.strip(), where))
    return exclusions


def excluded_by(exclusions: list, kind: str, file: str, line: int, comment: str) -> Exclusion | None:
    for exclusion in exclusions:
        if exclusion.matches(kind, file, line, comment):
            return exclusion
    return None


# -- figures ---------------------------------------------------------------------------------------------------


def point_type(fields: dict) -> str:
    return fields.get("t") or fields.get("page", "v_user/").split("/")[0].removeprefix("v_")


@dataclass
class Point:
    kind: str
    file: str
    line: int
    column: int
    comment: str
    count: int = 0


@dataclass
class CodeCoverage:
    kinds: dict = field(default_factory=dict)  # kind -> [hit, total]
    files: dict = field(default_factory=dict)  # file -> kind -> [hit, total]
    holes: list = field(default_factory=list)  # Points never hit, not excluded
    excluded: dict = field(default_factory=dict)  # exclusion source -> number of points it removed

    def percent(self, kind: str) -> float | None:
        hit, total = self.kinds.get(kind, (0, 0))
        return 100.0 * hit / total if total else None


def unified_points(points: dict, scope: str = SCOPE) -> list:
    """One Point per (file, line, column, type, comment) in `scope`, counts summed over instances."""
    merged: dict = {}
    for key, count in points.items():
        fields = parse_key(key)
        file = fields.get("f", "")
        if not file.startswith(scope):
            continue
        kind = point_type(fields)
        ident = (file, int(fields.get("l", 0)), int(fields.get("n", 0)), kind, fields.get("o", ""))
        if ident not in merged:
            merged[ident] = Point(kind, ident[0], ident[1], ident[2], ident[4])
        merged[ident].count += count
    return sorted(merged.values(), key=lambda p: (p.file, p.line, p.column, p.kind, p.comment))


def figures(points: dict, exclusions: list, scope: str = SCOPE) -> CodeCoverage:
    result = CodeCoverage()
    for point in unified_points(points, scope):
        rule = excluded_by(exclusions, point.kind, point.file, point.line, point.comment)
        if rule is not None:
            result.excluded[rule.source] = result.excluded.get(rule.source, 0) + 1
            continue
        hit = point.count >= 1
        for tally in (result.kinds.setdefault(point.kind, [0, 0]),
                      result.files.setdefault(point.file, {}).setdefault(point.kind, [0, 0])):
            tally[0] += hit
            tally[1] += 1
        if not hit:
            result.holes.append(point)
    return result


# -- lcov and HTML ---------------------------------------------------------------------------------------------


def write_lcov(points: dict, exclusions: list, out: Path, scope: str = SCOPE) -> None:
    """lcov tracefile: DA from the `line` and `branch` points (through verilator_coverage), BRDA from `branch`."""
    keep = {}
    branches: dict = defaultdict(list)
    for key, count in points.items():
        fields = parse_key(key)
        file, kind = fields.get("f", ""), point_type(fields)
        if not file.startswith(scope) or kind not in ("line", "branch"):
            continue
        line = int(fields.get("l", 0))
        if excluded_by(exclusions, kind, file, line, fields.get("o", "")):
            continue
        keep[key] = count
        if kind == "branch":
            branches[file].append((line, int(fields.get("n", 0)), fields.get("o", ""), fields.get("h", ""), count))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cov-lcov-") as tmp:
        lines_dat = Path(tmp) / "lines.dat"
        write_dat(keep, lines_dat)
        info = Path(tmp) / "lines.info"
        if keep:
            _verilator_coverage("--write-info", str(info), str(lines_dat))
            text = info.read_text()
        else:
            text = ""
    out.write_text(_add_branches(text, branches))


def _add_branches(info: str, branches: dict) -> str:
    records = []
    current: list = []
    for line in info.splitlines():
        current.append(line)
        if line == "end_of_record":
            records.append(current)
            current = []
    by_file = {next((l[3:] for l in r if l.startswith("SF:")), ""): r for r in records}
    for file, points in branches.items():
        record = by_file.get(file)
        if record is None:
            record = ["TN:verilator_coverage", f"SF:{file}", "end_of_record"]
            records.append(record)
        blocks: dict = defaultdict(list)
        for line, column, comment, hier, count in points:
            blocks[(line, column // 1000)].append((column, comment, hier, count))  # one block per line
        brda = []
        for block_id, ((line, _), arms) in enumerate(sorted(blocks.items())):
            merged: dict = defaultdict(int)
            for column, comment, _hier, count in arms:
                merged[(column, comment)] += count
            for branch_id, (_arm, count) in enumerate(sorted(merged.items())):
                brda.append(f"BRDA:{line},{block_id},{branch_id},{count if count else '-'}")
        taken = sum(1 for b in brda if not b.endswith(",-"))
        record[-1:] = brda + [f"BRF:{len(brda)}", f"BRH:{taken}", "end_of_record"]
    return "".join("\n".join(r) + "\n" for r in records)


def read_lcov_lines(info: Path) -> tuple:
    """(lines hit, lines found, {file: (hit, found)}) from DA records."""
    per_file: dict = {}
    file = ""
    for line in info.read_text().splitlines() if info.is_file() else ():
        if line.startswith("SF:"):
            file = line[3:]
            per_file.setdefault(file, [0, 0])
        elif line.startswith("DA:"):
            hits = int(line[3:].split(",")[1])
            per_file[file][0] += hits > 0
            per_file[file][1] += 1
    hit = sum(v[0] for v in per_file.values())
    found = sum(v[1] for v in per_file.values())
    return hit, found, {f: tuple(v) for f, v in per_file.items()}


def genhtml(info: Path, out_dir: Path, title: str) -> str | None:
    """Render `info` with genhtml (run from the repository, where the relative paths resolve); None when genhtml is
    missing or the tracefile is empty, else genhtml's summary lines."""
    if not info.is_file() or "SF:" not in info.read_text():
        return None
    try:
        result = subprocess.run(
            ["genhtml", "--quiet", "--branch-coverage", "--title", title, "--output-directory", str(out_dir),
             str(info)], capture_output=True, text=True, cwd=REPO_ROOT)
    except FileNotFoundError:
        return None
    if result.returncode:
        raise RuntimeError(f"genhtml failed:\n{result.stdout}{result.stderr}")
    return (result.stdout + result.stderr).strip() or f"written to {out_dir}"
