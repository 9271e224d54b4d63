"""The regression report: test records from JUnit, failures grouped by signature with their rerun commands,
functional and code coverage merged over tests (and over shards), the testplan annotated with both.

    python -m virtio_cosim.report collect --out build/report            this run's bundle (after pytest)
    python -m virtio_cosim.report build build/report [more bundles] --out build/report   report from bundles
    python -m virtio_cosim.report check [--report build/report]        coverage against docs/coverage-thresholds.yaml
    python -m virtio_cosim.report summary [--report build/report]      print the text summary again

A bundle is what one regress (or one shard) leaves in its report folder, self-contained and movable:
    junit.xml          pytest's JUnit XML (the regress plugin adds nodeid, test_id, sim, run_dir, seed properties)
    tests.json         one record per test: outcome, time, seed, failure, signature, rerun command
    functional.json    functional coverage bins, hits summed over the passing test runs
    coverage.dat       Verilator code coverage merged over the passing test runs, repository-relative paths
    meta.json          seed, selection, simulators, shard, start and end, workers, command switches
The report proper (index.html, report.txt, summary.json, coverage.info, html/) is built from one or more bundles.
Coverage counts only test runs whose own cocotb result passed: a failing run's coverage is not evidence.
"""

import argparse
import json
import re
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from pathlib import Path

from . import codecov
from .coverage import FUNCTIONAL_XML
from .paths import REPO_ROOT
from .regress_seeds import without_model_seed_id

REPORT_DIR = REPO_ROOT / "build" / "report"
THRESHOLDS_FILE = REPO_ROOT / "docs" / "coverage-thresholds.yaml"
CODE_KINDS = ("line", "branch", "toggle", "expr", "user")
FAILURES_PER_SIGNATURE = 10  # rerun commands printed per signature; report.txt and index.html list all
SLOWEST = 15
MESSAGE_CHARS = 4000
PYTHON = ".venv/bin/python"


# -- test records from JUnit -----------------------------------------------------------------------------------


def _outcome(case: ElementTree.Element) -> tuple:
    for tag in ("failure", "error"):
        element = case.find(tag)
        if element is not None:
            return ("failed" if tag == "failure" else "error"), element
    skipped = case.find("skipped")
    if skipped is not None:
        return ("xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"), skipped
    return "passed", None


def _nodeid(case: ElementTree.Element, props: dict) -> str:
    if props.get("nodeid"):
        return props["nodeid"][0]
    file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
    module = file.removesuffix(".py").replace("/", ".")
    classes = case.get("classname", "").removeprefix(module).strip(".")
    return "::".join([file, *([classes] if classes else []), case.get("name", "?")])


def read_junit(path: Path) -> list:
    """Test records (dicts) from a JUnit XML file written by pytest."""
    records = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        props: dict = defaultdict(list)
        for prop in case.iter("property"):
            props[prop.get("name")].append(prop.get("value"))
        outcome, element = _outcome(case)
        nodeid = _nodeid(case, props)
        message = (element.get("message") or "") if element is not None else ""
        text = (element.text or "") if element is not None else ""
        records.append({
            "nodeid": nodeid,
            "outcome": outcome,
            "time": float(case.get("time") or 0.0),
            "seed": int(props["seed"][-1]) if props.get("seed") else None,
            "seed_index": int(props["seed_index"][-1]) if props.get("seed_index") else 0,
            "test_id": (props.get("test_id") or [None])[-1] or _rtl_id(nodeid),
            "sim": (props.get("sim") or [None])[-1],
            "timeout_s": float(props["timeout_s"][-1]) if props.get("timeout_s") else None,
            "run_dirs": props.get("run_dir", []),
            "message": message,
            "text": text[:MESSAGE_CHARS],
        })
    for record in records:
        if record["sim"] is None and record["test_id"]:
            record["sim"] = record["test_id"].split("/", 1)[0]
        if record["sim"] is None and record["run_dirs"]:  # a pytest test that runs cocotb tests itself
            record["sim"] = Path(record["run_dirs"][0]).parts[-3]
        record["kind"] = _kind(record)
    return records


