#!/usr/bin/env python3
"""Extract the requirement IDs of SPEC.md into docs/spec-ids.txt, so the testplan can be checked without it.

IDs (DESIGN.md "Shared conventions"): SUS-01..SUS-25, S<chapter>.<section> for chapters 2 to 5, R8.<n> for the
rules of chapter 8, B<n> for the items of Appendix B.  Usage: scripts/spec_ids.py [SPEC.md] [--check]
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT.parent / "shared" / "spec" / "SPEC.md"
IDS_FILE = ROOT / "docs" / "spec-ids.txt"
HEADER = "# Requirement IDs of SPEC.md with one-line titles; regenerate with scripts/spec_ids.py\n"


def extract(spec_text: str) -> list:
    """[(id, title)] in document order."""
    ids = []
    in_appendix_b = False
    for line in spec_text.splitlines():
        if line.startswith("## "):
            in_appendix_b = line.startswith("## Appendix B")
        if m := re.match(r"^### (SUS-\d\d) — (.+)$", line):
            ids.append((m[1], m[2]))
        elif m := re.match(r"^### ([2-5])\.(\d+) (.+)$", line):
            ids.append((f"S{m[1]}.{m[2]}", m[3]))
        elif m := re.match(r"^### 8\.(\d+) (.+)$", line):
            ids.append((f"R8.{m[1]}", m[2]))
        elif in_appendix_b and (m := re.match(r"^(\d+)\. (.+)$", line)):
            ids.append((f"B{m[1]}", _first_clause(m[2])))
    return ids


def _first_clause(text: str) -> str:
    clause = re.split(r"[;:]", text, maxsplit=1)[0].rstrip(".")
    return clause if len(clause) <= 100 else clause[:97] + "..."


def render(ids: list) -> str:
    return HEADER + "".join(f"{rid}\t{title.replace(chr(96), '')}\n" for rid, title in ids)


def main(argv: list) -> int:
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    spec = Path(paths[0]) if paths else DEFAULT_SPEC
    if not spec.is_file():
        print(f"spec_ids: {spec} not found; pass the path of SPEC.md", file=sys.stderr)
        return 2
    text = render(extract(spec.read_text()))
    if check:
        if IDS_FILE.read_text() != text:
            print(f"spec_ids: {IDS_FILE} is out of date; run scripts/spec_ids.py", file=sys.stderr)
            return 1
        return 0
    IDS_FILE.write_text(text)
    print(f"spec_ids: wrote {len(text.splitlines()) - 1} IDs to {IDS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
