"""The live-migration test top (rtl/virtio_pci_dev_pair_tb_top.sv) is generated from the device's header: the
committed file must be current, and every device port must appear once per instance, prefixed."""

import pytest

from virtio_cosim.pair_top import PAIR_TOP, PREFIXES, parse_device, render
from virtio_cosim.paths import RTL_DIR

pytestmark = pytest.mark.smoke

DEVICE = RTL_DIR / "virtio_pci_dev.sv"


def test_committed_pair_top_is_current() -> None:
    committed = (RTL_DIR / f"{PAIR_TOP}.sv").read_text()
    assert committed == render(DEVICE.read_text()), \
        "rtl/virtio_pci_dev_pair_tb_top.sv is stale: run .venv/bin/python scripts/gen_pair_top.py"


def test_every_device_port_is_wired_once_per_instance() -> None:
    params, ports = parse_device(DEVICE.read_text())
    top = render(DEVICE.read_text())
    assert {"NUM_QUEUES", "SUSPEND_MODE", "DEVICE_FEATURES", "AXI_DATA_WIDTH"} <= {p.name for p in params}
    for port in ports[2:]:
        for prefix in PREFIXES:
            assert top.count(f".{port.name}({prefix}_{port.name})") == 1, port.name


def test_a_new_device_port_changes_the_pair_top() -> None:
    text = DEVICE.read_text()
    grown = text.replace("    input  wire                       fault_inj\n",
                         "    input  wire                       fault_inj,\n    output logic spare_out\n", 1)
    assert grown != text
    assert "b_spare_out" in render(grown) and render(grown) != render(text)


def test_a_header_without_clk_and_rst_first_is_refused() -> None:
    text = DEVICE.read_text().replace("input  wire                       clk,", "", 1)
    with pytest.raises(ValueError, match="clk and rst"):
        render(text)
