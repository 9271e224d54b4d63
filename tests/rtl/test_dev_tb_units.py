"""The device testbench's pure-Python pieces, without a simulator: beat joining (dev_monitors.AxiReadJoiner,
AxiWriteJoiner, PacketJoiner), the write-region and used.idx checks (DmaSafety) and the backend's reference
function (dev_backend.answer_pattern), and the guest-address windows with the RAM that aliases them."""

import random
from types import SimpleNamespace

import pytest
from cocotbext.axi.memory import Memory

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.backend import reference_answer
from virtio_golden.constants import EngineState as St
from virtio_golden.driver import VirtQueue
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.ring import RingLayout

from virtio_cosim.dev_backend import answer_pattern
from virtio_cosim.dev_monitors import (AxiReadJoiner, AxiWriteJoiner, DevMonitor, DmaSafety, PacketJoiner,
                                       strobed_runs)
from virtio_cosim.dev_tb import ErrorAxiRam, RamGuestMem
from virtio_cosim.tb_common import WINDOW_BITS, CheckerFailure, allocator_window

pytestmark = pytest.mark.smoke


def word(data: bytes, lane: int = 0, bus: int = 8) -> int:
    """A bus word carrying `data` from byte lane `lane`."""
    return int.from_bytes(bytes(lane) + data + bytes(bus - lane - len(data)), "little")


# -- reads

def test_read_narrow_is_exact():
    """A 2-byte read (arsize 1) of avail.idx at offset 2 of a word is the 2-byte access the model expects."""
    reads = AxiReadJoiner(8)
    reads.address(arid=1, araddr=0x1002, arlen=0, arsize=1)
    assert reads.beat(1, word(b"\x34\x12", lane=2), 0, True) == ev.DmaRead(0x1002, 2, b"\x34\x12")


def test_read_full_width_unaligned_covers_to_word_end():
    """Full-width beats from an unaligned address: the first beat from the address to its word's end (AXI)."""
    reads = AxiReadJoiner(8)
    reads.address(arid=0, araddr=0x1005, arlen=1, arsize=3)
    assert reads.beat(0, word(b"abc", lane=5), 0, False) is None
    read = reads.beat(0, word(b"defghijk"), 2, True)
    assert read == ev.DmaRead(0x1005, 11, b"abcdefghijk", ev.SLVERR)


def test_read_error_reported_at_its_first_error_beat_once():
    """An error beat reports the whole burst at once (zeros for the bytes to come); its last beat adds nothing."""
    reads = AxiReadJoiner(8)
    reads.address(arid=0, araddr=0x2000, arlen=2, arsize=3)
    assert reads.beat(0, word(b"01234567"), 3, False) == ev.DmaRead(0x2000, 24, b"01234567" + bytes(16), ev.DECERR)
    assert reads.beat(0, word(b"89abcdef"), 0, False) is None
    assert reads.beat(0, word(b"ghijklmn"), 2, True) is None
    assert reads.outstanding == 0


def test_reads_of_two_ids_interleave_and_rlast_is_checked():
    reads = AxiReadJoiner(16)
    reads.address(arid=0, araddr=0x2000, arlen=1, arsize=4)
    reads.address(arid=1, araddr=0x3000, arlen=0, arsize=4)
    assert reads.beat(0, 1, 0, False) is None
    assert reads.beat(1, 2, 3, True).resp == ev.DECERR
    with pytest.raises(CheckerFailure, match="RLAST 0 on beat 2"):
        reads.beat(0, 3, 0, False)


def test_read_across_4k_and_orphan_beats_fail():
    reads = AxiReadJoiner(8)
    with pytest.raises(CheckerFailure, match="crosses a 4 KiB boundary"):
        reads.address(arid=0, araddr=0x1FF8, arlen=1, arsize=3)
    with pytest.raises(CheckerFailure, match="no read outstanding"):
        reads.beat(5, 0, 0, True)


# -- writes

