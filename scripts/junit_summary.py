#!/usr/bin/env python3
"""Print the failures of a JUnit XML file grouped by error signature, each with its seed and the command that
reruns it alone (RTL tests with waves), then the counts. The full report comes from `make regress`
(virtio_cosim.report, docs/regression.md); this is for a JUnit file on its own, e.g. one a CI run kept:

    .venv/bin/python scripts/junit_summary.py build/report/junit.xml
"""

import sys
from collections import Counter
from pathlib import Path

from virtio_cosim.report import group_failures, read_junit, read_run, rerun_command, signature


def main(report: Path) -> int:
    if not report.is_file():
        print(f"junit_summary: {report} does not exist (pytest did not get to write it).", file=sys.stderr)
        return 1
    records = read_junit(report)
    for record in records:
        record["runs"] = [read_run(Path(d)) for d in record["run_dirs"]]
        if record["outcome"] in ("failed", "error"):
            record["signature"] = signature(record)
            record["rerun"] = rerun_command(record, {})
    seeds = sorted({str(r["seed"]) for r in records if r["seed"] is not None})
    print(f"regression report: {report}, seed {', '.join(seeds) or 'unrecorded'}")
    for number, group in enumerate(group_failures(records), 1):
        print(f"[{number}] {group['count']} x {group['signature']}")
        for record in group["tests"]:
            print(f"    {record['test_id'] or record['nodeid']} seed {record['seed']}\n      rerun: {record['rerun']}")
    counts = Counter(r["outcome"] for r in records)
    print(f"{counts['passed']} passed, {counts['failed'] + counts['error']} failed, "
          f"{counts['skipped'] + counts['xfailed']} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
