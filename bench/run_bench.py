"""`make bench`: lint the bench tops, build virtio_bench_top on Verilator once per (LATENCY, AXI_DATA_WIDTH) and
run bench/bench_datapath.py's one cocotb test; print its table (docs/bench.md).

    .venv/bin/python bench/run_bench.py [--latency 16] [--axi-data-width 64]

Build folder: build/verilator/bench_lat<LATENCY>_dw<AXI_DATA_WIDTH>/_build/virtio_bench_top/ (virtio_cosim.runner);
the run's log, bench.json and table.txt: build/verilator/bench_lat<L>_dw<W>/bench_datapath.measure/. SEED and
WAVES=1 work as for the tests. bench/ is outside pytest's testpaths and has no test_ names: pytest never runs it.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))  # cocotb's runner hands sys.path to the simulation: bench_datapath imports

from virtio_cosim import toolchain  # noqa: E402
from virtio_cosim.paths import BUILD_DIR, REPO_ROOT, rtl_sources  # noqa: E402
from virtio_cosim.runner import build, run  # noqa: E402

SIM = "verilator"
TOPLEVEL = "virtio_bench_top"
TEST_MODULE = "bench_datapath"
SOURCES = [BENCH_DIR / "bench_delay_line.sv", BENCH_DIR / "axi_delay.sv", BENCH_DIR / "virtio_bench_top.sv"]
WIDTHS = (64, 128)
MAX_LATENCY = 1024
NUM_QUEUES = 4                     # 4 queues x FETCH_AHEAD 4: 16 chains can be in flight at once
FETCH_AHEAD = 4                    # the device default
SIZES = {64: (32, 256), 1500: (8, 48)}   # buffer bytes: (warm-up chains, measured chains)
IN_FLIGHT = (0, 1, 4, 16)


def _number(text: str, name: str, allowed, example: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value not in allowed:
        sys.exit(f"{name} must be {example}, not {text!r}.")
    return value


def lint(parameters: dict) -> None:
    """verilator --lint-only -Wall on the bench top with these parameters and everything below it, then an
    iverilog -g2012 compile of it (make lint covers rtl/ only)."""
    tools = toolchain.activate(SIM)
    sources = [str(path) for path in rtl_sources() + SOURCES]
    iverilog_out = BUILD_DIR / "lint" / "bench_top.vvp"
    iverilog_out.parent.mkdir(parents=True, exist_ok=True)
    for command in ([str(tools.verilator), "--lint-only", "-Wall", "--top-module", TOPLEVEL,
                     *(f"-G{name}={value}" for name, value in parameters.items()), *sources],
                    [str(toolchain.find_tool("iverilog", "iverilog")), "-g2012", "-s", TOPLEVEL,
                     *(f"-P{TOPLEVEL}.{name}={value}" for name, value in parameters.items()),
                     "-o", str(iverilog_out), *sources]):
        result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"{result.stdout}{result.stderr}bench lint failed: {' '.join(command)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", default="16", help="cycles added to R and B (default 16)")
    parser.add_argument("--axi-data-width", default="64", help="64 or 128 (default 64)")
    args = parser.parse_args(argv)
    latency = _number(args.latency, "LATENCY", range(MAX_LATENCY + 1),
                      f"a whole number of cycles from 0 to {MAX_LATENCY} (e.g. make bench LATENCY=16)")
    width = _number(args.axi_data_width, "AXI_DATA_WIDTH", WIDTHS, "64 or 128 (e.g. make bench AXI_DATA_WIDTH=128)")

    parameters = {"LATENCY": latency, "AXI_DATA_WIDTH": width, "NUM_QUEUES": NUM_QUEUES, "FETCH_AHEAD": FETCH_AHEAD}
    lint(parameters)
    paramset = f"bench_lat{latency}_dw{width}"
    print(f"bench: building {TOPLEVEL} ({paramset}) and running it; a first build takes a few minutes", flush=True)
    build(SIM, paramset, TOPLEVEL, rtl_sources() + SOURCES, parameters)
    config = {"latency": latency, "num_queues": NUM_QUEUES, "fetch_ahead": FETCH_AHEAD,
              "sizes": {size: list(counts) for size, counts in SIZES.items()}, "in_flight": list(IN_FLIGHT)}
    try:
        result = run(SIM, paramset, TOPLEVEL, TEST_MODULE, "measure", extra_env={"BENCH_CONFIG": json.dumps(config)})
    except AssertionError as failure:
        print(failure, file=sys.stderr)
        print(f"bench: the run failed (the datapath, not a figure; ignore the `make waves` line above, it is for "
              f"tests); rerun with waves: make bench WAVES=1 LATENCY={latency} AXI_DATA_WIDTH={width}", file=sys.stderr)
        return 1
    print((result.test_dir / "table.txt").read_text(), end="")
    print(f"(log and bench.json in {result.test_dir.relative_to(REPO_ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