def test_write_runs_across_beats_and_early_w():
    """W beats before their AW; strobed bytes joined across beats into one run; a hole splits runs."""
    writes = AxiWriteJoiner(8)
    assert writes.data(word(b"\x01\x02", lane=6), 0xC0, False) is None
    burst = writes.address(awid=2, awaddr=0x1000, awlen=1, awsize=3)
    assert burst is None
    done = writes.data(word(b"\x03\x04\xee\x05"), 0x0B, True)  # lanes 0, 1, 3
    assert done is not None and done.written == {0x1006: 1, 0x1007: 2, 0x1008: 3, 0x1009: 4, 0x100B: 5}
    assert writes.response(2, 0) == [ev.DmaWrite(0x1006, b"\x01\x02\x03\x04"), ev.DmaWrite(0x100B, b"\x05")]
    assert not writes.outstanding


def test_write_strobe_outside_the_beat_fails():
    writes = AxiWriteJoiner(8)
    writes.address(awid=0, awaddr=0x1004, awlen=0, awsize=3)
    with pytest.raises(CheckerFailure, match="outside the beat's bytes"):
        writes.data(word(b"\xff"), 0x01, True)  # lane 0 lies before the start address 0x1004


def test_b_before_data_fails():
    writes = AxiWriteJoiner(8)
    writes.address(awid=0, awaddr=0x1000, awlen=0, awsize=3)
    with pytest.raises(CheckerFailure, match="no complete write"):
        writes.response(0, 0)


def test_strobed_runs():
    assert strobed_runs({5: 1, 6: 2, 9: 3}) == [(5, b"\x01\x02"), (9, b"\x03")]


# -- the write-region and used.idx checks

def _ring(mem: GuestMem, size: int = 8):
    return VirtQueue.allocate(mem, MemAllocator(0x10_0000, 0x20_0000), 0, size, event_idx=True, indirect_ok=True,
                              vector=0)


