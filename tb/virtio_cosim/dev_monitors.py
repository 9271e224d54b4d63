"""Monitors of the device top `virtio_pci_dev` (dev_tb.py): they sample every port at each rising edge, join bus
beats into the transaction-level events of rule 8.12 for the golden model, and run the simple checks of issue 4
item 3 that need no model.

Pure-Python pieces (unit-tested without a simulator in tests/rtl/test_dev_tb_units.py):
- `AxiReadJoiner`, `AxiWriteJoiner`: AXI4 beats -> `DmaRead` (at the last R beat, or at the first SLVERR/DECERR
  beat, which the engine may act on before the burst ends) and `DmaWrite` (at the B response, one per contiguous
  strobed run). A transaction covers the bytes AXI defines for it: from `axaddr`,
  2^`axsize` bytes per beat, `axlen` + 1 beats (the first beat from `axaddr` to the end of its size container).
- `DmaSafety`: the checks that fail a test on their own, independent of the golden model:
  * any write to a descriptor table (a queue's table, or an indirect table of a chain in flight);
  * any write outside the device-writable buffers of the chains in flight and the used ring (used.flags excluded:
    the engine never writes it, SPEC 4.6);
  * a used.idx write issued (AW handshake) while a write it depends on has no response yet: the used elements it
    publishes and every write into the writable buffers of their chains (SPEC 4.5, rule 8.11).
  A chain is in flight from its `be_req` handshake (its writable buffers and tables come from walking it in guest
  memory then) until a used.idx write publishes it.

Cocotb piece: `DevMonitor`, one coroutine per testbench. Besides feeding the scoreboard it fails the test on:
- an `m_axi_` address offer (AR/AW valid, newly raised) decided in a cycle in which the core was not RUNNING or
  SUSPENDING, or `rst` was high (SUS-07, SUS-13, SUS-15, rule 8.11). "Decided in" = the state of the cycle before
  the one that shows the new valid, so a registered AXI master that saw the old state one cycle earlier passes;
  an offer raised before the state changed may complete its handshake afterwards (AXI keeps valid high).
  Likewise a new offer raised two or more cycles after an SLVERR/DECERR response, until a reset (rule 8.9: every
  queue freezes at once; the golden model halts at the response itself).
  The state is the core's internal `state` register (`dut.core.state`, CORE_STATE): it is the only cycle-exact
  source, and the path is fixed by rtl/virtio_pci_dev.sv. Only these safety monitors read it; the golden model
  judges observable behaviour only.
- a register handshake while a write of 0 to device_status is pending (SUS-13);
- SUS-25: an interrupt message raised, INTx raised by a new ISR bit, or an ISR read returning a bit after an ISR
  read in the same SUSPENDED period had cleared it;
- backend stream framing: a `be_rd` packet that is not packed (rule 8.11) or whose length is not `be_req_rd_len`.
"""

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Optional

import cocotb
from cocotb.triggers import RisingEdge

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.chain import MalformedChain, walk_chain
from virtio_golden.constants import EngineState as St
from virtio_golden.memory import DmaError
from virtio_golden.ring import RingLayout, u16

from .tb_common import AxilHandshakes, CheckerFailure, Ports, _OpenRead, is_high, is_queue_reset_write, value_of

RESPONSES = {0: ev.OKAY, 1: ev.OKAY, 2: ev.SLVERR, 3: ev.DECERR}
BURST_INCR = 1
PAGE = 4096
DMA_STATES = (St.RUNNING, St.SUSPENDING)  # the only states in which the engine may start a guest-memory access
CORE_STATE = ("core", "state")            # hierarchy of the core's state register below the top


# -- AXI4 beats -> transactions -------------------------------------------------------------------------------------

@dataclass
class Burst:
    """One AXI4 INCR burst: its address beat, then its data beats as they come."""

    axid: int
    addr: int
    beats: int
    size: int                   # bytes per beat
    bus_bytes: int
    received: int = 0
    data: bytearray = field(default_factory=bytearray)   # reads: the bytes of the burst, in address order
    written: dict = field(default_factory=dict)          # writes: address -> byte, strobed bytes only
    resp: str = ev.OKAY
    reported: bool = False      # reads: told to the model at an error beat, before the last beat
    issued_before: list = field(default_factory=list)    # writes: bursts still without a response at its AW

    @property
    def aligned(self) -> int:
        return self.addr - self.addr % self.size

    @property
    def end(self) -> int:
        return self.aligned + self.beats * self.size

    def beat_bytes(self, n: int) -> tuple:
        """(first address, end address, first byte lane) of beat n."""
        start = self.addr if n == 0 else self.aligned + n * self.size
        end = self.aligned + (n + 1) * self.size
        return start, end, start % self.bus_bytes

    @property
    def complete(self) -> bool:
        return self.received == self.beats


