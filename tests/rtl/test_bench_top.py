"""The benchmark top (bench/virtio_bench_top.sv, docs/bench.md) is generated from the device's header: the committed
file must be current, every device port must be on it under its own name, and only the m_axi_ R and B channels may
reach the device through axi_delay."""

import pytest

from virtio_cosim.pair_top import BENCH_TOP, SHARED, parse_device, parse_module, render_bench_top
from virtio_cosim.paths import REPO_ROOT, RTL_DIR

pytestmark = pytest.mark.smoke

DEVICE = RTL_DIR / "virtio_pci_dev.sv"
BENCH_PORTS = ("bench_cycles", "bench_ar_bursts", "bench_r_beats", "bench_aw_bursts", "bench_w_beats",
               "bench_rd_lat_sum", "bench_rd_lat_count", "bench_r_run_max", "bench_w_run_max", "bench_ar_stalls",
               "bench_aw_stalls", "bench_w_stalls")
RESPONSES = ("bid", "bresp", "bvalid", "bready", "rid", "rdata", "rresp", "rlast", "rvalid", "rready")
LAST_PORT = "    input  wire                       fault_inj\n"


def test_committed_bench_top_is_current() -> None:
    committed = (REPO_ROOT / "bench" / f"{BENCH_TOP}.sv").read_text()
    assert committed == render_bench_top(DEVICE.read_text()), \
        "bench/virtio_bench_top.sv is stale: run .venv/bin/python scripts/gen_pair_top.py"


def test_the_interface_is_the_device_s_ports_then_the_counters() -> None:
    _, device_ports = parse_device(DEVICE.read_text())
    params, ports = parse_module(render_bench_top(DEVICE.read_text()), BENCH_TOP)
    assert [(p.keyword, p.name) for p in params] == [
        ("parameter", "NUM_QUEUES"), ("parameter", "AXI_DATA_WIDTH"), ("parameter", "AXI_ID_WIDTH"),
        ("parameter", "FETCH_AHEAD"), ("parameter", "TAG_WIDTH"), ("parameter", "LATENCY"), ("localparam", "KW")]
    assert ports[:len(device_ports)] == device_ports
    assert [p.name for p in ports[len(device_ports):]] == list(BENCH_PORTS)
    assert {(p.direction, p.width) for p in ports[len(device_ports):]} == {("output", "[31:0]")}


def test_only_the_response_channels_pass_through_the_delay_stage() -> None:
    _, device_ports = parse_device(DEVICE.read_text())
    top = render_bench_top(DEVICE.read_text())
    for name in SHARED:
        assert top.count(f".{name}({name})") == 2, name  # the device and axi_delay
    for port in device_ports[len(SHARED):]:
        response = port.name.removeprefix("m_axi_")
        if response in RESPONSES:
            assert top.count(f".{port.name}(dev_{response})") == 1, port.name
            assert top.count(f".s_axi_{response}(dev_{response})") == 1, port.name
            assert top.count(f".{port.name}({port.name})") == 1, port.name  # axi_delay's side toward the AxiRam
        else:
            assert top.count(f".{port.name}({port.name})") == 1, port.name
    assert sum(port.name.removeprefix("m_axi_") in RESPONSES for port in device_ports) == len(RESPONSES)


def test_a_new_device_port_appears_on_the_bench_top() -> None:
    text = DEVICE.read_text()
    grown = text.replace(LAST_PORT, LAST_PORT.replace("fault_inj", "fault_inj,") +
                         "    output logic [KW-1:0]             spare_out\n", 1)
    assert grown != text
    top = render_bench_top(grown)
    assert "    output logic [KW-1:0]             spare_out,\n" in top
    assert top.count(".spare_out(spare_out)") == 1
    assert top != render_bench_top(text)


def test_a_new_response_signal_goes_through_the_delay_stage() -> None:
    text = DEVICE.read_text()
    rready = "    output logic                      m_axi_rready,\n"
    grown = text.replace(rready, rready + "    input  wire  [3:0] m_axi_ruser,\n", 1)
    assert grown != text
    top = render_bench_top(grown)
    assert "    logic [3:0]                dev_ruser;" in top
    for connection in (".m_axi_ruser(dev_ruser)", ".s_axi_ruser(dev_ruser)", ".m_axi_ruser(m_axi_ruser)"):
        assert top.count(connection) == 1, connection


def test_a_port_sized_by_a_parameter_the_bench_top_lacks_is_refused() -> None:
    grown = DEVICE.read_text().replace(LAST_PORT, LAST_PORT.replace("fault_inj", "fault_inj,") +
                                       "    output logic [MSIX_VECTORS-1:0] spare_vectors\n", 1)
    with pytest.raises(ValueError, match="spare_vectors is sized by MSIX_VECTORS"):
        render_bench_top(grown)
