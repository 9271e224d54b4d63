#!/usr/bin/env python3
"""Print the closing summary of a regression from its JUnit XML: the seed, the report path, and the counts.

    scripts/junit_summary.py build/report/junit.xml
"""

import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path


def outcome(case: ElementTree.Element) -> str:
    for tag, name in (("failure", "failed"), ("error", "failed"), ("skipped", "skipped")):
        if case.find(tag) is not None:
            return name
    return "passed"


def main(report: Path) -> int:
    if not report.is_file():
        print(f"junit_summary: {report} does not exist (pytest did not get to write it).", file=sys.stderr)
        return 1
    root = ElementTree.parse(report).getroot()
    cases = list(root.iter("testcase"))
    counts = Counter(outcome(case) for case in cases)
    seeds = {prop.get("value") for prop in root.iter("property") if prop.get("name") == "seed"}
    print(f"regression report: {report}, seed {', '.join(sorted(seeds)) or 'unrecorded'}")
    for case in cases:
        if outcome(case) == "failed":
            print(f"  FAILED {case.get('classname')}::{case.get('name')}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