def _rtl_id(nodeid: str) -> str | None:
    match = re.search(r"\[((?:verilator|icarus)/[^/\]]+/[\w.]+)(?:\+s\d+)?\]$", nodeid)
    return match.group(1) if match else None


def _kind(record: dict) -> str:
    if record["nodeid"].startswith("tests/model/"):
        return "model"
    if record["sim"] or record["test_id"]:
        return record["sim"] or record["test_id"].split("/", 1)[0]
    return "other"


# -- runs, signatures and rerun commands -----------------------------------------------------------------------


def read_run(run_dir: Path) -> dict:
    """One simulator run: did its cocotb tests pass, and the first failure (type, message, where)."""
    results = run_dir / "results.xml"
    run = {"dir": str(run_dir), "passed": None, "failure": None}
    if not results.is_file():
        return run
    try:
        root = ElementTree.parse(results).getroot()
    except ElementTree.ParseError:
        return run
    run["passed"] = True
    for case in root.iter("testcase"):
        element = case.find("failure")
        if element is None:
            element = case.find("error")
        if element is not None:
            run["passed"] = False
            frames = re.findall(r'File "([^"]+)", line \d+, in (\w+)', element.text or "")
            where = f"{Path(frames[-1][0]).name}:{frames[-1][1]}" if frames else ""
            run["failure"] = {"type": element.get("type") or "Failure", "message": element.get("message") or "",
                              "where": where}
            break
    return run


_ABS_PATH = re.compile(r"(?<![\w.])/(?:[\w.+@-]+/)+[\w.+@-]*")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_NUMBER = re.compile(r"(?<![\w])[-+]?\d+(?:\.\d+)?(?![\w])")
_OBJECT = re.compile(r"<([\w.]+) object at 0x#>")


def normalise(text: str) -> str:
    """A failure message with what varies between seeds taken out: paths, addresses, numbers."""
    text = _ABS_PATH.sub("<path>", text)
    text = _HEX.sub("0x#", text)
    text = _OBJECT.sub(r"<\1>", text)
    text = _NUMBER.sub("#", text)
    return re.sub(r"\s+", " ", text).strip()[:240]


def signature(record: dict) -> str:
    """The error signature of a failed test: the first failing simulator run's error if there is one, else the
    first line of pytest's message; normalised, so one bug hit by many seeds reads as one line."""
    if record.get("timeout_s"):
        return f"Timeout: the test ran longer than {record['timeout_s']:g} s"
    for run in record.get("runs", []):
        failure = run.get("failure")
        if failure:
            first = failure["message"].strip().splitlines()[0] if failure["message"].strip() else ""
            where = f" [{failure['where']}]" if failure["where"] else ""
            return normalise(f"{failure['type']}: {first}") + where
    lines = [line for line in (record.get("message") or record.get("text") or "").splitlines() if line.strip()]
    first = lines[0] if lines else record["outcome"]
    return normalise(first)


def failing_cocotb_id(record: dict) -> str | None:
    """The cocotb test to rerun for a failed RTL test: its own id, or that of its first failing run."""
    if record.get("test_id"):
        return record["test_id"]
    for run in record.get("runs", []):
        if run.get("passed") is False or run.get("passed") is None:
            parts = Path(run["dir"]).parts
            if len(parts) >= 3:
                name = re.sub(r"\+.*$", "", parts[-1])
                return f"{parts[-3]}/{parts[-2]}/{name}"
    return None


