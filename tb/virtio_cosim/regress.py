"""`make regress` and `make nightly`: pre-build, parallel run, coverage merge, report (docs/regression.md).

    python -m virtio_cosim.regress run [--nightly] [--sim verilator|icarus|all] [--seeds N] [--shard i/N]
                                       [--jobs auto|N] [--no-coverage] [--plant-failure] [--timeout S] [-k EXPR]
    python -m virtio_cosim.regress plan [same selection options]     the selection and its estimated time only
    python -m virtio_cosim.regress durations [--report DIR]          refresh docs/test-durations.json

`run`:
 1. the session seed: env SEED, else the clock; printed first;
 2. pre-build: pytest in one process with --regress-build-only, so every simulator build (one per simulator,
    parameter set, top level and coverage/waves variant) is compiled once, serially, with ccache, before the
    parallel run (whose workers then find it built); it also writes the selection with estimates (plan.json);
 3. the run: pytest -n JOBS with the regress plugin (progress lines, per-test timeout, properties for the report),
    JUnit XML into the report folder;
 4. the bundle (virtio_cosim.report.collect) and the report (virtio_cosim.report.build), whose text is printed.
The exit status is pytest's: 0 only when every selected test passed.

Switches: regress runs Verilator with code coverage (COVERAGE=1) and one seed per test; --nightly runs both
simulators, SEEDS=50 and the Hypothesis profile `nightly`, and compares the estimate with the 2-hour budget on 2
cores. --plant-failure (make regress PLANT_FAILURE=1) exports ISR_TB_FAULT=1, the ISR testbench's wrong reference
model, so failures appear on purpose; the rerun commands then carry PLANT_FAILURE=1, which `make waves` honours.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .paths import REPO_ROOT
from .report import REPORT_DIR, _hms, build, collect, render_text, FAILURES_PER_SIGNATURE
from .regress_shard import DURATIONS_FILE, durations_from, parse_shard

NIGHTLY_SEEDS = 50
NIGHTLY_BUDGET_S = 2 * 3600
BUDGET_CORES = 2
BUDGET_MARGIN = 1.15  # estimates come from earlier runs; keep 15 % in hand before recommending a shard count
TEST_TIMEOUT_S = 900
PLANTED_FAULT_ENV = {"ISR_TB_FAULT": "1"}
BUNDLE_FILES = ("junit.xml", "tests.json", "functional.json", "coverage.dat", "coverage.info", "summary.json",
                "report.txt", "index.html", "meta.json", "plan.json")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=REPORT_DIR, help="report folder (default build/report)")
    parser.add_argument("--nightly", action="store_true", help="SEEDS=50, both simulators, Hypothesis nightly")
    parser.add_argument("--sim", choices=("verilator", "icarus", "all"), default=None,
                        help="RTL tests of this simulator (regress: verilator, nightly: all)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per random test (nightly: 50)")
    parser.add_argument("--shard", default=None, help="i/N: run shard i of N")
    parser.add_argument("--jobs", default="auto", help="pytest-xdist workers: auto, N, or 0 for one process")
    parser.add_argument("--no-coverage", dest="coverage", action="store_false", help="no Verilator code coverage")
    parser.add_argument("--plant-failure", action="store_true", help="plant a testbench fault (ISR_TB_FAULT=1)")
    parser.add_argument("--timeout", type=float, default=TEST_TIMEOUT_S, help="per-test limit in seconds, 0: none")
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")


def _environment(args: argparse.Namespace, seed: int) -> tuple[dict, list]:
    env = dict(os.environ)
    switches = []
    env["SEED"] = str(seed)
    env["PYTHONUNBUFFERED"] = "1"
    env["COVERAGE"] = "1" if args.coverage else "0"
    sim = args.sim or ("all" if args.nightly else "verilator")
    if sim == "all":
        env.pop("SIM", None)
    else:
        env["SIM"] = sim
    switches.append(f"SIM={sim}")
    seeds = args.seeds or (NIGHTLY_SEEDS if args.nightly else None)
    if seeds:
        env["SEEDS"] = str(seeds)
        switches.append(f"SEEDS={seeds}")
    else:
        env.pop("SEEDS", None)
    if args.nightly:
        env["HYPOTHESIS_PROFILE"] = "nightly"
    if env.get("HYPOTHESIS_PROFILE"):
        switches.append(f"HYPOTHESIS_PROFILE={env['HYPOTHESIS_PROFILE']}")
    if args.plant_failure:
        env.update(PLANTED_FAULT_ENV)
        switches.append("PLANT_FAILURE=1")
    else:
        for name in PLANTED_FAULT_ENV:
            env.pop(name, None)
    if args.shard:
        switches.append(f"SHARD={args.shard}")
    if args.keyword:
        switches.append(f"TEST={args.keyword}")
    if not args.coverage:
        switches.append("COVERAGE=0")
    env.pop("WAVES", None)  # waves are for `make waves`, one test at a time
    return env, switches


def _selection_args(args: argparse.Namespace) -> list:
    selection = []
    if args.shard:
        selection += ["--regress-shard", args.shard]
    if args.keyword:
        selection += ["-k", args.keyword]
    return selection


def _pytest(*args: str) -> list:
    return [sys.executable, "-m", "pytest", "-p", "virtio_cosim.regress_plugin", *args]


def _workers(jobs: str) -> int:
    if jobs == "auto":
        return os.cpu_count() or 1
    return max(int(jobs), 1)


def estimate_lines(plan: dict, workers: int, nightly: bool) -> list:
    """The selection's size and estimated running time, and for a whole nightly the shards its budget needs."""
    tests = plan["tests"]
    serial = sum(t["estimate_s"] for t in tests)
    rtl = sum(1 for t in tests if t["sim"])
    lines = [f"selected {len(tests)} tests ({rtl} RTL), estimated {_hms(serial)} serial, "
             f"~{_hms(serial / workers)} on {workers} worker(s) (docs/test-durations.json)"]
    if nightly and not plan.get("shard"):
        on_budget_cores = serial / BUDGET_CORES
        shards = max(1, math.ceil(on_budget_cores * BUDGET_MARGIN / NIGHTLY_BUDGET_S))
        if shards > 1:
            lines.append(f"~{_hms(on_budget_cores)} on {BUDGET_CORES} cores exceeds the {_hms(NIGHTLY_BUDGET_S)} "
                         f"budget (with a 15 % margin): run it as {shards} shards of ~"
                         f"{_hms(on_budget_cores / shards)}, make nightly SHARD=i/{shards} for i in 1..{shards} "
                         f"(one machine each), then make report-merge DIRS=...")
        else:
            lines.append(f"~{_hms(on_budget_cores)} on {BUDGET_CORES} cores, within the {_hms(NIGHTLY_BUDGET_S)} "
                         "budget")
    return lines


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.shard:
        parse_shard(args.shard)
    out.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "html", ignore_errors=True)
    seed = int(os.environ.get("SEED") or time.time())
    env, switches = _environment(args, seed)
    workers = 1 if args.jobs == "0" else _workers(args.jobs)
    kind = "nightly" if args.nightly else "regress"
    print(f"{kind}: session seed {seed} (rerun this selection with SEED={seed}); {' '.join(switches)}", flush=True)

    started = time.time()
    plan_file = out / "plan.json"
    print(f"{kind}: pre-build (one process, every simulator build once, ccache)", flush=True)
    prebuild = subprocess.run(_pytest("-p", "no:xdist", "-q", "--no-header", "--tb=line", "-o",
                                      "console_output_style=classic", "--regress-build-only",
                                      "--regress-plan", str(plan_file), *_selection_args(args)),
                              cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    built = [line for line in prebuild.stdout.splitlines() if line.startswith("built ")]
    for line in built:
        print(f"  {line}")
    if prebuild.returncode not in (0, 5):
        tail = "\n".join(prebuild.stdout.splitlines()[-25:])
        print(f"{kind}: the pre-build reported problems (the run reports them per test):\n{tail}", flush=True)
    prebuild_s = time.time() - started
    print(f"{kind}: pre-build done in {prebuild_s:.1f} s ({len(built)} builds)", flush=True)
    plan = json.loads(plan_file.read_text()) if plan_file.is_file() else {"tests": []}
    for line in estimate_lines(plan, workers, args.nightly):
        print(f"{kind}: {line}", flush=True)

    command = _pytest("--regress-progress", "--regress-timeout", str(args.timeout), "-o",
                      "console_output_style=classic", "--tb=short", "-rfE", f"--junitxml={out / 'junit.xml'}",
                      *_selection_args(args))
    if args.jobs != "0":
        command += ["-n", args.jobs]
    run_started = time.time()
    status = subprocess.run(command, cwd=REPO_ROOT, env=env).returncode
    finished = time.time()

    rerun_env = [f"{k}={v}" for k, v in PLANTED_FAULT_ENV.items()] if args.plant_failure else []
    if env.get("HYPOTHESIS_PROFILE"):
        rerun_env.append(f"HYPOTHESIS_PROFILE={env['HYPOTHESIS_PROFILE']}")
    meta = {
        "kind": kind, "seed": seed, "switches": switches, "shard": args.shard, "jobs": args.jobs,
        "workers": workers, "pytest_status": status, "started": time.strftime("%Y-%m-%d %H:%M:%S",
                                                                             time.localtime(started)),
        "wall_s": round(finished - started, 1), "prebuild_s": round(prebuild_s, 1),
        "run_s": round(finished - run_started, 1), "hypothesis_profile": env.get("HYPOTHESIS_PROFILE", "ci"),
        "host": os.uname().nodename, "cpus": os.cpu_count(),
        "rerun_make_vars": "PLANT_FAILURE=1" if args.plant_failure else "",
        "rerun_env": " ".join(rerun_env),
    }
    print(f"\n{kind}: pytest exit status {status}; merging coverage and writing the report", flush=True)
    try:
        collect(out, meta)
        summary = build([out], out)
    except Exception as error:  # the tests' verdict stands; the report's problem is printed, and fails the run
        import traceback

        traceback.print_exc()
        print(f"{kind}: the report could not be written: {error}", file=sys.stderr)
        return status or 3
    print()
    sys.stdout.write(render_text(summary, FAILURES_PER_SIGNATURE, _display(out)))
    return status


def plan(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    env, switches = _environment(args, int(os.environ.get("SEED") or 1))
    plan_file = args.out / "plan.json"
    result = subprocess.run(_pytest("-p", "no:xdist", "-q", "--collect-only", "--regress-plan", str(plan_file),
                                    *_selection_args(args)), cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if not plan_file.is_file():
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        return result.returncode or 1
    print(" ".join(switches))
    for line in estimate_lines(json.loads(plan_file.read_text()), _workers(args.jobs) if args.jobs != "0" else 1,
                               args.nightly):
        print(line)
    return 0


def durations(report: Path, out: Path) -> int:
    tests_file = report / "tests.json"
    meta_file = report / "meta.json"
    if not tests_file.is_file():
        print(f"{tests_file} does not exist: run `make regress` first.", file=sys.stderr)
        return 2
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    profile = meta.get("hypothesis_profile", "ci")
    data = json.loads(out.read_text()) if out.is_file() else {}
    data["comment"] = ("Test durations (seconds) per Hypothesis profile, for shard balancing and nightly sizing; "
                       "refresh with `make durations` after a full regress or nightly (docs/regression.md).")
    section = durations_from(json.loads(tests_file.read_text()))
    old = data.setdefault("profiles", {}).get(profile, {})
    if meta.get("shard") and old:  # a shard measured some tests: keep the others' figures
        section["tests"] = old.get("tests", {}) | section["tests"]
        section["files"] = old.get("files", {}) | section["files"]
    data["profiles"][profile] = section | {
        "measured": f"{meta.get('started', '?')} on {meta.get('host', '?')}, {meta.get('workers', '?')} workers, "
                    f"{' '.join(meta.get('switches', []))}"}
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    section = data["profiles"][profile]
    print(f"{_display(out)}: profile {profile}, {len(section['tests'])} tests, {len(section['files'])} files")
    return 0


def _display(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m virtio_cosim.regress", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _arguments(sub.add_parser("run", help="pre-build, run, merge coverage, report"))
    _arguments(sub.add_parser("plan", help="the selection and its estimated time"))
    p_durations = sub.add_parser("durations", help="refresh docs/test-durations.json from a report")
    p_durations.add_argument("--report", type=Path, default=REPORT_DIR)
    p_durations.add_argument("--out", type=Path, default=DURATIONS_FILE)
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run(args)
        if args.command == "plan":
            return plan(args)
        return durations(args.report, args.out)
    except ValueError as error:
        print(f"regress: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