def _new_burst(kind: str, axid: int, addr: int, axlen: int, axsize: int, axburst: int, bus_bytes: int) -> Burst:
    size = 1 << axsize
    if axburst != BURST_INCR:
        raise CheckerFailure(f"AXI monitor: {kind} burst at {addr:#x} has burst type {axburst}, not INCR")
    if size > bus_bytes:
        raise CheckerFailure(f"AXI monitor: {kind} burst at {addr:#x} has {size}-byte beats on a {bus_bytes}-byte bus")
    burst = Burst(axid, addr, axlen + 1, size, bus_bytes)
    if burst.aligned // PAGE != (burst.end - 1) // PAGE:
        raise CheckerFailure(f"AXI monitor: {kind} burst [{addr:#x}, {burst.end:#x}) crosses a 4 KiB boundary")
    return burst


def worse(resp: str, other: str) -> str:
    return resp if resp != ev.OKAY else other


class AxiReadJoiner:
    """AR and R beats -> one `DmaRead` per burst, at its last beat or its first error beat; R beats of one ID
    return in AR order."""

    def __init__(self, bus_bytes: int):
        self.bus_bytes = bus_bytes
        self._open: dict = defaultdict(deque)

    @property
    def outstanding(self) -> int:
        return sum(len(bursts) for bursts in self._open.values())

    def address(self, arid: int, araddr: int, arlen: int, arsize: int, arburst: int = BURST_INCR) -> None:
        self._open[arid].append(_new_burst("read", arid, araddr, arlen, arsize, arburst, self.bus_bytes))

    def beat(self, rid: int, rdata: int, rresp: int, rlast: bool) -> Optional[ev.DmaRead]:
        if not self._open[rid]:
            raise CheckerFailure(f"AXI monitor: an R beat with ID {rid} and no read outstanding")
        burst = self._open[rid][0]
        start, end, lane = burst.beat_bytes(burst.received)
        burst.data += rdata.to_bytes(self.bus_bytes, "little")[lane:lane + end - start]
        burst.resp = worse(burst.resp, RESPONSES[rresp])
        burst.received += 1
        if rlast != burst.complete:
            raise CheckerFailure(f"AXI monitor: RLAST {int(rlast)} on beat {burst.received} of a {burst.beats}-beat "
                                 f"read at {burst.addr:#x}")
        length = burst.end - burst.addr
        if burst.complete:
            self._open[rid].popleft()
        elif burst.resp == ev.OKAY or burst.reported:
            return None
        if burst.reported:
            return None
        # At the last beat, or at the first error beat: the engine may act on an error before the burst ends, and
        # the model reads no data of a failed read (the bytes still to come are zeros here).
        burst.reported = True
        return ev.DmaRead(burst.addr, length, bytes(burst.data).ljust(length, b"\0"), burst.resp)


