#!/usr/bin/env python3
"""Write rtl/virtio_pkg.sv from virtio_golden.constants.SV_EXPORT.

The .sv file is committed and nothing runs this at build time; run it after changing the Python constants
(`.venv/bin/python scripts/gen_virtio_pkg.py`). tests/rtl/test_constants_sv.py proves the two agree.
"""

import sys
from pathlib import Path

from virtio_cosim.sv_package import compare, parse_localparams
from virtio_golden.constants import SV_EXPORT

OUTPUT = Path(__file__).resolve().parents[1] / "rtl" / "virtio_pkg.sv"

# Sections of the package: (name prefixes ending in _ or exact names, heading, print in hex).
SECTIONS = [
    (("S_",), "device_status bits (SPEC 2.1, SUS-01)", True),
    (("F_",), "feature bit numbers (SPEC 3.2)", False),
    (("VIRTQ_",), "descriptor and ring flags (SPEC 4.2)", True),
    (("BAR_",), "one AXI4-Lite BAR (rule 8.7)", True),
    (("CC_",), "common configuration offsets (SPEC 5.1)", True),
    (("ISR_",), "ISR bits (SPEC 5.1)", True),
    (("DEFAULT_",), "parameter defaults (rule 8.8)", False),
    (("DESC_SIZE", "USED_ELEM_SIZE", "QUEUE_SIZE_LIMIT"), "ring layout (SPEC 4.1, 4.2)", False),
    (("NO_VECTOR", "NOTIFY_OFF_MULTIPLIER", "COMMON_CFG_LEN", "COMMON_CFG_LEN_VQ_STATE"), "PCI transport", True),
    (("ST_",), "engine states (rule 8.4)", False),
    (("MODE_",), "SUSPEND_MODE values (rule 8.8)", False),
    (("WCLASS_",), "device_status write classes (rule 8.4)", False),
]

# Defaults that follow another default (DESIGN "Top-level contract"); written as expressions to show it.
DERIVED = {
    "DEFAULT_MAX_CHAIN_LEN": "DEFAULT_QUEUE_SIZE_MAX",
    "DEFAULT_MSIX_VECTORS": "DEFAULT_NUM_QUEUES + 1",
}


def _section_of(name: str) -> int:
    for index, (keys, _, _) in enumerate(SECTIONS):
        if name in keys or any(key.endswith("_") and name.startswith(key) for key in keys):
            return index
    raise SystemExit(f"gen_virtio_pkg: {name} belongs to no section; add it to SECTIONS.")


def _declaration(name: str, value: int, in_hex: bool, width: int) -> str:
    if value >= 1 << 31:
        return f"    localparam logic [63:0] {name:<{width}} = 64'h{value >> 32:08x}_{value & 0xFFFF_FFFF:08x};"
    literal = DERIVED.get(name) or (f"'h{value:x}" if in_hex else str(value))
    return f"    localparam int          {name:<{width}} = {literal};"


def render() -> str:
    width = max(len(name) for name in SV_EXPORT)
    lines = [
        "`default_nettype none",
        "// Constants shared with the golden model (virtio_golden.constants.SV_EXPORT): same names, same values.",
        "// Written by scripts/gen_virtio_pkg.py; tests/rtl/test_constants_sv.py proves the two agree.",
        "// Refer to the items as virtio_pkg::NAME (Yosys rejects `import virtio_pkg::*`).",
        "// Not every module uses every constant, since the package mirrors the whole Python set:",
        "/* verilator lint_off UNUSEDPARAM */",
        "package virtio_pkg;",
    ]
    sections = [[] for _ in SECTIONS]
    for name in SV_EXPORT:
        sections[_section_of(name)].append(name)
    for (_, heading, in_hex), names in zip(SECTIONS, sections):
        lines += ["", f"    // {heading}"]
        lines += [_declaration(name, SV_EXPORT[name], in_hex, width) for name in names]
    lines += ["", "endpackage", "/* verilator lint_on UNUSEDPARAM */", "`default_nettype wire", ""]
    return "\n".join(lines)


def main() -> int:
    text = render()
    problems = compare(parse_localparams(text), SV_EXPORT)
    if problems:
        print("gen_virtio_pkg: the rendered package disagrees with SV_EXPORT:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[1])} ({len(SV_EXPORT)} localparams)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