def rerun_command(record: dict, meta: dict) -> str:
    """One command that reruns exactly this test and seed alone; RTL tests with FST waves (make waves)."""
    make_vars = meta.get("rerun_make_vars", "")
    env = meta.get("rerun_env", "")
    test_id = failing_cocotb_id(record)
    if test_id:
        sim = test_id.split("/", 1)[0]
        return f"make waves TEST='{test_id}' SEED={record['seed']} SIM={sim}" + (f" {make_vars}" if make_vars else "")
    nodeid = without_model_seed_id(record["nodeid"]) if record.get("seed_index") else record["nodeid"]
    prefix = " ".join(part for part in (env, f"SEED={record['seed']}") if part)
    return f"{prefix} {PYTHON} -m pytest -p no:xdist '{nodeid}'"


def waves_path(record: dict) -> str | None:
    test_id = failing_cocotb_id(record)
    if not test_id:
        return None
    sim, paramset, name = test_id.split("/", 2)
    folder = f"build/{sim}/{paramset}/{name}"
    return f"{folder}/dump.fst" if sim == "verilator" else f"{folder}/<toplevel>.fst"


# -- functional coverage ---------------------------------------------------------------------------------------


def read_functional(path: Path) -> dict:
    """{bin name: {"hits", "at_least", "label"}} of one exported file (names without `top.`)."""
    bins = {}
    root = ElementTree.parse(path).getroot()
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in root.iter():
        if "hits" in element.attrib:
            parent = parents.get(element)
            at_least = int(parent.get("at_least", 1)) if parent is not None else 1
            bins[element.get("abs_name").removeprefix("top.")] = {
                "hits": int(element.get("hits")), "at_least": at_least, "label": element.get("bin", "")}
    return bins


def add_functional(total: dict, bins: dict) -> None:
    for name, info in bins.items():
        if name in total:
            total[name]["hits"] += info["hits"]
        else:
            total[name] = dict(info)


def bins_of(functional: dict, covergroup: str) -> dict:
    return {name: info for name, info in functional.items()
            if name == covergroup or name.startswith(covergroup + ".")}


def is_hit(info: dict) -> bool:
    return info["hits"] >= max(info.get("at_least", 1), 1)


# -- collect: one bundle from this run -------------------------------------------------------------------------


def collect(out: Path, meta: dict | None = None) -> dict:
    """Turn this run's JUnit XML and test folders into a bundle in `out`; returns the meta."""
    meta = dict(meta or {})
    meta_file = out / "meta.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text()) | meta
    junit = out / "junit.xml"
    records = read_junit(junit) if junit.is_file() else []
    functional: dict = {}
    coverage_files = []
    for record in records:
        record["runs"] = [read_run(Path(d)) for d in record["run_dirs"]]
        for run in record["runs"]:
            run_dir = Path(run["dir"])
            if not run["passed"]:
                continue
            if (run_dir / FUNCTIONAL_XML).is_file():
                add_functional(functional, read_functional(run_dir / FUNCTIONAL_XML))
            if (run_dir / "coverage.dat").is_file():
                coverage_files.append(run_dir / "coverage.dat")
        if record["outcome"] in ("failed", "error"):
            record["signature"] = signature(record)
            record["rerun"] = rerun_command(record, meta)
            record["waves"] = waves_path(record)
    codecov.merge(coverage_files, out / "coverage.dat")
    meta["coverage_runs"] = len(coverage_files)
    (out / "tests.json").write_text(json.dumps(records, indent=1))
    (out / "functional.json").write_text(json.dumps(functional, indent=1, sort_keys=True))
    meta_file.write_text(json.dumps(meta, indent=1))
    return meta


# -- build: the report from bundles ----------------------------------------------------------------------------


def load_bundle(directory: Path) -> dict:
    directory = Path(directory)
    missing = [name for name in ("tests.json", "meta.json") if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} is not a regress bundle (no {', '.join(missing)}); "
                                "it is the build/report folder of a `make regress` run.")
    functional = directory / "functional.json"
    return {
        "dir": directory,
        "tests": json.loads((directory / "tests.json").read_text()),
        "meta": json.loads((directory / "meta.json").read_text()),
        "functional": json.loads(functional.read_text()) if functional.is_file() else {},
        "coverage": directory / "coverage.dat",
        "junit": directory / "junit.xml",
    }