class AxiWriteJoiner:
    """AW, W and B beats -> `DmaWrite` events at the B response. W beats follow AW order (AXI4) and may come before
    their AW; B responses of one ID come in AW order. `outstanding` lists the bursts issued without a response."""

    def __init__(self, bus_bytes: int):
        self.bus_bytes = bus_bytes
        self._filling: deque = deque()     # bursts whose W beats are not all in, in AW order
        self._early: deque = deque()       # W beats that came before their AW
        self._waiting: dict = defaultdict(deque)  # ID -> bursts with all data, waiting for B
        self.outstanding: list = []
        self.keep_answered = False         # planted fault `lost_response`: responses never retire a burst

    def address(self, awid: int, awaddr: int, awlen: int, awsize: int, awburst: int = BURST_INCR) -> Burst:
        burst = _new_burst("write", awid, awaddr, awlen, awsize, awburst, self.bus_bytes)
        burst.issued_before = list(self.outstanding)
        self.outstanding.append(burst)
        self._filling.append(burst)
        done = None
        while self._early and not burst.complete:
            done = self._take(*self._early.popleft())
        return done

    def data(self, wdata: int, wstrb: int, wlast: bool) -> Optional[Burst]:
        """One W beat; returns the burst it completes, if any."""
        if not self._filling:
            self._early.append((wdata, wstrb, wlast))
            return None
        return self._take(wdata, wstrb, wlast)

    def _take(self, wdata: int, wstrb: int, wlast: bool) -> Optional[Burst]:
        burst = self._filling[0]
        start, end, lane = burst.beat_bytes(burst.received)
        lanes = range(lane, lane + end - start)
        stray = [k for k in range(self.bus_bytes) if wstrb >> k & 1 and k not in lanes]
        if stray:
            raise CheckerFailure(f"AXI monitor: WSTRB {wstrb:#x} on beat {burst.received} of the write at "
                                 f"{burst.addr:#x} strobes lanes {stray} outside the beat's bytes")
        data = wdata.to_bytes(self.bus_bytes, "little")
        word = start - lane
        for k in lanes:
            if wstrb >> k & 1:
                burst.written[word + k] = data[k]
        burst.received += 1
        if wlast != burst.complete:
            raise CheckerFailure(f"AXI monitor: WLAST {int(wlast)} on beat {burst.received} of a {burst.beats}-beat "
                                 f"write at {burst.addr:#x}")
        if not burst.complete:
            return None
        self._filling.popleft()
        self._waiting[burst.axid].append(burst)
        return burst

    def response(self, bid: int, bresp: int) -> list:
        """A B response: the `DmaWrite` events of its burst, one per contiguous strobed run."""
        if not self._waiting[bid]:
            raise CheckerFailure(f"AXI monitor: a B response with ID {bid} and no complete write waiting for it")
        burst = self._waiting[bid].popleft()
        if not self.keep_answered:
            self.outstanding.remove(burst)
        burst.resp = RESPONSES[bresp]
        return [ev.DmaWrite(addr, data, burst.resp) for addr, data in strobed_runs(burst.written)]


def strobed_runs(written: dict) -> list:
    """(address, bytes) of each run of consecutive written addresses."""
    runs = []
    for addr in sorted(written):
        if runs and runs[-1][0] + len(runs[-1][1]) == addr:
            runs[-1][1].append(written[addr])
        else:
            runs.append((addr, bytearray([written[addr]])))
    return [(addr, bytes(data)) for addr, data in runs]


# -- the checks that need no model ------------------------------------------------------------------------------------

@dataclass
class _InFlight:
    writable: list              # (addr, len) of its device-writable buffers
    tables: list                # (addr, len) of its indirect tables


def _inside(addr: int, regions) -> bool:
    return any(base <= addr < base + length for base, length in regions)


