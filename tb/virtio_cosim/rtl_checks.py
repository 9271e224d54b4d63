"""Static checks of rtl/: Verilator lint, Icarus compile, Yosys read and synthesis (the Makefile's lint/synth).

    python -m virtio_cosim.rtl_checks lint        # verilator --lint-only -Wall per module, then iverilog -g2012
    python -m virtio_cosim.rtl_checks yosys-read  # read_verilog -sv; hierarchy -check; proc
    python -m virtio_cosim.rtl_checks synth       # generic synth per module, stats in build/synth/<module>.stat

Each exits non-zero on the first failing tool and says which command failed; logs go to build/lint, build/synth.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from .paths import BUILD_DIR, REPO_ROOT, rtl_modules, rtl_sources
from .toolchain import ToolchainError, activate, find_tool


class CheckFailed(Exception):
    """A tool reported a problem; its output has been printed."""


def _run(command: list[str], log: Path | None = None) -> None:
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(output)
    if result.returncode != 0:
        print(output, end="", file=sys.stderr)
        raise CheckFailed(f"failed (exit {result.returncode}): {' '.join(command)}")


def _relative(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO_ROOT)) for p in paths]


def lint() -> str:
    tools = activate("verilator")
    sources = _relative(rtl_sources())
    modules = rtl_modules()
    for module in modules:
        _run([str(tools.verilator), "--lint-only", "-Wall", "--top-module", module, *sources])
    iverilog = find_tool("iverilog", "iverilog")
    (BUILD_DIR / "lint").mkdir(parents=True, exist_ok=True)
    _run([str(iverilog), "-g2012", "-o", str(BUILD_DIR / "lint" / "iverilog.vvp"), *sources])
    return f"lint clean: {len(modules)} module(s) under verilator -Wall, {len(sources)} file(s) under iverilog -g2012"


def yosys_read() -> str:
    yosys = find_tool("yosys", "yosys")
    script = f"read_verilog -sv {' '.join(_relative(rtl_sources()))}; hierarchy -check; proc"
    _run([str(yosys), "-p", script], log=BUILD_DIR / "lint" / "yosys-read.log")
    return f"yosys read: {len(rtl_sources())} file(s) pass hierarchy -check and proc"


def synth() -> str:
    yosys = find_tool("yosys", "yosys")
    out_dir = BUILD_DIR / "synth"
    out_dir.mkdir(parents=True, exist_ok=True)
    read = f"read_verilog -sv {' '.join(_relative(rtl_sources()))}"
    modules = [m for m in rtl_modules() if not m.endswith("_tb_top")]  # test tops only wrap other modules
    for module in modules:
        stat = out_dir / f"{module}.stat"
        _run([str(yosys), "-p", f"{read}; synth -top {module}; tee -q -o {stat} stat"], log=out_dir / f"{module}.log")
    return f"synth: stats of {len(modules)} module(s) in {out_dir.relative_to(REPO_ROOT)}/"


CHECKS = {"lint": lint, "yosys-read": yosys_read, "synth": synth}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=CHECKS)
    args = parser.parse_args(argv)
    if not rtl_sources():
        print(f"{args.check}: no rtl/*.sv files", file=sys.stderr)
        return 1
    try:
        print(CHECKS[args.check]())
    except (CheckFailed, ToolchainError) as error:
        print(f"{args.check}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