def merge_junit(paths: list, out: Path) -> None:
    suites = ElementTree.Element("testsuites", name="pytest tests (merged shards)")
    for path in paths:
        if path.is_file():
            for suite in ElementTree.parse(path).getroot().iter("testsuite"):
                suites.append(suite)
    ElementTree.ElementTree(suites).write(out, encoding="utf-8", xml_declaration=True)


def annotate_plan(records: list, functional: dict) -> tuple:
    """(entries, requirements): the testplan with each entry's and requirement's tests and bins, holes first."""
    from .testplan import load_plan, read_spec_ids

    plan = load_plan()
    titles = read_spec_ids()
    entries = []
    for entry in plan:
        tests = [r for r in records if any(_matches(r, pattern) for pattern in entry.tests)]
        counts = Counter(r["outcome"] for r in tests)
        bins = {}
        for group in entry.covergroups:
            bins.update(bins_of(functional, group))
        missing_groups = [g for g in entry.covergroups if not bins_of(functional, g)]
        hit = sum(is_hit(b) for b in bins.values())
        failed = counts["failed"] + counts["error"]
        ran = counts["passed"] + failed + counts["xfailed"]
        if entry.deferred:
            status = "deferred"
        elif failed:
            status = "failing"
        elif not ran:
            status = "not run"
        elif missing_groups or hit < len(bins):
            status = "coverage hole"
        else:
            status = "closed"
        entries.append({
            "id": entry.id, "title": entry.title, "requirements": entry.requirements, "status": status,
            "tests": {"total": len(tests), "passed": counts["passed"], "failed": failed,
                      "skipped": counts["skipped"] + counts["xfailed"]},
            "failed_tests": [r["nodeid"] for r in tests if r["outcome"] in ("failed", "error")][:20],
            "covergroups": entry.covergroups, "missing_covergroups": missing_groups,
            "bins": {"hit": hit, "total": len(bins)},
            "missed_bins": sorted(n for n, b in bins.items() if not is_hit(b)),
            "deferred": entry.deferred,
        })
    order = {"failing": 0, "not run": 1, "coverage hole": 2, "closed": 3, "deferred": 4}
    entries.sort(key=lambda e: order[e["status"]])  # stable: plan order within a status
    requirements = {}
    for entry in entries:
        for rid in entry["requirements"]:
            req = requirements.setdefault(rid, {"id": rid, "title": titles.get(rid, ""), "entries": [],
                                                "statuses": [], "tests": Counter(), "bins": [0, 0]})
            req["entries"].append(entry["id"])
            req["statuses"].append(entry["status"])
            req["tests"].update(entry["tests"])
            req["bins"][0] += entry["bins"]["hit"]
            req["bins"][1] += entry["bins"]["total"]
    for req in requirements.values():
        active = [s for s in req.pop("statuses") if s != "deferred"]  # deferred only when every entry is
        req["status"] = min(active, key=order.get) if active else "deferred"
        req["tests"] = dict(req["tests"])
    reqs = sorted(requirements.values(), key=lambda r: (order[r["status"]], _req_key(r["id"])))
    return entries, reqs


def _req_key(rid: str) -> tuple:
    prefix = re.match(r"[A-Z-]+", rid).group(0) if re.match(r"[A-Z-]+", rid) else rid
    numbers = tuple(int(n) for n in re.findall(r"\d+", rid))
    return ({"SUS-": 0, "S": 1, "R": 2, "B": 3}.get(prefix, 4), numbers)