class DmaSafety:
    """Write-region, descriptor-table and used.idx-ordering checks (issue 4 item 3), from the ring layouts the
    testbench registers, the `be_req` handshakes and the write bursts."""

    def __init__(self, mem, indirect_ok: bool = True, max_chain_len: int = c.QUEUE_SIZE_LIMIT):
        self.mem = mem
        self.indirect_ok = indirect_ok
        self.max_chain_len = max_chain_len
        self.layouts: dict = {}        # queue -> RingLayout
        self.published: dict = {}      # queue -> used.idx last written
        self.in_flight: dict = {}      # (queue, head) -> _InFlight
        self.forget_first_request = False   # planted fault `forget_chain`

    def track(self, queue: int, layout: RingLayout, used_idx: int) -> None:
        """A queue set up by the driver: its layout and the used.idx its ring starts with."""
        self.layouts[queue] = layout
        self.published[queue] = used_idx
        self.in_flight = {key: f for key, f in self.in_flight.items() if key[0] != queue}

    def forget_all(self) -> None:
        self.layouts.clear()
        self.published.clear()
        self.in_flight.clear()

    def request(self, queue: int, head: int) -> None:
        """A `be_req` handshake: the chain is in flight; its buffers are read from guest memory now."""
        if self.forget_first_request:
            self.forget_first_request = False
            return
        layout = self.layouts.get(queue)
        if layout is None:
            raise CheckerFailure(f"write monitor: a backend request for queue {queue}, which the testbench never "
                                 f"saw set up")
        view = _TableRecorder(self.mem)
        try:
            chain = walk_chain(view, layout.desc, layout.size, head, indirect_ok=self.indirect_ok,
                               max_chain_len=self.max_chain_len)
        except (MalformedChain, DmaError) as error:
            raise CheckerFailure(f"write monitor: a backend request for queue {queue} head {head}, whose chain is "
                                 f"malformed ({error})") from None
        tables = [(addr, n) for addr, n in view.reads if not layout.desc <= addr < layout.desc + 16 * layout.size]
        self.in_flight[(queue, head)] = _InFlight([(b.addr, b.len) for b in chain.writable if b.len], tables)

    def check_write(self, burst: Burst) -> None:
        """A write burst whose data is all in: every strobed byte in an allowed place; a used.idx write only once
        every write it depends on has its response."""
        for addr in burst.written:
            where = self._descriptor_area(addr)
            if where:
                raise CheckerFailure(f"write monitor: the engine writes {addr:#x}, inside {where} (SPEC 4.4: the "
                                     f"device never writes a descriptor table)")
            if not self._allowed(addr):
                raise CheckerFailure(f"write monitor: the engine writes {addr:#x}, outside the used rings and the "
                                     f"device-writable buffers of the chains in flight")
        for queue, layout in self.layouts.items():
            idx_bytes = {layout.used_idx_addr, layout.used_idx_addr + 1}
            if idx_bytes & burst.written.keys():
                self._check_publish(queue, layout, burst, idx_bytes)

    def _descriptor_area(self, addr: int) -> str:
        for queue, layout in self.layouts.items():
            if layout.desc <= addr < layout.desc + c.DESC_SIZE * layout.size:
                return f"the descriptor table of queue {queue}"
        for (queue, head), flight in self.in_flight.items():
            if _inside(addr, flight.tables):
                return f"an indirect table of queue {queue} head {head}"
        return ""

    def _allowed(self, addr: int) -> bool:
        for layout in self.layouts.values():
            if layout.used_idx_addr <= addr < layout.used_idx_addr + layout.used_bytes - 2:
                return True
        return any(_inside(addr, flight.writable) for flight in self.in_flight.values())

    def _check_publish(self, queue: int, layout: RingLayout, burst: Burst, idx_bytes: set) -> None:
        if idx_bytes - burst.written.keys():
            raise CheckerFailure(f"write monitor: a write of one byte of queue {queue}'s used.idx")
        new = burst.written[layout.used_idx_addr] | burst.written[layout.used_idx_addr + 1] << 8
        old = self.published[queue]
        elements = [layout.used_elem_addr(u16(old + i)) for i in range(u16(new - old))]
        depends = [(addr, c.USED_ELEM_SIZE) for addr in elements]
        heads = [int.from_bytes(self.mem.read(addr, 4), "little") for addr in elements]
        for head in heads:
            flight = self.in_flight.get((queue, head))
            depends += flight.writable if flight is not None else []
        own = [addr for addr in burst.written if addr not in idx_bytes and _inside(addr, depends)]
        if own:
            raise CheckerFailure(f"used.idx monitor: queue {queue} used.idx {old:#x} -> {new:#x} is written in the "
                                 f"same burst as bytes it publishes ({own[0]:#x}) (SPEC 4.5)")
        for earlier in burst.issued_before:  # the writes without a response when this one was issued
            if any(_inside(addr, depends) for addr in earlier.written):
                raise CheckerFailure(
                    f"used.idx monitor: queue {queue} used.idx {old:#x} -> {new:#x} was issued before the write "
                    f"response of the burst at {earlier.addr:#x} it depends on (SPEC 4.5, rule 8.11)")
        self.published[queue] = new
        for head in heads:
            self.in_flight.pop((queue, head), None)


class _TableRecorder:
    """Guest memory as `walk_chain` reads it, recording each read (the indirect tables among them)."""

    def __init__(self, mem):
        self.mem = mem
        self.reads = []

    def dma_read(self, addr: int, n: int) -> bytes:
        self.reads.append((addr, n))
        return self.mem.read(addr, n)


# -- backend streams -------------------------------------------------------------------------------------------------

class PacketJoiner:
    """AXI-Stream beats -> packets; checks the packing of rule 8.11 (every beat full but the last, whose low bytes
    are kept)."""

    def __init__(self, name: str, bus_bytes: int):
        self.name = name
        self.bus_bytes = bus_bytes
        self._data = bytearray()
        self._short_beat = False

    @property
    def partial(self) -> bytes:
        return bytes(self._data)

    def beat(self, tdata: int, tkeep: int, tlast: bool) -> Optional[bytes]:
        kept = bin(tkeep).count("1")
        if tkeep != (1 << kept) - 1 or kept == 0 or self._short_beat:
            raise CheckerFailure(f"{self.name} monitor: a packet is not packed (tkeep {tkeep:#x} after "
                                 f"{len(self._data)} bytes; rule 8.11)")
        self._short_beat = kept < self.bus_bytes
        self._data += tdata.to_bytes(self.bus_bytes, "little")[:kept]
        if not tlast:
            return None
        packet, self._data, self._short_beat = bytes(self._data), bytearray(), False
        return packet

    def reset(self) -> None:
        self._data, self._short_beat = bytearray(), False


