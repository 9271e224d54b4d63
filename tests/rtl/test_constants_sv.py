"""rtl/virtio_pkg.sv declares exactly virtio_golden.constants.SV_EXPORT: same names, same values (DESIGN, RTL).

If this fails after a change of the Python constants, regenerate the package:
    .venv/bin/python scripts/gen_virtio_pkg.py
"""

import re

import pytest

from virtio_cosim.paths import RTL_DIR
from virtio_cosim.sv_package import SvParseError, compare, parse_localparams
from virtio_golden.constants import SV_EXPORT

pytestmark = pytest.mark.model

PACKAGE = RTL_DIR / "virtio_pkg.sv"


def test_package_matches_sv_export() -> None:
    problems = compare(parse_localparams(PACKAGE.read_text()), SV_EXPORT)
    assert not problems, "rtl/virtio_pkg.sv disagrees with SV_EXPORT:\n" + "\n".join(problems)


def test_a_changed_value_is_reported() -> None:
    text = re.sub(r"(ISR_CONFIG\s*=\s*)'h2;", r"\1'h4;", PACKAGE.read_text())
    assert compare(parse_localparams(text), SV_EXPORT) == ["ISR_CONFIG is 0x4 in the package but 0x2 in the model"]


def test_a_missing_and_an_extra_constant_are_reported() -> None:
    text = re.sub(r"\bS_FAILED\b", "S_FAILURE", PACKAGE.read_text())
    assert compare(parse_localparams(text), SV_EXPORT) == [
        "S_FAILED is missing from the package (expected 0x80)",
        "S_FAILURE is declared in the package but is not in SV_EXPORT",
    ]


def test_a_wrong_64_bit_feature_word_is_reported() -> None:
    text = PACKAGE.read_text().replace("64'h00000901_30000000", "64'h00000801_30000000")
    assert compare(parse_localparams(text), SV_EXPORT) == [
        "DEFAULT_DEVICE_FEATURES is 0x80130000000 in the package but 0x90130000000 in the model"
    ]


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("42", 42),
        ("1_000", 1000),
        ("'hff", 255),
        ("'HFF", 255),
        ("16'hFF_FF", 0xFFFF),
        ("32'd4_096", 4096),
        ("4'b1010", 10),
        ("A", 7),
        ("A + 1", 8),
        ("A + 'h10 + 2", 25),
    ],
)
def test_literals_and_references(expression: str, value: int) -> None:
    text = (
        "package p; localparam int A = 7; // A is 7\n"
        f"/* localparam int HIDDEN = 1; */ localparam logic [63:0] B = {expression}; endpackage"
    )
    assert parse_localparams(text) == {"A": 7, "B": value}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("localparam int B = UNKNOWN;", "cannot evaluate 'UNKNOWN'"),
        ("localparam int B = 4'h1F;", "does not fit in 4 bits"),
        ("localparam int B = 1; localparam int B = 2;", "declared twice"),
    ],
)
def test_unreadable_declarations_are_errors(text: str, complaint: str) -> None:
    with pytest.raises(SvParseError, match=complaint):
        parse_localparams(text)