def _matches(record: dict, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(record["nodeid"], f"*{pattern}*")


def group_failures(records: list) -> list:
    groups: dict = {}
    for record in records:
        if record["outcome"] in ("failed", "error"):
            groups.setdefault(record.get("signature") or signature(record), []).append(record)
    return sorted(({"signature": s, "count": len(rs), "tests": rs} for s, rs in groups.items()),
                  key=lambda g: -g["count"])


def build(bundle_dirs: list, out: Path, thresholds_file: Path = THRESHOLDS_FILE) -> dict:
    """Write the report of one or more bundles into `out`; returns the summary."""
    bundles = [load_bundle(Path(d)) for d in bundle_dirs]
    out.mkdir(parents=True, exist_ok=True)
    records = [r for b in bundles for r in b["tests"]]
    functional: dict = {}
    for bundle in bundles:
        add_functional(functional, bundle["functional"])
    merged_dat = out / "coverage.dat"
    dats = [b["coverage"] for b in bundles if b["coverage"].is_file()]
    if len(bundles) > 1 or not merged_dat.is_file() or merged_dat.resolve() not in [d.resolve() for d in dats]:
        # a merge: the output folder becomes a bundle of its own (so merged reports can be merged again)
        codecov.merge(dats, merged_dat)
        merge_junit([b["junit"] for b in bundles], out / "junit.xml")
        (out / "functional.json").write_text(json.dumps(functional, indent=1, sort_keys=True))
        (out / "tests.json").write_text(json.dumps(records, indent=1))
        metas = [b["meta"] for b in bundles]
        (out / "meta.json").write_text(json.dumps({
            "kind": "merged", "merged_from": [str(b["dir"]) for b in bundles],
            "seed": metas[0].get("seed") if len({m.get("seed") for m in metas}) == 1 else None,
            "switches": sorted({s for m in metas for s in m.get("switches", [])}),
            "wall_s": sum(m.get("wall_s", 0.0) for m in metas),
            "hypothesis_profile": metas[0].get("hypothesis_profile", "ci"),
            "started": min((m.get("started", "") for m in metas), default=""), "host": "merged",
            "workers": sum(m.get("workers", 0) or 0 for m in metas)}, indent=1))
    points = codecov.read_dat(merged_dat) if merged_dat.is_file() else {}
    exclusions = codecov.read_exclusions()
    code = codecov.figures(points, exclusions)
    codecov.write_lcov(points, exclusions, out / "coverage.info")
    line_hit, line_found, line_files = codecov.read_lcov_lines(out / "coverage.info")
    genhtml_summary = codecov.genhtml(out / "coverage.info", out / "html", "virtio SUSPEND engine: rtl/")
    entries, requirements = annotate_plan(records, functional)
    metas = [b["meta"] for b in bundles]

    def figure(hit, total):
        return {"hit": hit, "total": total, "percent": round(100.0 * hit / total, 2) if total else None}

    coverage = {"functional": figure(sum(is_hit(b) for b in functional.values()), len(functional)),
                "line": figure(line_hit, line_found)}
    for kind in CODE_KINDS[1:]:
        coverage[kind] = figure(*code.kinds.get(kind, (0, 0)))
    coverage["line_blocks"] = figure(*code.kinds.get("line", (0, 0)))
    counts = Counter(r["outcome"] for r in records)
    kinds = {}
    for record in records:
        tally = kinds.setdefault(record["kind"], Counter())
        tally["tests"] += 1
        tally[record["outcome"]] += 1
        tally["time"] += record["time"]
    for kind, tally in kinds.items():
        seeds = {r["seed"] for r in records if r["kind"] == kind and r["seed"] is not None}
        kinds[kind] = dict(tally) | {"seeds": len(seeds)}
    groups = group_failures(records)
    thresholds = load_thresholds(thresholds_file)
    summary = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "bundles": [str(b["dir"]) for b in bundles],
        "meta": metas,
        "seeds": sorted({m.get("seed") for m in metas if m.get("seed") is not None}),
        "wall_s": sum(m.get("wall_s", 0.0) for m in metas),
        "counts": {"tests": len(records), **dict(counts)},
        "kinds": kinds,
        "coverage": coverage,
        "thresholds": thresholds,
        "code_files": {f: {k: figure(*v) for k, v in kinds_.items()} | {"lcov_line": figure(*line_files.get(f, (0, 0)))}
                       for f, kinds_ in sorted(code.files.items())},
        "code_holes": [{"kind": p.kind, "file": p.file, "line": p.line, "comment": p.comment} for p in code.holes],
        "code_excluded": code.excluded,
        "functional_groups": _functional_groups(functional),
        "functional_holes": sorted(n for n, b in functional.items() if not is_hit(b)),
        "unplanned_covergroups": sorted({n.split(".", 1)[0] for n in functional}
                                        - {g.split(".", 1)[0] for e in entries for g in e["covergroups"]}),
        "plan": entries,
        "requirements": requirements,
        "failures": [{"signature": g["signature"], "count": g["count"],
                      "tests": [{k: r.get(k) for k in ("nodeid", "test_id", "seed", "seed_index", "rerun", "waves",
                                                       "kind")} for r in g["tests"]]} for g in groups],
        "slowest": [{"nodeid": r["nodeid"], "time": r["time"], "outcome": r["outcome"], "seed": r["seed"]}
                    for r in sorted(records, key=lambda r: -r["time"])[:SLOWEST]],
        "genhtml": genhtml_summary,
        "html_coverage": "html/index.html" if genhtml_summary else None,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    text = render_text(summary)
    (out / "report.txt").write_text(text)
    from .report_html import render_html

    (out / "index.html").write_text(render_html(summary, records, functional))
    return summary


def _functional_groups(functional: dict) -> dict:
    groups: dict = {}
    for name, info in functional.items():
        point = name.rsplit(".", 1)[0]
        tally = groups.setdefault(point, {"hit": 0, "total": 0, "hits": 0})
        tally["hit"] += is_hit(info)
        tally["total"] += 1
        tally["hits"] += info["hits"]
    return dict(sorted(groups.items()))


# -- thresholds and coverage-check -----------------------------------------------------------------------------


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict:
    import yaml

    if not path.is_file():
        return {"floors": {}, "goals": {}}
    data = yaml.safe_load(path.read_text()) or {}
    return {"floors": dict(data.get("floors") or {}), "goals": dict(data.get("goals") or {})}


def check(summary: dict, thresholds: dict) -> list:
    """Sentences naming every coverage figure below its floor; empty when all are met."""
    problems = []
    for kind, floor in thresholds.get("floors", {}).items():
        if floor is None:
            continue
        figure = summary["coverage"].get(kind)
        if figure is None or figure["percent"] is None:
            problems.append(f"{kind} coverage: no data in the report, floor {floor}%")
        elif figure["percent"] + 1e-9 < float(floor):
            problems.append(f"{kind} coverage {figure['percent']:.2f}% ({figure['hit']}/{figure['total']}) is below "
                            f"its floor {float(floor):.2f}%")
    return problems


# -- text ------------------------------------------------------------------------------------------------------


def _pct(figure: dict | None) -> str:
    if not figure or figure.get("percent") is None:
        return "   n/a"
    return f"{figure['percent']:6.2f}%"


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render_text(summary: dict, failures_per_signature: int | None = None, report_dir: str = "build/report") -> str:
    out = []
    meta = summary["meta"]
    counts = summary["counts"]
    failed = counts.get("failed", 0) + counts.get("error", 0)
    seeds = ", ".join(str(s) for s in summary["seeds"]) or "unrecorded"
    shards = f", {len(meta)} bundles merged" if len(meta) > 1 else ""
    wall = f"{_hms(summary['wall_s'])} wall" + (" (summed over the bundles)" if len(meta) > 1 else "")
    out.append(f"== regression {'FAILED' if failed else 'passed'}: {counts['tests']} tests, {failed} failed, "
               f"session seed {seeds}{shards}, {wall}")
    switches = sorted({s for m in meta for s in m.get("switches", [])})
    if switches:
        out.append("   switches: " + ", ".join(switches))
    out.append("")
    out.append(f"   {'tests':<10}{'total':>7}{'passed':>8}{'failed':>8}{'skipped':>9}{'seeds':>7}{'time':>10}")
    for kind, tally in sorted(summary["kinds"].items()):
        failed_k = tally.get("failed", 0) + tally.get("error", 0)
        skipped = tally.get("skipped", 0) + tally.get("xfailed", 0)
        out.append(f"   {kind:<10}{tally['tests']:>7}{tally.get('passed', 0):>8}{failed_k:>8}{skipped:>9}"
                   f"{tally['seeds']:>7}{_hms(tally['time']):>10}")
    out.append("")
    floors, goals = summary["thresholds"].get("floors", {}), summary["thresholds"].get("goals", {})
    out.append(f"   {'coverage':<22}{'reached':>9}{'hit/total':>14}{'floor':>9}{'goal':>8}")
    labels = {"functional": "functional bins", "line": "line (rtl/, lcov)", "branch": "branch (rtl/)",
              "toggle": "toggle (rtl/)", "expr": "expression (rtl/)", "user": "user (rtl/)"}
    for kind, label in labels.items():
        figure = summary["coverage"].get(kind)
        if not figure or (kind in ("expr", "user") and not figure["total"]):
            continue
        floor = f"{floors[kind]}%" if floors.get(kind) is not None else "-"
        goal = f"{goals[kind]}%" if goals.get(kind) is not None else "-"
        out.append(f"   {label:<22}{_pct(figure):>9}{figure['hit']:>7}/{figure['total']:<6}{floor:>9}{goal:>8}")
    excluded = sum(summary["code_excluded"].values())
    if excluded:
        out.append(f"   ({excluded} code coverage points excluded by docs/coverage-exclusions)")
    holes = {name: g for name, g in summary["functional_groups"].items() if g["hit"] < g["total"]}
    if holes:
        missed = sum(g["total"] - g["hit"] for g in holes.values())
        out.append(f"   functional holes: {missed} bins in {len(holes)} coverpoints")
        for name, group in sorted(holes.items(), key=lambda kv: kv[1]["hit"] - kv[1]["total"])[:8]:
            out.append(f"     {name:<40}{group['hit']:>5}/{group['total']:<5} bins hit")
    unplanned = summary.get("unplanned_covergroups", [])
    if unplanned:
        out.append(f"   covergroups no testplan entry names: {', '.join(unplanned)}")
    out.append("")
    plan = summary["plan"]
    status_counts = Counter(e["status"] for e in plan)
    out.append("   testplan: " + ", ".join(f"{status_counts[s]} {s}" for s in
                                           ("failing", "not run", "coverage hole", "closed", "deferred")
                                           if status_counts[s]) + f" (of {len(plan)} entries)")
    for entry in [e for e in plan if e["status"] in ("failing", "not run", "coverage hole")]:
        tests = entry["tests"]
        bins = entry["bins"]
        detail = f"tests {tests['passed']}/{tests['total']} passed"
        if bins["total"] or entry["missing_covergroups"]:
            detail += f", bins {bins['hit']}/{bins['total']}"
        if entry["missing_covergroups"]:
            detail += f", no samples of {', '.join(entry['missing_covergroups'])}"
        out.append(f"     {entry['status']:<14}{entry['id']:<36} {' '.join(entry['requirements'])}: {detail}")
        if entry["missed_bins"]:
            shown = entry["missed_bins"][:5]
            more = len(entry["missed_bins"]) - len(shown)
            out.append(f"{'':19}missed: {', '.join(shown)}" + (f" (+{more} more)" if more else ""))
    out.append("")
    holes = summary["code_holes"]
    if holes:
        by_kind = Counter(h["kind"] for h in holes)
        by_file = Counter(h["file"] for h in holes)
        out.append("   largest code coverage holes: " + ", ".join(f"{n} {k}" for k, n in by_kind.most_common()))
        for file, n in by_file.most_common(5):
            kinds = Counter(h["kind"] for h in holes if h["file"] == file)
            out.append(f"     {file:<34}{n:>5} points never hit ({', '.join(f'{c} {k}' for k, c in kinds.most_common())})")
        out.append("")
    out.append(f"   slowest tests")
    for test in summary["slowest"][:10]:
        out.append(f"     {test['time']:8.1f} s  {test['outcome']:<7} {test['nodeid']}")
    out.append("")
    if summary["failures"]:
        total = sum(g["count"] for g in summary["failures"])
        out.append(f"   failures: {total} in {len(summary['failures'])} signature(s)")
        for number, group in enumerate(summary["failures"], 1):
            out.append(f"   [{number}] {group['count']} x {group['signature']}")
            tests = group["tests"]
            limit = failures_per_signature or len(tests)
            for test in tests[:limit]:
                name = test["test_id"] or test["nodeid"]
                index = f" (seed index {test['seed_index']})" if test.get("seed_index") else ""
                out.append(f"       {name} seed {test['seed']}{index}")
                out.append(f"         rerun: {test['rerun']}")
            if len(tests) > limit:
                out.append(f"       ... {len(tests) - limit} more with this signature: {report_dir}/report.txt")
        out.append("")
    out.append(f"   report: {report_dir}/index.html (text: {report_dir}/report.txt"
               + (f", code coverage: {report_dir}/html/index.html)" if summary.get("html_coverage") else ")"))
    return "\n".join(out) + "\n"


# -- command line ----------------------------------------------------------------------------------------------


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m virtio_cosim.report", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_collect = sub.add_parser("collect", help="turn this run's JUnit XML and test folders into a bundle")
    p_collect.add_argument("--out", type=Path, default=REPORT_DIR)
    p_build = sub.add_parser("build", help="write the report of one or more bundles")
    p_build.add_argument("bundles", nargs="+", type=Path)
    p_build.add_argument("--out", type=Path, default=REPORT_DIR)
    p_check = sub.add_parser("check", help="fail when coverage is below the floors of the thresholds file")
    p_check.add_argument("--report", type=Path, default=REPORT_DIR)
    p_check.add_argument("--thresholds", type=Path, default=THRESHOLDS_FILE)
    p_summary = sub.add_parser("summary", help="print the text summary of a report")
    p_summary.add_argument("--report", type=Path, default=REPORT_DIR)
    args = parser.parse_args(argv)

    if args.command == "collect":
        collect(args.out)
        return 0
    if args.command == "build":
        try:
            summary = build(args.bundles, args.out)
        except FileNotFoundError as error:
            print(f"report: {error}", file=sys.stderr)
            return 2
        sys.stdout.write(render_text(summary, FAILURES_PER_SIGNATURE, _display(args.out)))
        return 0
    summary_file = args.report / "summary.json"
    if not summary_file.is_file():
        print(f"{summary_file} does not exist: run `make regress` (or `make report-merge`) first.", file=sys.stderr)
        return 2
    summary = json.loads(summary_file.read_text())
    if args.command == "summary":
        sys.stdout.write(render_text(summary, FAILURES_PER_SIGNATURE, _display(args.report)))
        return 0
    thresholds = load_thresholds(args.thresholds)
    problems = check(summary, thresholds)
    for kind, floor in thresholds["floors"].items():
        figure = summary["coverage"].get(kind) or {}
        goal = thresholds["goals"].get(kind)
        print(f"coverage-check: {kind:<11}{_pct(figure):>9}  floor {floor}%"
              + (f", goal {goal}%" if goal is not None else ""))
    if problems:
        print("coverage-check FAILED (" + _display(args.report) + "/summary.json against "
              + _display(args.thresholds) + "):\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("coverage-check passed")
    return 0


def _display(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


if __name__ == "__main__":
    sys.exit(main())