# -- the monitor -----------------------------------------------------------------------------------------------------

@dataclass
class _Request:
    event: ev.BeRequest
    done: bool
    flushed: bool = False       # its packet was incomplete at a be_flush pulse

    def resolve(self, observer):
        """For a flushed request, decided when the scoreboard reaches it: told to the model only if the model still
        waits for that chain's request (the flush was a queue reset of another queue), else void and dropped."""
        if not self.flushed:
            return self.event
        queue = observer.core.queues[self.event.queue]
        waiting = [f for f in queue.flights if not f.requested and not f.raced]
        return self.event if waiting and waiting[0].walked and waiting[0].head == self.event.head else None


class DevMonitor:
    """Samples `virtio_pci_dev`'s ports at every rising edge (the values that edge sees), runs the checks above and
    turns what it sees into rule 8.12 events for the scoreboard, in this order within an edge: level changes the
    previous edge caused (msix_enable, INTx, be_quiesce, be_flush, diag_*), the interrupt handshake, the register
    access, `fault_inj`, `devcfg_wr`, guest-memory reads and writes, backend requests and completions.

    A backend request goes to the model with its `be_rd` packet, in request order; a completion with its `be_wr`
    packet. Diag rises and writes that belong to a completion whose packet is still arriving wait for it (the engine
    may write the first bytes before the last ones arrive); other writes are reported at their response; an error
    response or a be_flush pulse releases the completion early with the bytes so far. A request whose packet is
    still incomplete at a `be_flush` pulse (or an error response, or the write that starts a device or queue
    reset) is told to the model only if the model still waits for it (`_Request.resolve`); a void one is dropped,
    and its answer then looks like an unknown tag to the model, which only allows a diag rise (the RTL drops it)."""

    def __init__(self, tb):
        self.tb = tb
        self.dut = Ports(tb.dut)
        self.bus_bytes = tb.params.AXI_DATA_WIDTH // 8
        self.reads = AxiReadJoiner(self.bus_bytes)
        self.writes = AxiWriteJoiner(self.bus_bytes)
        self.safety = tb.safety
        self.rd_packets = PacketJoiner("be_rd", self.bus_bytes)
        self.wr_packets = PacketJoiner("be_wr", self.bus_bytes)
        self.fault = tb.fault
        self.edge = 0
        self.axil = AxilHandshakes(self.dut)
        self.isr_cleared_in_suspended = False
        self.requests: deque = deque()     # _Request in handshake order, not yet told to the model
        self.rd_owed: deque = deque()      # requests whose be_rd packet is still to come
        self.completion: Optional[ev.BeCompletion] = None  # metadata accepted, packet still arriving
        self.completion_buffers: list = []  # the writable buffers of that completion's chain
        self.held: list = []               # events waiting for that packet
        self.tag_chain: dict = {}          # tag -> (queue, head) of its last request
        self.offered_at_flush = False      # be_req_valid was high at the last be_flush pulse, not yet accepted
        self.released = False              # the open completion went to the model before its packet ended
        self.error_edge: Optional[int] = None  # edge of the first error response since the last reset
        self.counts = defaultdict(int)
        self.irqs: list = []
        self._core_state = getattr(getattr(tb.dut, CORE_STATE[0]), CORE_STATE[1])
        self._open_read: Optional[_OpenRead] = None
        self._prev = None
        self._task = None

    def start(self) -> None:
        self._prev = self._levels()
        self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def state(self) -> St:
        return St(value_of(self._core_state))

    def _levels(self) -> dict:
        d = self.dut
        return {"rst": is_high(d.rst), "state": value_of(self._core_state), "msix": is_high(d.msix_enable),
                "intx": is_high(d.intx), "quiesce": is_high(d.be_quiesce), "flush": is_high(d.be_flush),
                "len_err": is_high(d.diag_cpl_len_err), "bad_tag": is_high(d.diag_cpl_bad_tag),
                "irq_valid": is_high(d.irq_valid), "arvalid": is_high(d.m_axi_arvalid),
                "awvalid": is_high(d.m_axi_awvalid), "ar": False, "aw": False}

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.dut.clk)
            self.edge += 1
            self._step()

    # -- one edge
    def _step(self) -> None:
        d, prev = self.dut, self._prev
        s = self._levels()
        out: list = []
        self._level_events(s, prev, out)
        self._check_suspended_irqs(s, prev)

        if s["irq_valid"] and is_high(d.irq_ready):
            self.irqs.append(value_of(d.irq_vector))
            out.append(ev.Irq(self.irqs[-1]))
        self._register_access(s, out)
        if is_high(d.fault_inj) and not self.axil.reset_pending:
            out.append(ev.FaultInj())
        if is_high(d.devcfg_wr_valid):
            out.append(ev.DevCfgWrite(value_of(d.devcfg_wr_addr), value_of(d.devcfg_wr_data)))
        self._guest_memory(s, prev, out)
        self._backend(s, out)
        self._prev = s

        scoreboard = self.tb.scoreboard
        if scoreboard is not None:
            for item in out:
                scoreboard.push(item if isinstance(item, (tuple, _OpenRead)) or callable(item) else (item, s["state"]))
            scoreboard.feed()

    def _level_events(self, s: dict, prev: dict, out: list) -> None:
        if s["msix"] != prev["msix"]:
            out.append(ev.MsixEnable(s["msix"]))
        if s["intx"] != prev["intx"]:
            out.append(ev.Intx(s["intx"]))
        if s["quiesce"] != prev["quiesce"]:
            out.append(ev.Quiesce(s["quiesce"]))
        if s["flush"]:
            self._release_open_completion(out)
            self._flag_flushed_requests()
            out.append(ev.BeFlush())
            self.counts["flush"] += 1
        for name, level in (("cpl_len_err", "len_err"), ("cpl_bad_tag", "bad_tag")):
            if s[level] and not prev[level]:
                self._emit_after_completion(ev.Diag(name), out)
                self.counts[name] += 1

    def _check_suspended_irqs(self, s: dict, prev: dict) -> None:
        suspended = s["state"] == St.SUSPENDED
        if self.fault == "irq_state":  # planted: the monitor also counts SUSPENDING as suspended
            suspended = suspended or s["state"] == St.SUSPENDING
        if not suspended:
            self.isr_cleared_in_suspended = False
            return
        if s["irq_valid"] and not prev["irq_valid"]:
            raise CheckerFailure("SUS-25 monitor: an interrupt message was raised while SUSPENDED")
        if s["intx"] and not prev["intx"] and s["msix"] == prev["msix"]:
            raise CheckerFailure("SUS-25 monitor: INTx was raised by a new ISR bit while SUSPENDED")

    # -- AXI4-Lite register accesses
    def _register_access(self, s: dict, out: list) -> None:
        write, araddr, rdata = self.axil.step()
        if write is not None:
            out.append((write, s["state"]))
            if self.axil.reset_pending or is_queue_reset_write(write):
                # The model resets (the device or a queue) at this write and voids the tags (rule 8.12: the reset
                # is atomic), the engine's be_flush comes later: a request whose packet ends at this edge is judged
                # as at the pulse.
                self._flag_flushed_requests()
        if rdata is not None:
            self._close_read(rdata, s["state"])
        if araddr is not None:
            self._open_read = _OpenRead(araddr)
            out.append(self._open_read)

    def _close_read(self, data: int, state: int) -> None:
        read, self._open_read = self._open_read, None
        if read is None:
            raise CheckerFailure("register monitor: an R handshake without an accepted read")
        if read.addr & ~3 == c.BAR_ISR and state == St.SUSPENDED:
            if self.isr_cleared_in_suspended and data & 0xFF:
                raise CheckerFailure(f"SUS-25 monitor: ISR read {data & 0xFF:#x} in SUSPENDED after an ISR read "
                                     f"there had cleared it")
            self.isr_cleared_in_suspended = True
        read.data = data

    # -- AXI4 guest memory
    def _guest_memory(self, s: dict, prev: dict, out: list) -> None:
        d = self.dut
        forbidden = prev["rst"] or prev["state"] not in DMA_STATES
        if self.fault == "dma_state":  # planted: the monitor also forbids SUSPENDING
            forbidden = forbidden or prev["state"] == St.SUSPENDING
        if s["rst"] or s["state"] == St.INIT:
            self.error_edge = None  # a reset ends the freeze
        for kind in ("ar", "aw"):
            new_offer = s[f"{kind}valid"] and (not prev[f"{kind}valid"] or prev[kind])
            if new_offer and forbidden:
                state = "rst" if prev["rst"] else St(prev["state"]).name
                raise CheckerFailure(f"DMA monitor: an m_axi_ {kind.upper()} offer at {self._addr(kind):#x} decided "
                                     f"in {state} (no guest-memory access outside RUNNING and SUSPENDING: SUS-07, "
                                     f"SUS-13, SUS-15, rule 8.11)")
            if new_offer and self.error_edge is not None and self.edge >= self.error_edge + 2:
                raise CheckerFailure(f"DMA monitor: an m_axi_ {kind.upper()} offer at {self._addr(kind):#x}, "
                                     f"{self.edge - self.error_edge} cycles after an error response (rule 8.9: "
                                     f"every queue freezes at once, only transactions already issued retire)")
        if is_high(d.m_axi_rvalid) and is_high(d.m_axi_rready):
            read = self.reads.beat(value_of(d.m_axi_rid), value_of(d.m_axi_rdata), value_of(d.m_axi_rresp),
                                   is_high(d.m_axi_rlast))
            if read is not None:
                out.append(read)
                self.counts["dma_read"] += 1
                self._after_response(read.resp)
        if is_high(d.m_axi_bvalid) and is_high(d.m_axi_bready):
            for write in self.writes.response(value_of(d.m_axi_bid), value_of(d.m_axi_bresp)):
                self._emit_after_completion(write, out)
                self.counts["dma_write"] += 1
                self._after_response(write.resp)
        s["ar"] = s["arvalid"] and is_high(d.m_axi_arready)
        if s["ar"]:
            self.reads.address(value_of(d.m_axi_arid), value_of(d.m_axi_araddr), value_of(d.m_axi_arlen),
                               value_of(d.m_axi_arsize), value_of(d.m_axi_arburst))
        s["aw"] = s["awvalid"] and is_high(d.m_axi_awready)
        completed = []
        if s["aw"]:
            burst = self.writes.address(value_of(d.m_axi_awid), value_of(d.m_axi_awaddr), value_of(d.m_axi_awlen),
                                        value_of(d.m_axi_awsize), value_of(d.m_axi_awburst))
            completed.append(burst)
        if is_high(d.m_axi_wvalid) and is_high(d.m_axi_wready):
            completed.append(self.writes.data(value_of(d.m_axi_wdata), value_of(d.m_axi_wstrb),
                                              is_high(d.m_axi_wlast)))
        for burst in completed:
            if burst is not None:
                self.safety.check_write(burst)

    def _after_response(self, resp: str) -> None:
        """An error response sends the engine to HALTED (rule 8.9), where every tag becomes void: the requests whose
        packet is still owed, or offered now, are judged as at a be_flush pulse (the model halts at the response
        itself, the engine a few cycles later, at its flush pulse)."""
        planted = self.fault == "error_freeze" and self.counts["dma_write"] == 1  # the first write response
        if resp != ev.OKAY or planted:
            if self.error_edge is None:
                self.error_edge = self.edge
            self._flag_flushed_requests()

    def _addr(self, kind: str) -> int:
        return value_of(getattr(self.dut, f"m_axi_{kind}addr"))

    # -- backend
    def _backend(self, s: dict, out: list) -> None:
        d = self.dut
        if is_high(d.be_req_valid) and is_high(d.be_req_ready):
            request = _Request(ev.BeRequest(value_of(d.be_req_queue), value_of(d.be_req_head),
                                            value_of(d.be_req_tag), value_of(d.be_req_rd_len),
                                            value_of(d.be_req_wr_len)), done=False)
            request.done = request.event.rd_len == 0
            request.flushed, self.offered_at_flush = self.offered_at_flush, False  # offered at a flush pulse
            self.requests.append(request)
            if not request.done:
                self.rd_owed.append(request)
            self.safety.request(request.event.queue, request.event.head)
            self.tag_chain[request.event.tag] = (request.event.queue, request.event.head)
            self.counts["request"] += 1
        if is_high(d.be_rd_tvalid) and is_high(d.be_rd_tready):
            packet = self.rd_packets.beat(value_of(d.be_rd_tdata), value_of(d.be_rd_tkeep), is_high(d.be_rd_tlast))
            if packet is not None:
                self._rd_packet(packet)
        while self.requests and self.requests[0].done:
            out.append(self.requests.popleft().resolve)
        if is_high(d.be_cpl_valid) and is_high(d.be_cpl_ready):
            if self.completion is not None:
                raise CheckerFailure("be_cpl monitor: a completion accepted before the be_wr packet of the previous "
                                     "one ended (the testbench's backend sends them in order)")
            cpl = ev.BeCompletion(value_of(d.be_cpl_tag), value_of(d.be_cpl_len), is_high(d.be_cpl_err))
            self.counts["completion"] += 1
            if cpl.length == 0:
                out.append(cpl)
            else:
                self.completion = cpl
                flight = self.safety.in_flight.get(self.tag_chain.get(cpl.tag))
                self.completion_buffers = flight.writable if flight is not None else []
        if is_high(d.be_wr_tvalid) and is_high(d.be_wr_tready):
            packet = self.wr_packets.beat(value_of(d.be_wr_tdata), value_of(d.be_wr_tkeep), is_high(d.be_wr_tlast))
            if packet is not None:
                if self.completion is None and not self.released:
                    raise CheckerFailure("be_wr monitor: a packet without a completion")
                if self.completion is not None:
                    cpl, self.completion = self.completion, None
                    out.append(ev.BeCompletion(cpl.tag, cpl.length, cpl.err, packet))
                    out += self.held
                    self.held = []
                self.released = False

    def _rd_packet(self, packet: bytes) -> None:
        if not self.rd_owed:
            raise CheckerFailure("be_rd monitor: a packet for no request (one per request with rd_len > 0)")
        request = self.rd_owed.popleft()
        if len(packet) != request.event.rd_len:
            raise CheckerFailure(f"be_rd monitor: a {len(packet)}-byte packet for a request with rd_len "
                                 f"{request.event.rd_len} (rule 8.11)")
        e = request.event
        request.event = ev.BeRequest(e.queue, e.head, e.tag, e.rd_len, e.wr_len, packet)
        request.done = True

    def _flag_flushed_requests(self) -> None:
        """At a be_flush pulse, requests still waiting for their packet, and the one offered at the pulse, may be
        void (rule 8.11: metadata offered at the pulse is still transferred, its packet still comes in full, zeros
        for bytes not read): the scoreboard decides when it reaches them (_Request.resolve)."""
        for request in self.rd_owed:
            request.flushed = True
        self.offered_at_flush = is_high(self.dut.be_req_valid)

    def _emit_after_completion(self, event, out: list) -> None:
        """Diag rises, and writes that belong to the completion whose packet is still arriving, wait for its
        BeCompletion; every other write goes out at its response (a used-ring or avail_event write must not be
        reported after a read that the engine issued only once it had the write's response)."""
        if self.completion is None:
            out.append(event)
        elif isinstance(event, ev.DmaWrite) and not self._of_open_completion(event):
            out.append(event)
        elif isinstance(event, ev.DmaWrite) and event.resp != ev.OKAY:
            self._release_open_completion(out)
            out.append(event)
        else:
            self.held.append(event)

    def _release_open_completion(self, out: list) -> None:
        """An error response on one of its writes, or a be_flush pulse, while a completion's packet is still
        arriving: the engine halts or drops it before the packet ends. The model gets the completion now, with the
        bytes that have arrived (all the engine could have written), then what was held; the rest of the packet is
        consumed without an event."""
        if self.completion is None:
            return
        cpl, self.completion = self.completion, None
        out.append(ev.BeCompletion(cpl.tag, cpl.length, cpl.err, self.wr_packets.partial))
        out += self.held
        self.held = []
        self.released = True

    def _of_open_completion(self, write: ev.DmaWrite) -> bool:
        """Into its chain's writable buffers, its used element (id = its head; the len half of an element written in
        parts, because it straddles 4 KiB, goes with its id half), or, once that element is held, its queue's
        used.idx."""
        if _inside(write.addr, self.completion_buffers):
            return True
        queue, head = self.tag_chain.get(self.completion.tag, (None, None))
        layout = self.safety.layouts.get(queue)
        if layout is None:
            return False
        elements = layout.used_elem_addr(0)
        if elements <= write.addr < elements + c.USED_ELEM_SIZE * layout.size:
            offset = (write.addr - elements) % c.USED_ELEM_SIZE
            if offset:
                return any(isinstance(e, ev.DmaWrite) and e.addr == write.addr - offset for e in self.held)
            return len(write.data) >= 4 and int.from_bytes(write.data[:4], "little") == head
        return write.addr == layout.used_idx_addr and any(
            isinstance(e, ev.DmaWrite) and elements <= e.addr < elements + c.USED_ELEM_SIZE * layout.size
            for e in self.held)
