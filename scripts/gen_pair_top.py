#!/usr/bin/env python3
"""Write the tops generated from rtl/virtio_pci_dev.sv's header (tb/virtio_cosim/pair_top.py): the live-migration
test top rtl/virtio_pci_dev_pair_tb_top.sv and the benchmark top bench/virtio_bench_top.sv.

Run it after changing the device's ports or parameters (`.venv/bin/python scripts/gen_pair_top.py`);
tests/rtl/test_pair_top.py and tests/rtl/test_bench_top.py fail while a committed top is stale.
"""

from virtio_cosim.pair_top import BENCH_TOP, PAIR_TOP, render, render_bench_top
from virtio_cosim.paths import REPO_ROOT, RTL_DIR

if __name__ == "__main__":
    device = (RTL_DIR / "virtio_pci_dev.sv").read_text()
    for output, text in ((RTL_DIR / f"{PAIR_TOP}.sv", render(device)),
                         (REPO_ROOT / "bench" / f"{BENCH_TOP}.sv", render_bench_top(device))):
        output.write_text(text)
        print(f"wrote {output}")
