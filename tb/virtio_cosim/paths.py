"""Where things are: the repository, its RTL and the build tree (the package is installed editable)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RTL_DIR = REPO_ROOT / "rtl"
BUILD_DIR = REPO_ROOT / "build"


def rtl_sources() -> list[Path]:
    """Every rtl/*.sv file, packages first, so any tool can compile them in this order."""
    files = sorted(RTL_DIR.glob("*.sv"))
    return [f for f in files if f.stem.endswith("_pkg")] + [f for f in files if not f.stem.endswith("_pkg")]


def rtl_modules() -> list[str]:
    """The module names of rtl/: one module per file, named after it (packages excluded)."""
    return [f.stem for f in rtl_sources() if not f.stem.endswith("_pkg")]
