"""Read the localparams of a SystemVerilog package and compare them with the Python constants.

Handles what `rtl/virtio_pkg.sv` uses: sized and unsized hex, decimal and binary literals with underscores, plain
decimals, references to earlier localparams of the same package, and sums of those (`A + 1`).
"""

import re

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_DECLARATION = re.compile(r"\b(?:localparam|parameter)\b[^=;]*?\b(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<expr>[^;]+);")
_LITERAL = re.compile(r"(?:(?P<size>\d+)\s*)?'(?P<base>[hHdDbB])\s*(?P<digits>[0-9a-fA-F_]+)$")
_BASES = {"h": 16, "d": 10, "b": 2}


class SvParseError(ValueError):
    """A localparam whose value this reader cannot evaluate."""


def _term_value(term: str, known: dict[str, int]) -> int:
    if re.fullmatch(r"\d[\d_]*", term):
        return int(term.replace("_", ""))
    literal = _LITERAL.match(term)
    if literal:
        value = int(literal.group("digits").replace("_", ""), _BASES[literal.group("base").lower()])
        size = literal.group("size")
        if size is not None and value >= 1 << int(size):
            raise SvParseError(f"{term} does not fit in {size} bits")
        return value
    if term in known:
        return known[term]
    raise SvParseError(f"cannot evaluate {term!r}: not a literal nor an earlier localparam")


def parse_localparams(text: str) -> dict[str, int]:
    """Every localparam (and parameter) of the text, by name, evaluated; duplicates are an error."""
    values: dict[str, int] = {}
    for declaration in _DECLARATION.finditer(_COMMENTS.sub("", text)):
        name = declaration.group("name")
        if name in values:
            raise SvParseError(f"{name} is declared twice")
        terms = [t.strip() for t in declaration.group("expr").split("+")]
        try:
            values[name] = sum(_term_value(term, values) for term in terms)
        except SvParseError as error:
            raise SvParseError(f"{name}: {error}") from None
    return values


def compare(declared: dict[str, int], expected: dict[str, int]) -> list[str]:
    """One line per difference between the package's localparams and the expected constants."""
    problems = []
    for name, value in expected.items():
        if name not in declared:
            problems.append(f"{name} is missing from the package (expected {value:#x})")
        elif declared[name] != value:
            problems.append(f"{name} is {declared[name]:#x} in the package but {value:#x} in the model")
    extra = [name for name in declared if name not in expected]
    return problems + [f"{name} is declared in the package but is not in SV_EXPORT" for name in extra]