def _burst(writes: AxiWriteJoiner, addr: int, data: bytes, bus: int = 8):
    """A full-width write of `data` at `addr` (any alignment), strobing exactly its bytes; returns the burst."""
    first = addr - addr % bus
    beats = -(-(addr + len(data) - first) // bus)
    writes.address(awid=0, awaddr=first, awlen=beats - 1, awsize=bus.bit_length() - 1)
    image = bytes(addr - first) + data + bytes(beats * bus - (addr - first) - len(data))
    strobes = ((1 << len(data)) - 1) << (addr - first)
    done = None
    for n in range(beats):
        done = writes.data(int.from_bytes(image[n * bus:(n + 1) * bus], "little"), strobes >> n * bus & (1 << bus) - 1,
                           n == beats - 1)
    return done


def test_safety_allows_buffers_of_chains_in_flight_and_the_used_ring():
    mem = GuestMem()
    vq = _ring(mem)
    head = vq.add_chain([b"in"], [8, 4], indirect=True)
    safety = DmaSafety(mem)
    safety.track(0, vq.layout, 0)
    writes = AxiWriteJoiner(8)
    table = int.from_bytes(mem.read(vq.layout.desc + 16 * head, 8), "little")
    buffers = vq._posted[head].writable
    with pytest.raises(CheckerFailure, match="outside the used rings"):
        safety.check_write(_burst(writes, buffers[0][0], b"x"))  # not in flight yet
    safety.request(0, head)
    safety.check_write(_burst(writes, buffers[1][0] + 3, b"y"))
    with pytest.raises(CheckerFailure, match="indirect table of queue 0"):
        safety.check_write(_burst(writes, table + 4, b"z"))
    with pytest.raises(CheckerFailure, match="descriptor table of queue 0"):
        safety.check_write(_burst(writes, vq.layout.desc + 16, b"z"))
    with pytest.raises(CheckerFailure, match="outside the used rings"):
        safety.check_write(_burst(writes, vq.layout.used_flags_addr, b"\x01"))  # used.flags: never written


def test_used_idx_waits_for_element_and_scatter_responses():
    mem = GuestMem()
    vq = _ring(mem)
    head = vq.add_chain([], [4])
    buffer = vq._posted[head].writable[0][0]
    safety = DmaSafety(mem)
    safety.track(0, vq.layout, 0)
    safety.request(0, head)
    writes = AxiWriteJoiner(8)
    scatter = _burst(writes, buffer, b"abcd")
    safety.check_write(scatter)
    element = vq.layout.used_elem_addr(0)
    mem.write(element, head.to_bytes(4, "little") + (4).to_bytes(4, "little"))
    safety.check_write(_burst(writes, element, mem.read(element, 4)))
    writes.response(0, 0)                                          # the scatter's response
    idx = _burst(writes, vq.layout.used_idx_addr, b"\x01\x00")    # the element has none yet
    with pytest.raises(CheckerFailure, match="issued before the write response of the burst at"):
        safety.check_write(idx)


def test_used_idx_after_every_response_passes_and_retires_the_chain():
    mem = GuestMem()
    vq = _ring(mem)
    head = vq.add_chain([], [4])
    buffer = vq._posted[head].writable[0][0]
    safety = DmaSafety(mem)
    safety.track(0, vq.layout, 0)
    safety.request(0, head)
    writes = AxiWriteJoiner(8)
    safety.check_write(_burst(writes, buffer, b"abcd"))
    element = vq.layout.used_elem_addr(0)
    mem.write(element, head.to_bytes(4, "little") + (4).to_bytes(4, "little"))
    safety.check_write(_burst(writes, element, mem.read(element, 4)))
    writes.response(0, 0)
    writes.response(0, 0)
    safety.check_write(_burst(writes, vq.layout.used_idx_addr, b"\x01\x00"))
    assert safety.published[0] == 1 and not safety.in_flight
    with pytest.raises(CheckerFailure, match="outside the used rings"):
        safety.check_write(_burst(writes, buffer, b"late"))


# -- backend streams and the reference function

def test_packet_packing():
    packets = PacketJoiner("be_rd", 8)
    assert packets.beat(word(b"01234567"), 0xFF, False) is None
    assert packets.beat(word(b"89"), 0x03, True) == b"0123456789"
    with pytest.raises(CheckerFailure, match="not packed"):
        packets.beat(word(b"ab", lane=1), 0x06, True)
    packets.reset()
    packets.beat(word(b"abc"), 0x07, False)
    with pytest.raises(CheckerFailure, match="not packed"):
        packets.beat(word(b"d"), 0x01, True)  # a short beat before the last


class _Signal:
    def __init__(self):
        self.value = 0


class _Ports:
    """The ports of virtio_pci_dev as DevMonitor reads them: each reads 0 unless driven for the coming edge."""

    def __init__(self, state: St):
        self.core = SimpleNamespace(state=SimpleNamespace(value=int(state)))
        self._driven = []

    def __getattr__(self, name: str) -> _Signal:
        signal = _Signal()
        setattr(self, name, signal)
        return signal

    def drive(self, **values) -> None:
        for name in self._driven:
            getattr(self, name).value = 0
        for name, value in values.items():
            getattr(self, name).value = value
        self._driven = list(values)


def _monitor_with_ports(state: St) -> tuple:
    """A DevMonitor over fake ports in `state`, and the list its scoreboard receives."""
    ports, items = _Ports(state), []
    scoreboard = SimpleNamespace(push=items.append, feed=lambda: None)
    safety = SimpleNamespace(request=lambda queue, head: None, in_flight={})
    monitor = DevMonitor(SimpleNamespace(dut=ports, params=SimpleNamespace(AXI_DATA_WIDTH=128), safety=safety,
                                         fault="", scoreboard=scoreboard))
    monitor._prev = monitor._levels()
    return monitor, ports, items


RESET_WRITES = {"device reset": (c.CC_DEVICE_STATUS, 0, 0x1), "queue reset": (c.CC_QUEUE_RESET & ~3, 1 << 16, 0xC),
                "status write": (c.CC_DEVICE_STATUS, c.S_ACKNOWLEDGE, 0x1)}


@pytest.mark.parametrize("write, told", [("device reset", False), ("queue reset", False), ("status write", True)])
def test_request_whose_packet_ends_at_a_reset_write_is_judged_as_flushed(write, told):
    """The model resets the device (a write of 0) or a queue (queue_reset = 1) at the write and voids the tags
    (rule 8.12), the engine's be_flush comes later: a be_rd packet ending at the write's edge is told to the model
    only if it still waits for that chain; at another write it is told."""
    addr, data, strb = RESET_WRITES[write]
    monitor, ports, items = _monitor_with_ports(St.SUSPENDING)
    ports.drive(be_req_valid=1, be_req_ready=1, be_req_queue=1, be_req_head=1, be_req_tag=2, be_req_rd_len=16)
    monitor._step()
    ports.drive(s_axil_awvalid=1, s_axil_awready=1, s_axil_awaddr=addr, s_axil_wvalid=1,
                s_axil_wready=1, s_axil_wdata=data, s_axil_wstrb=strb,
                be_rd_tvalid=1, be_rd_tready=1, be_rd_tlast=1, be_rd_tkeep=0xFFFF, be_rd_tdata=7)
    monitor._step()
    reported, resolve = items
    assert reported == (ev.RegWrite(addr, data, strb), int(St.SUSPENDING))
    after_reset = SimpleNamespace(core=SimpleNamespace(queues=[SimpleNamespace(flights=[])] * 2))
    request = ev.BeRequest(1, 1, 2, 16, 0, (7).to_bytes(16, "little"))
    assert resolve(after_reset) == (request if told else None)


@pytest.mark.parametrize("open_head, held", [(0, False), (2, True)])
def test_len_half_of_a_used_element_goes_with_its_id_half(open_head, held):
    """A used element that straddles 4 KiB is written in two parts. While chain `open_head`'s completion packet is
    still arriving, the element of head 2 is held only if it is that chain's: its len half (len 0 here, which reads
    like id 0) follows its id half, and so does the used.idx write after it."""
    monitor, _, _ = _monitor_with_ports(St.RUNNING)
    layout = RingLayout(0x1000, 0x2000, 0x2FF0, 4)       # element 1 at 0x2FFC: its len half at 0x3000
    monitor.safety.layouts = {0: layout}
    monitor.tag_chain = {7: (0, open_head)}
    monitor.completion = SimpleNamespace(tag=7)
    monitor.completion_buffers = []
    out = []
    for write in (ev.DmaWrite(0x2FFC, (2).to_bytes(4, "little")), ev.DmaWrite(0x3000, bytes(4)),
                  ev.DmaWrite(layout.used_idx_addr, (2).to_bytes(2, "little"))):
        monitor._emit_after_completion(write, out)
    assert (len(monitor.held), len(out)) == ((3, 0) if held else (0, 3))


@pytest.mark.parametrize("tag, readable, wr_len", [(5, b"abc", 10), (0x47, b"xyz", 2), (3, b"", 7)])
def test_answer_pattern_extends_the_reference_function(tag, readable, wr_len):
    """answer_pattern(n) = in[i % rd_len] ^ tag (zeros for rd_len 0); at n = min(rd_len, wr_len) it is the model's
    reference_answer."""
    n = min(len(readable), wr_len)
    assert answer_pattern(tag, readable, n) == reference_answer(tag, readable, wr_len)
    long = answer_pattern(tag, readable, 2 * wr_len)
    assert long == (bytes(readable[i % len(readable)] ^ tag for i in range(2 * wr_len)) if readable
                    else bytes(2 * wr_len))
    assert c.DESC_SIZE == 16  # the write monitor's table sizes assume it


# -- guest-address windows

def test_allocator_windows_set_every_high_address_bit_both_ways():
    """Over many tests' windows, each address bit above the window is 1 in some and 0 in others, so a device's
    address registers toggle; each window is aligned, inside 2^64, and starts above the first MiB."""
    windows = [allocator_window(random.Random(seed)) for seed in range(64)]
    for base, limit in windows:
        assert base % (1 << WINDOW_BITS) == 0x10_0000 and limit - base == (1 << WINDOW_BITS) - 0x10_0000
        assert limit <= 1 << 64
    for bit in range(WINDOW_BITS, 64):
        assert {base >> bit & 1 for base, _ in windows} == {0, 1}, f"address bit {bit} never changes"


def test_guest_memory_aliases_like_the_ram_bus_side():
    """A raw write at a high guest address lands at the offset the RAM's bus side answers (address % size, as
    cocotbext-axi's AxiRam computes it), so the driver, the model and the device see one byte."""
    ram = Memory(ErrorAxiRam.SIZE)
    guest = RamGuestMem(ram)
    high = 0xDEAD_BEEF_1234_5678
    guest.write(high, b"virtio")
    assert ram.read(high % ErrorAxiRam.SIZE, 6) == b"virtio"
    assert guest.read(high % ErrorAxiRam.SIZE, 6) == b"virtio"
    with pytest.raises(ValueError):
        guest.read((1 << 64) - 2, 4)
