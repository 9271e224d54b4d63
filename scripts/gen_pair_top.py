#!/usr/bin/env python3
"""Write rtl/virtio_pci_dev_pair_tb_top.sv (the live-migration test top) from rtl/virtio_pci_dev.sv.

Run it after changing the device's ports or parameters (`.venv/bin/python scripts/gen_pair_top.py`);
tests/rtl/test_pair_top.py fails while the committed top is stale.
"""

from virtio_cosim.pair_top import PAIR_TOP, render
from virtio_cosim.paths import RTL_DIR

if __name__ == "__main__":
    output = RTL_DIR / f"{PAIR_TOP}.sv"
    output.write_text(render((RTL_DIR / "virtio_pci_dev.sv").read_text()))
    print(f"wrote {output}")
