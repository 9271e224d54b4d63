"""Testbench of the guest-memory DMA block `virtio_dma` (rtl/virtio_dma.sv, docs/rtl-dma.md).

    tb = DmaTB(dut, rng)                    # clock, guest RAM on m_axi, stream sinks/source, command drivers, monitors
    await tb.reset()
    tb.read(port, [(addr, len), ...])       # one packet of commands (rdN_cmd_last on the final one)
    tb.write_imm(addr, data) / tb.write_stream(addr, len)
    await tb.finish()                       # everything drained, then every packet, completion and byte judged

Pieces:
- `GuestRam`: cocotbext-axi's AxiRam (AxiRamRead/AxiRamWrite) with an `ErrorMap`: an access that touches one of its
  regions raises inside the RAM's `_read`/`_write`, which AxiRam itself answers with SLVERR; for a DECERR region the
  response transaction is rewritten on its way to the R/B channel (AxiRam has no other way to answer DECERR).
- `CommandPort`: drives one valid/ready command port from a queue, with seeded idle cycles.
- Read side: one AxiStreamSink per read port (`rdN_terr` bound as tuser); `ReadChecker` compares every packet with
  the bytes and error flag the reference (`ram_bytes` at issue time, the ErrorMap) expects.
- Write side: AxiStreamSource on `wr_` fed the stream bytes in chunks of seeded length, cut independently of the
  commands (so beats split across commands and commands span beats); the reference applies every write to a copy
  of the RAM, which `finish` compares with the whole RAM (bytes outside every command must not change); `wr_done`
  pulses are compared in order with the expected error flags.
- `AxiMonitor` (every cycle) fails the test on: a burst crossing 4 KiB, longer than MAX_BURST_BEATS or not INCR;
  an AW or rd1 AR burst not of full bus words or not word aligned; an rd0 AR whose AXI range [araddr, araddr +
  (arlen+1) * 2^arsize) is not the next unread piece of the accepted rd0 commands (in order: within the command,
  no gap, every byte read by the end), or whose size is not the largest 2^s <= KW dividing both its address and its
  byte count; a read port above RD_OUTSTANDING bursts in flight; a strobed byte other than
  the next byte of the accepted write commands (in order), a wrong wlast; a read beat not full before tlast or a
  tlast beat whose tkeep is not contiguous from lane 0; `dma_idle` high with an AXI request or a stream beat
  waiting, a read burst or a write command open; `rd0_bus_end` high at an edge other than one that takes the rlast
  beat of an rd0 command's last burst, or low at such an edge.
- Freeze (SPEC 4.7): the monitor mirrors the block's stop (an error B or the rlast beat of a read burst with an error
  beat, sticky until `dma_freeze`; `dma_freeze` itself) and fails the test on an AR or AW request appearing at an edge
  after the one at which the block stopped (one already waiting may complete). It follows each accepted command's
  bytes through its bursts (`Span`); once stopped with no request left on a channel, bytes not covered are dropped:
  the read checker lets them hold anything and wants terr, the wr_done checker wants wr_done_err, and the strobe
  monitor no longer expects them. `dma_freeze` is driven by `set_freeze` / `freeze_pulse` (it falls only when
  drained).

Planted faults, selected by the environment variable DMA_TB_FAULT (tests/rtl/test_dma.py), each breaking what one
checker guards: `corrupt_read` (one expected read byte flipped), `corrupt_write` (one expected memory byte flipped),
`narrow_range` (the strobe monitor's commands one byte shorter), `boundary_2k` (the boundary monitor judges 2 KiB),
`burst_half` (the burst-length monitor allows MAX_BURST_BEATS/2), `outstanding_1` (the outstanding monitor allows
1), `outstanding_floor` (the random test wants more than RD_OUTSTANDING outstanding observed), `stall_rd0` (the
testbench also stalls the rd0 sink in the stalled-rd1 test), `flip_done_err` (one expected wr_done_err flipped),
`flip_terr` (one expected terr flipped), `late_done` (the idle monitor closes a write command one cycle after its
wr_done), `keep_full_last` (the stream monitor wants full tlast beats too), `drop_done` (the reference forgets the
first write command's completion), `rd0_short_range` (the rd0 range monitor takes each command one byte shorter),
`rd0_long_range` (the rd0 range monitor takes each command one byte longer), `rd0_full_size` (the rd0 size monitor
wants full bus words, as rd1), `freeze_on_okay` (the freeze mirror takes every response for an error),
`bus_end_every_burst` (the rd0_bus_end monitor expects a pulse at the rlast beat of every rd0 burst).
"""

import logging
import os
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Optional

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotb_coverage.coverage import CoverCross, CoverPoint
from cocotbext.axi import AxiBus, AxiResp, AxiStreamBus, AxiStreamSink, AxiStreamSource
from cocotbext.axi.axi_ram import AxiRamRead, AxiRamWrite
from cocotbext.axi.memory import Memory

from .tb_common import CheckerFailure, Ports, random_pause, value_of

TOPLEVEL = "virtio_dma"
CLOCK_PERIOD_NS = 4
MEM_SIZE = 1 << 16  # the RAM answers address % MEM_SIZE: tests put their own high bits on top
ADDR_MASK = (1 << 64) - 1
ENV_FAULT = "DMA_TB_FAULT"
FAULTS = ("corrupt_read", "corrupt_write", "narrow_range", "boundary_2k", "burst_half", "outstanding_1",
          "outstanding_floor", "stall_rd0", "flip_done_err", "flip_terr", "late_done", "keep_full_last",
          "drop_done", "rd0_short_range", "rd0_long_range", "rd0_full_size", "freeze_on_okay", "bus_end_every_burst")
TIMEOUT = {"timeout_time": 20, "timeout_unit": "ms"}  # simulated time per cocotb test: a hang fails

PARAMSETS = {
    "dw64": {"AXI_DATA_WIDTH": 64},
    "dw128": {"AXI_DATA_WIDTH": 128},
    "dw64_short": {"AXI_DATA_WIDTH": 64, "MAX_BURST_BEATS": 4, "RD_OUTSTANDING": 2},
    "dw128_long": {"AXI_DATA_WIDTH": 128, "MAX_BURST_BEATS": 256, "RD_OUTSTANDING": 6},
}


def rtl_parameters(paramset: str) -> dict:
    return dict(PARAMSETS[paramset])


# -- functional coverage: covergroup `dma` ----------------------------------------------------------------------------

LANES = ["first", "inner", "last"]            # where a command starts in its bus word
LENGTHS = ["1", "under_word", "word", "under_2_words", "longer"]
CUTS = ["end", "4k", "max_beats"]             # why a burst ends where it does
DIRECTIONS = ["read", "write"]


def lane_class(addr: int, kw: int) -> str:
    lane = addr % kw
    return "first" if lane == 0 else "last" if lane == kw - 1 else "inner"


def length_class(length: int, kw: int) -> str:
    if length == 1:
        return "1"
    return "under_word" if length < kw else "word" if length == kw else "under_2_words" if length < 2 * kw else "longer"


@CoverPoint("dma.command_kind", xf=lambda kind, lane, length: kind, bins=["rd0", "rd1", "wr_stream", "wr_imm"])
@CoverPoint("dma.command_lane", xf=lambda kind, lane, length: lane, bins=LANES)
@CoverPoint("dma.command_length", xf=lambda kind, lane, length: length, bins=LENGTHS)
@CoverCross("dma.kind_x_lane_x_length", items=["dma.command_kind", "dma.command_lane", "dma.command_length"],
            ign_bins=[("wr_imm", None, "longer")] + [("wr_imm", None, "under_2_words")])
def sample_command(kind: str, lane: str, length: str) -> None:
    """A command accepted on a port: which port x its start lane x its length class."""


@CoverPoint("dma.burst_direction", xf=lambda direction, cut: direction, bins=DIRECTIONS)
@CoverPoint("dma.burst_cut", xf=lambda direction, cut: cut, bins=CUTS)
@CoverCross("dma.direction_x_cut", items=["dma.burst_direction", "dma.burst_cut"])
def sample_burst(direction: str, cut: str) -> None:
    """A burst accepted on AR or AW and why it ends there."""


RD0_SIZES = ["byte", "half", "narrow", "word"]  # an rd0 burst's size: 1, 2, 4 .. KW/2 bytes, a full word
RD0_CUTS = ["end", "4k", "max_beats", "alignment"]  # alignment: a head of whole beats, the unaligned tail follows


def rd0_size_class(size: int, kw: int) -> str:
    return "word" if 1 << size == kw else RD0_SIZES[min(size, 2)]


@CoverPoint("dma.rd0_size", xf=lambda size, cut: size, bins=RD0_SIZES)
@CoverPoint("dma.rd0_cut", xf=lambda size, cut: cut, bins=RD0_CUTS)
@CoverCross("dma.rd0_size_x_cut", items=["dma.rd0_size", "dma.rd0_cut"], ign_bins=[("byte", "alignment")])
def sample_rd0_burst(size: str, cut: str) -> None:
    """An rd0 burst accepted on AR: its beat size x why it ends there (a byte-size burst is never cut for
    alignment: it takes the whole rest unless 4 KiB or MAX_BURST_BEATS stop it)."""


@CoverPoint("dma.error_direction", xf=lambda direction, resp: direction, bins=DIRECTIONS)
@CoverPoint("dma.error_resp", xf=lambda direction, resp: resp, bins=["SLVERR", "DECERR"])
@CoverCross("dma.direction_x_error", items=["dma.error_direction", "dma.error_resp"])
def sample_error(direction: str, resp: str) -> None:
    """An error response taken on R or B."""


# -- guest memory with injected errors -------------------------------------------------------------------------------

@dataclass
class ErrorMap:
    """Regions [start, end) of RAM offsets (address % MEM_SIZE) that answer an error instead of OKAY."""

    regions: list = field(default_factory=list)

    def add(self, start: int, length: int, resp: AxiResp) -> None:
        self.regions.append((start % MEM_SIZE, start % MEM_SIZE + length, resp))

    def hit(self, addr: int, length: int) -> Optional[AxiResp]:
        for offset in (addr % MEM_SIZE, addr % MEM_SIZE - MEM_SIZE):  # a range may wrap the RAM's end
            for start, end, resp in self.regions:
                if offset < end and start < offset + length:
                    return resp
        return None


class InjectedError(Exception):
    """Raised inside AxiRam's access hooks: AxiRam answers it with SLVERR."""


class _RamRead(AxiRamRead):
    def __init__(self, errors: ErrorMap, *args, **kwargs):
        self.errors = errors
        self._resp = None
        super().__init__(*args, **kwargs)
        send = self.r_channel.send

        async def send_with_resp(r):
            if self._resp is not None:
                r.rresp = self._resp
                self._resp = None
            await send(r)

        self.r_channel.send = send_with_resp

    async def _read(self, address, length):
        self._resp = self.errors.hit(address, length)
        if self._resp is not None:
            raise InjectedError
        return await super()._read(address, length)


class _RamWrite(AxiRamWrite):
    def __init__(self, errors: ErrorMap, *args, **kwargs):
        self.errors = errors
        self._resp = None
        super().__init__(*args, **kwargs)
        send = self.b_channel.send

        async def send_with_resp(b):
            if self._resp is not None:
                b.bresp = self._resp
                self._resp = None
            await send(b)

        self.b_channel.send = send_with_resp

    async def _write(self, address, data):
        resp = self.errors.hit(address, len(data))
        if resp is not None:
            self._resp = self._resp or resp
            raise InjectedError
        await super()._write(address, data)


class GuestRam(Memory):
    """cocotbext-axi's AxiRam, built from its own read and write halves with the ErrorMap hooks above."""

    def __init__(self, bus: AxiBus, clock, reset, errors: ErrorMap):
        super().__init__(MEM_SIZE)
        self.write_if = _RamWrite(errors, bus.write, clock, reset, True, mem=self.mem)
        self.read_if = _RamRead(errors, bus.read, clock, reset, True, mem=self.mem)
        self.channels = [self.write_if.aw_channel, self.write_if.w_channel, self.write_if.b_channel,
                         self.read_if.ar_channel, self.read_if.r_channel]

    def bytes_at(self, addr: int, length: int) -> bytes:
        offset = addr % MEM_SIZE
        if offset + length <= MEM_SIZE:
            return bytes(self.read(offset, length))
        return bytes(self.read(offset, MEM_SIZE - offset)) + self.bytes_at(0, length - (MEM_SIZE - offset))


class ReadStreamBus(AxiStreamBus):
    """A read port's stream: rdN_terr travels as the sink's tuser."""

    _optional_signals = {"tvalid": "tvalid", "tready": "tready", "tlast": "tlast", "tkeep": "tkeep",
                         "tuser": "terr"}


# -- command ports ---------------------------------------------------------------------------------------------------

class CommandPort:
    """Drives `<prefix>_cmd_valid` and the named `<prefix>_cmd_<field>` ports from a queue, one command per
    handshake, idle for a seeded random number of cycles in between."""

    def __init__(self, dut, prefix: str, fields: tuple, rng: random.Random, idle: float):
        self.clk = dut.clk
        self.valid = getattr(dut, f"{prefix}_cmd_valid")
        self.ready = getattr(dut, f"{prefix}_cmd_ready")
        self.fields = {name: getattr(dut, f"{prefix}_cmd_{name}") for name in fields}
        self.queue: deque = deque()
        self.idle = random_pause(rng, idle)
        self.busy = False
        self.valid.value = 0

    def send(self, **values: int) -> None:
        self.queue.append(values)

    def start(self) -> None:
        cocotb.start_soon(self._run())

    @property
    def empty(self) -> bool:
        return not self.queue and not self.busy

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            if self.busy and self.ready.value:
                self.busy = False
            if not self.busy and self.queue and not next(self.idle):
                for name, value in self.queue.popleft().items():
                    self.fields[name].value = value
                self.busy = True
            self.valid.value = int(self.busy)


# -- read reference and checker --------------------------------------------------------------------------------------

@dataclass
class ExpectedPacket:
    data: bytes     # the RAM's bytes when the read was asked for
    commands: list  # (addr, len)


@dataclass
class Span:
    """One accepted command as the bus monitor follows it: `left` of its `need` bytes (its length, but for the
    planted rd0 range faults) are not yet covered by an AR/AW burst, the next at `next`; `dropped` once a freeze
    closed it with bytes left (they never reach the bus). Writes also count the bytes still to be strobed
    (`strobe_next`, `strobe_left`)."""

    addr: int
    length: int
    need: int
    next: int = 0
    left: int = 0
    dropped: bool = False
    strobe_next: int = 0
    strobe_left: int = 0

    def __post_init__(self) -> None:
        self.next, self.left = self.addr, self.need

    @property
    def covered(self) -> int:
        """Bytes of the command (from its start) that a burst on the bus covered."""
        return max(0, min(self.length, self.need - self.left))


class ReadChecker:
    """Takes every packet of one read port's sink and compares it with the next expected one. What may differ is
    settled when the packet has come (its bursts are then all issued or dropped): bytes of a word that answered an
    error and bytes of dropped bursts may hold anything, and terr is expected iff there is such a byte."""

    def __init__(self, port: int, sink: AxiStreamSink, tb: "DmaTB"):
        self.port = port
        self.sink = sink
        self.tb = tb
        self.expected: deque = deque()
        self.received = 0
        cocotb.start_soon(self._run())

    def _unknown(self, want: ExpectedPacket) -> set:
        kw = self.tb.kw
        records = self.tb.monitor.read_records[self.port]
        if len(records) < len(want.commands):
            raise CheckerFailure(f"read checker: rd{self.port} sent a packet before its commands were accepted")
        unknown = set()
        position = 0
        for addr, length in want.commands:
            covered = records.popleft().covered
            for i in range(length):
                if i >= covered or self.tb.errors.hit((addr + i) & ~(kw - 1), kw):
                    unknown.add(position + i)
            position += length
        return unknown

    async def _run(self) -> None:
        while True:
            frame = await self.sink.recv()
            if not self.expected:
                raise CheckerFailure(f"read checker: rd{self.port} sent a packet nobody asked for: {frame}")
            want = self.expected.popleft()
            unknown = self._unknown(want)
            want_err = bool(unknown)
            if want_err and self.tb._plant("flip_terr"):
                want_err = False
            data = bytes(frame.tdata)
            if unknown and len(data) == len(want.data):
                data = bytes(want.data[i] if i in unknown else byte for i, byte in enumerate(data))
            if data != want.data:
                first = next((i for i, (a, b) in enumerate(zip(data, want.data)) if a != b), min(len(data),
                                                                                                 len(want.data)))
                raise CheckerFailure(f"read checker: rd{self.port} packet {self.received} of commands "
                                     f"{[(hex(a), n) for a, n in want.commands]}: {len(data)} bytes, expected "
                                     f"{len(want.data)}; first difference at byte {first}")
            tuser = frame.tuser if isinstance(frame.tuser, list) else [frame.tuser]
            err = bool(tuser[-1]) if tuser else False
            if err != want_err:
                raise CheckerFailure(f"read checker: rd{self.port} packet {self.received} of commands "
                                     f"{[(hex(a), n) for a, n in want.commands]}: terr {err}, expected {want_err}")
            self.received += 1

    @property
    def done(self) -> bool:
        return not self.expected


# -- bus monitor -----------------------------------------------------------------------------------------------------

class AxiMonitor:
    """Samples the ports at every rising edge (the values the edge sees) and checks the m_axi_ rules, the read
    streams' beat shapes and dma_idle (module docstring)."""

    def __init__(self, tb: "DmaTB"):
        self.tb = tb
        self.p = Ports(tb.dut)
        fault = tb.fault
        self.boundary = 2048 if fault == "boundary_2k" else 4096
        self.max_beats = tb.max_burst // 2 if fault == "burst_half" else tb.max_burst
        self.max_outstanding = 1 if fault == "outstanding_1" else tb.rd_outstanding
        self.outstanding = [0, 0]
        self.max_seen = [0, 0]
        self.aw_bursts: deque = deque()     # [addr, beats, beat index] of bursts whose W beats are not all seen
        self.w_beats: deque = deque()       # W beats seen before their AW
        self.open_writes = 0                # write commands accepted without their wr_done
        self.bursts = {"ar": 0, "aw": 0}
        self.rd0_bursts: list = []          # (araddr, arlen, arsize) of every rd0 AR, in order
        self.rd0_ends: deque = deque()      # rd0 bursts on the bus, in order: whether each ends its command
        self.rd0_extra = {"rd0_short_range": -1, "rd0_long_range": 1}.get(tb.fault, 0)
        # Spans of accepted commands, in order: still awaiting bursts (`*_open`), for the checkers (`*_records`,
        # taken at packet end / wr_done), still to be strobed (`write_ranges`), all of them (`history`).
        self.read_open = (deque(), deque())
        self.read_records = (deque(), deque())
        self.write_open: deque = deque()
        self.write_records: deque = deque()
        self.write_ranges: deque = deque()
        self.history = {"rd0": [], "rd1": [], "wr": []}
        self.dropped = 0                    # spans a freeze closed with bytes never put on the bus
        # freeze mirror (SPEC 4.7): the block's sticky stop, and whether it stopped it at the previous edge
        self.frozen = False
        self.stop_before = False
        self.held = {"ar": False, "aw": False}  # a request seen at the previous edge and not taken there
        self.r_failed: dict = {}            # RID -> an error beat seen in its burst in progress
        cocotb.start_soon(self._run())

    def _check_burst(self, kind: str, addr: int, length: int, size: int, burst: int) -> None:
        """An AW (kind "aw") or AR burst of read port 0 or 1 (kind "ar0", "ar1")."""
        kw = self.tb.kw
        beats = length + 1
        if burst != 1:
            raise CheckerFailure(f"{kind} monitor: burst at {addr:#x} has type {burst}: INCR expected")
        if kind == "ar0":
            self._check_rd0_range(addr, beats, size)
        else:
            if size != kw.bit_length() - 1:
                raise CheckerFailure(f"{kind} monitor: burst at {addr:#x} has size {size}: full bus words expected")
            if addr % kw:
                raise CheckerFailure(f"{kind} monitor: burst address {addr:#x} is not word aligned")
            self._cover_words(kind, self.write_open if kind == "aw" else self.read_open[1], addr, beats * kw)
        nbytes = beats << size
        if beats > self.max_beats:
            raise CheckerFailure(f"burst length monitor: {kind} burst at {addr:#x} has {beats} beats, more than "
                                 f"{self.max_beats}")
        if addr % self.boundary + nbytes > self.boundary:
            raise CheckerFailure(f"{self.boundary // 1024} KiB monitor: {kind} burst at {addr:#x} of {beats} "
                                 f"beats of {1 << size} bytes crosses a {self.boundary}-byte boundary")
        self.bursts["aw" if kind == "aw" else "ar"] += 1
        cut = "4k" if (addr + nbytes) % 4096 == 0 else "max_beats" if beats == self.tb.max_burst else "end"
        sample_burst("write" if kind == "aw" else "read", cut)

    @staticmethod
    def _next_open(spans: deque, kind: str, addr: int) -> Span:
        while spans and spans[0].left <= 0:
            spans.popleft()
        if not spans:
            raise CheckerFailure(f"{kind} range monitor: burst at {addr:#x} with no accepted command bytes left")
        return spans[0]

    def _cover_words(self, kind: str, spans: deque, addr: int, nbytes: int) -> None:
        """A full-word burst (rd1, AW) covers its command's bytes from the next one, starting at its word."""
        span = self._next_open(spans, kind, addr)
        if addr != span.next & ~(self.tb.kw - 1):
            raise CheckerFailure(f"{kind} cover monitor: burst at {addr:#x}, but the next byte of the accepted "
                                 f"commands is {span.next:#x}")
        covered = min(span.left, (addr + nbytes - span.next) & ADDR_MASK)
        span.next = (span.next + covered) & ADDR_MASK
        span.left -= covered

    def _check_rd0_range(self, addr: int, beats: int, size: int) -> None:
        """rd0 reads exactly its commands' bytes, in order, each burst at the largest size its range allows."""
        kw = self.tb.kw
        nbytes = beats << size
        self.rd0_bursts.append((addr, beats - 1, size))
        span = self._next_open(self.read_open[0], "rd0", addr)
        start, left = span.next, span.left
        if addr != start:
            raise CheckerFailure(f"rd0 cover monitor: AR at {addr:#x}, but the next unread byte of the rd0 "
                                 f"commands is {start:#x} ({left} bytes of that command left)")
        if nbytes > left:
            raise CheckerFailure(f"rd0 range monitor: AR [{addr:#x}, {addr + nbytes:#x}) ({beats} beats of "
                                 f"{1 << size} bytes) reaches {nbytes - left} bytes past its command")
        alignment = (addr | nbytes | kw) & -(addr | nbytes | kw)  # the largest power of two <= KW dividing both
        want = kw if self.tb.fault == "rd0_full_size" else alignment
        if 1 << size != want:
            raise CheckerFailure(f"rd0 size monitor: AR at {addr:#x} of {nbytes} bytes has beats of {1 << size} "
                                 f"bytes, expected {want}")
        span.next, span.left = (addr + nbytes) & ADDR_MASK, left - nbytes
        ends_command = nbytes == left
        ends_real_command = (addr + nbytes - span.addr) & ADDR_MASK == span.length  # not the planted range's
        self.rd0_ends.append(ends_real_command or self.tb.fault == "bus_end_every_burst")
        cut = ("end" if ends_command else "4k" if (addr + nbytes) % 4096 == 0
               else "max_beats" if beats == self.tb.max_burst else "alignment")
        sample_rd0_burst(rd0_size_class(size, kw), cut)

    async def _run(self) -> None:
        p = self.p
        kw = self.tb.kw
        while True:
            await RisingEdge(p.clk)
            if p.rst.value:
                self.rd0_ends.clear()
                continue
            idle = p.dma_idle.value
            self._check_freeze()
            self._check_rd0_bus_end()
            if p.m_axi_arvalid.value:
                if idle:
                    raise CheckerFailure("idle monitor: dma_idle high with an AR request waiting")
                if p.m_axi_arready.value:
                    port = value_of(p.m_axi_arid)
                    if port > 1:
                        raise CheckerFailure(f"AR monitor: ARID {port} belongs to no read port")
                    self._check_burst(f"ar{port}", value_of(p.m_axi_araddr), value_of(p.m_axi_arlen),
                                      value_of(p.m_axi_arsize), value_of(p.m_axi_arburst))
                    self.outstanding[port] += 1
                    self.max_seen[port] = max(self.max_seen[port], self.outstanding[port])
                    if self.outstanding[port] > self.max_outstanding:
                        raise CheckerFailure(f"outstanding monitor: rd{port} has {self.outstanding[port]} read "
                                             f"bursts in flight, more than {self.max_outstanding}")
            if p.m_axi_rvalid.value and p.m_axi_rready.value:
                if p.m_axi_rresp.value[1]:
                    sample_error("read", AxiResp(value_of(p.m_axi_rresp)).name)
                if p.m_axi_rlast.value:
                    self.outstanding[value_of(p.m_axi_rid) & 1] -= 1
            if p.m_axi_bvalid.value and p.m_axi_bready.value and value_of(p.m_axi_bresp) >= 2:
                sample_error("write", AxiResp(value_of(p.m_axi_bresp)).name)
            if p.m_axi_awvalid.value:
                if idle:
                    raise CheckerFailure("idle monitor: dma_idle high with an AW request waiting")
                if p.m_axi_awready.value:
                    addr = value_of(p.m_axi_awaddr)
                    length = value_of(p.m_axi_awlen)
                    self._check_burst("aw", addr, length, value_of(p.m_axi_awsize), value_of(p.m_axi_awburst))
                    self.aw_bursts.append([addr, length + 1, 0])
            if p.m_axi_wvalid.value and p.m_axi_wready.value:
                self.w_beats.append((value_of(p.m_axi_wstrb), bool(p.m_axi_wlast.value)))
            late_done = self.tb.fault == "late_done"
            if p.wr_done_valid.value and not late_done:
                self.open_writes -= 1
            if idle and (any(self.outstanding) or self.open_writes):
                raise CheckerFailure(f"idle monitor: dma_idle high with {self.outstanding} read bursts, "
                                     f"{self.open_writes} write commands open")
            if p.wr_done_valid.value and late_done:
                self.open_writes -= 1
            self._close_dropped()  # before this edge's commands: a stop that ends at this edge does not drop them
            for port in (0, 1):  # a command's first AR comes at a later edge
                if getattr(p, f"rd{port}_cmd_valid").value and getattr(p, f"rd{port}_cmd_ready").value:
                    length = value_of(getattr(p, f"rd{port}_cmd_len"))
                    span = Span(value_of(getattr(p, f"rd{port}_cmd_addr")), length,
                                length + (self.rd0_extra if port == 0 else 0))
                    self.read_open[port].append(span)
                    self.read_records[port].append(span)
                    self.history[f"rd{port}"].append(span)
            if p.wr_cmd_valid.value and p.wr_cmd_ready.value:  # open from this edge on
                length = value_of(p.wr_cmd_len)
                span = Span(value_of(p.wr_cmd_addr), length, length)
                span.strobe_next = span.addr
                span.strobe_left = length - (1 if self.tb.fault == "narrow_range" else 0)
                for spans in (self.write_open, self.write_records, self.write_ranges, self.history["wr"]):
                    spans.append(span)
                self.open_writes += 1
            self._match_w_beats()
            for port in (0, 1):
                valid = getattr(p, f"rd{port}_tvalid")
                if valid.value:
                    if idle:
                        raise CheckerFailure(f"idle monitor: dma_idle high with an rd{port} beat waiting")
                    if getattr(p, f"rd{port}_tready").value:
                        keep = value_of(getattr(p, f"rd{port}_tkeep"))
                        last = bool(getattr(p, f"rd{port}_tlast").value)
                        full = (1 << kw) - 1
                        must_be_full = not last or self.tb.fault == "keep_full_last"
                        if (must_be_full and keep != full) or keep == 0 or keep & (keep + 1):
                            raise CheckerFailure(f"stream monitor: rd{port} beat with tkeep {keep:#x}, tlast "
                                                 f"{last}: full beats before tlast, contiguous from lane 0")

    def _check_rd0_bus_end(self) -> None:
        """rd0_bus_end marks exactly the edges that take the rlast beat of an rd0 command's last burst."""
        p = self.p
        rlast0 = (p.m_axi_rvalid.value and p.m_axi_rready.value and p.m_axi_rlast.value
                  and value_of(p.m_axi_rid) == 0)
        due = bool(rlast0 and self.rd0_ends and self.rd0_ends.popleft())
        if bool(p.rd0_bus_end.value) != due:
            raise CheckerFailure(f"rd0_bus_end monitor: rd0_bus_end {int(p.rd0_bus_end.value)} at an edge that "
                                 f"{'takes' if due else 'does not take'} the last R beat of an rd0 command")

    def _check_freeze(self) -> None:
        """Mirror of the block's stop (a failed transaction completed: an error B, or the rlast beat of a read burst
        with an error on any beat; sticky until dma_freeze; dma_freeze itself) and the freeze monitor: once the block
        stopped at an edge, no AR or AW request may appear at a later edge while it stays stopped; one it offered
        before (still waiting for ready) may complete."""
        p = self.p
        responded = {"R": p.m_axi_rvalid.value and p.m_axi_rready.value,
                     "B": p.m_axi_bvalid.value and p.m_axi_bready.value}
        error = responded["B"] and value_of(p.m_axi_bresp) >= 2
        if responded["R"]:  # a read burst fails at its rlast beat, after an error on any of its beats
            rid = value_of(p.m_axi_rid)
            failed = self.r_failed.get(rid, False) or value_of(p.m_axi_rresp) >= 2
            error = error or (failed and bool(p.m_axi_rlast.value))
            self.r_failed[rid] = failed and not p.m_axi_rlast.value
        if self.tb.fault == "freeze_on_okay":
            error = responded["R"] or responded["B"]
        freeze = bool(p.dma_freeze.value)
        for channel in ("ar", "aw"):
            valid = bool(getattr(p, f"m_axi_{channel}valid").value)
            if valid and not self.held[channel] and self.stop_before:
                raise CheckerFailure(f"freeze monitor: a new {channel.upper()} request (address "
                                     f"{value_of(getattr(p, f'm_axi_{channel}addr')):#x}) after an error response "
                                     f"or under dma_freeze")
            self.held[channel] = valid and not getattr(p, f"m_axi_{channel}ready").value
        self.stop_before = self.frozen or freeze or bool(error)
        self.frozen = not freeze and (self.frozen or bool(error))

    def _close_dropped(self) -> None:
        """Once stopped with no request of a channel left to complete, the commands still awaiting bursts on that
        channel are dropped: the rest of their bytes never reach the bus (a write's are never strobed)."""
        if not self.stop_before:
            return
        spans = []
        if not self.p.m_axi_arvalid.value:
            spans += [span for port in (0, 1) for span in self.read_open[port] if span.left > 0]
            for port in (0, 1):
                self.read_open[port].clear()
        if not self.p.m_axi_awvalid.value:
            spans += [span for span in self.write_open if span.left > 0]
            for span in self.write_open:
                span.strobe_left -= max(0, span.left)
            self.write_open.clear()
        for span in spans:
            span.dropped = True
        self.dropped += len(spans)

    def _match_w_beats(self) -> None:
        kw = self.tb.kw
        while self.w_beats and self.aw_bursts:
            strb, last = self.w_beats.popleft()
            burst = self.aw_bursts[0]
            addr = burst[0] + burst[2] * kw
            burst[2] += 1
            if last != (burst[2] == burst[1]):
                raise CheckerFailure(f"W monitor: wlast {last} on beat {burst[2]} of a {burst[1]}-beat burst")
            if burst[2] == burst[1]:
                self.aw_bursts.popleft()
            for lane in range(kw):
                if not strb >> lane & 1:
                    continue
                byte = (addr + lane) & ADDR_MASK
                while self.write_ranges and self.write_ranges[0].strobe_left <= 0:
                    self.write_ranges.popleft()
                if not self.write_ranges or self.write_ranges[0].strobe_next != byte:
                    want = hex(self.write_ranges[0].strobe_next) if self.write_ranges else "none"
                    raise CheckerFailure(f"strobe monitor: byte {byte:#x} strobed; the next byte of the accepted "
                                         f"write commands is {want}")
                self.write_ranges[0].strobe_next = (byte + 1) & ADDR_MASK
                self.write_ranges[0].strobe_left -= 1

    def check_reads_covered(self) -> None:
        for port in (0, 1):
            left = [(hex(span.next), span.left) for span in self.read_open[port] if span.left > 0]
            if left:
                raise CheckerFailure(f"rd{port} cover monitor: command bytes never read, not dropped by a freeze "
                                     f"(next byte, count): {left}")

    def check_all_strobed(self) -> None:
        left = [(hex(span.strobe_next), span.strobe_left) for span in self.write_ranges if span.strobe_left > 0]
        if left or self.aw_bursts or self.w_beats:
            raise CheckerFailure(f"strobe monitor: write bytes never strobed {left}, open bursts {self.aw_bursts}")


# -- the testbench ---------------------------------------------------------------------------------------------------

class DmaTB:
    def __init__(self, dut, rng: random.Random, *, pause: float = 0.3, cmd_idle: float = 0.3):
        self.dut = dut
        self.rng = rng
        self.fault = os.environ.get(ENV_FAULT, "")
        if self.fault and self.fault not in FAULTS:
            raise ValueError(f"{ENV_FAULT} must be one of {FAULTS}, not {self.fault!r}")
        self.kw = int(dut.AXI_DATA_WIDTH.value) // 8
        self.max_burst = int(dut.MAX_BURST_BEATS.value)
        self.rd_outstanding = int(dut.RD_OUTSTANDING.value)
        cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())

        self.errors = ErrorMap()
        self.ram = GuestRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, self.errors)
        self.sinks = [AxiStreamSink(ReadStreamBus.from_prefix(dut, f"rd{n}"), dut.clk, dut.rst) for n in (0, 1)]
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "wr"), dut.clk, dut.rst)
        for channel in self.ram.channels:
            channel.set_pause_generator(random_pause(random.Random(rng.random()), pause))
        for stream in (*self.sinks, self.source):
            stream.set_pause_generator(random_pause(random.Random(rng.random()), pause))
        for quiet in (self.ram.read_if, self.ram.write_if, *self.sinks, self.source, *self.ram.channels):
            quiet.log.setLevel(logging.ERROR)  # one line per burst and frame otherwise

        self.rd_cmds = [CommandPort(dut, f"rd{n}", ("addr", "len", "last"), random.Random(rng.random()), cmd_idle)
                        for n in (0, 1)]
        self.wr_cmd = CommandPort(dut, "wr", ("addr", "len", "imm", "data"), random.Random(rng.random()), cmd_idle)
        self.checkers = [ReadChecker(n, sink, self) for n, sink in enumerate(self.sinks)]
        self.expected_mem = bytearray()
        self.dont_care: list = []           # (offset, length) written by commands that failed
        self.expected_done: deque = deque()  # addresses of the write commands whose wr_done is still owed
        self.dones = 0
        self.stream_pending = bytearray()   # stream bytes not yet handed to the source
        self.stream_frame_bytes = (1, 3 * self.kw)  # the seeded range of the source's frame lengths
        self.monitor: Optional[AxiMonitor] = None
        self._faults_planted: set = set()

    async def reset(self) -> None:
        dut = self.dut
        dut.rst.value = 1
        for port in (0, 1):
            getattr(dut, f"rd{port}_cmd_valid").value = 0
        dut.wr_cmd_valid.value = 0
        dut.dma_freeze.value = 0
        await ClockCycles(dut.clk, 4)
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        self.ram.write(0, self.rng.randbytes(MEM_SIZE))
        self.expected_mem = bytearray(self.ram.read(0, MEM_SIZE))
        for port in (*self.rd_cmds, self.wr_cmd):
            port.start()
        self.monitor = AxiMonitor(self)
        cocotb.start_soon(self._watch_done())

    def _plant(self, fault: str) -> bool:
        """True once, for the first chance to plant `fault` when it is the selected one."""
        if self.fault != fault or fault in self._faults_planted:
            return False
        self._faults_planted.add(fault)
        return True

    # -- reads
    def read(self, port: int, commands: list) -> None:
        """One packet on read port `port` from [(addr, len), ...], in order; the reference reads the RAM now (the
        bytes and terr that may differ are settled when the packet comes, ReadChecker)."""
        data = b"".join(self.ram.bytes_at(addr, length) for addr, length in commands)
        if self._plant("corrupt_read") and len(commands) and data:
            data = bytes([data[0] ^ 0x01]) + data[1:]
        self.checkers[port].expected.append(ExpectedPacket(data, list(commands)))
        for index, (addr, length) in enumerate(commands):
            self.rd_cmds[port].send(addr=addr, len=length, last=int(index == len(commands) - 1))
            sample_command(f"rd{port}", lane_class(addr, self.kw), length_class(length, self.kw))

    # -- writes
    def write_imm(self, addr: int, data: bytes) -> None:
        assert 1 <= len(data) <= 8
        self._expect_write(addr, data)
        self.wr_cmd.send(addr=addr, len=len(data), imm=1, data=int.from_bytes(data, "little"))
        sample_command("wr_imm", lane_class(addr, self.kw), length_class(len(data), self.kw))

    def write_stream(self, addr: int, length: int, data: Optional[bytes] = None) -> None:
        data = self.rng.randbytes(length) if data is None else data
        self._expect_write(addr, data)
        self.stream_pending += data
        self.wr_cmd.send(addr=addr, len=length, imm=0, data=0)
        sample_command("wr_stream", lane_class(addr, self.kw), length_class(length, self.kw))
        self._feed_stream(flush=False)

    def _expect_write(self, addr: int, data: bytes) -> None:
        """The reference writes the whole command now; wr_done_err and the bytes a freeze dropped are settled at
        wr_done (_watch_done)."""
        offset = addr % MEM_SIZE
        for i, byte in enumerate(data):
            self.expected_mem[(offset + i) % MEM_SIZE] = byte
        if self.errors.hit(addr, len(data)) is not None:
            self.dont_care.append((offset, len(data)))
        elif self._plant("corrupt_write"):
            self.expected_mem[offset] ^= 0x01
        if not self._plant("drop_done"):
            self.expected_done.append(addr)

    def _feed_stream(self, flush: bool) -> None:
        """Hand the source stream bytes in frames of seeded length (stream_frame_bytes), cut without regard to
        commands: a frame's last beat is partial, so beats of any fill reach the block."""
        while self.stream_pending:
            size = self.rng.randint(*self.stream_frame_bytes)
            if size > len(self.stream_pending) and not flush:
                return
            chunk, self.stream_pending = self.stream_pending[:size], self.stream_pending[size:]
            self.source.send_nowait(bytes(chunk))

    async def _watch_done(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            if dut.wr_done_valid.value:
                if not self.expected_done or not self.monitor.write_records:
                    raise CheckerFailure("wr_done checker: a wr_done pulse with no write command left")
                self.expected_done.popleft()
                span = self.monitor.write_records.popleft()  # its bursts are all issued or dropped by now
                covered = span.covered
                want = covered < span.length or (covered > 0 and self.errors.hit(span.addr, covered) is not None)
                if covered < span.length:  # dropped bytes never reach the bus (the strobe monitor checks that)
                    self.dont_care.append(((span.addr + covered) % MEM_SIZE, span.length - covered))
                if want and self._plant("flip_done_err"):
                    want = False
                err = bool(dut.wr_done_err.value)
                if err != want:
                    raise CheckerFailure(f"wr_done checker: completion {self.dones} has wr_done_err {err}, "
                                         f"expected {want}")
                self.dones += 1

    async def commands_taken(self, max_cycles: int = 200_000) -> None:
        """Wait until every command port has handed over its commands (the work may still be in flight); the
        stream bytes held back for the next frame go to the source first (a command waits for its bytes)."""
        self._feed_stream(flush=True)
        for _ in range(max_cycles):
            if all(port.empty for port in (*self.rd_cmds, self.wr_cmd)):
                return
            await RisingEdge(self.dut.clk)
        raise CheckerFailure(f"commands not taken after {max_cycles} cycles: "
                             f"{[len(p.queue) for p in (*self.rd_cmds, self.wr_cmd)]} left")

    # -- dma_freeze
    async def set_freeze(self, high: bool) -> None:
        """Drive dma_freeze. It falls only with every command finished (drained): as in the device, where it
        falls at RUNNING after a reset, so no command is half dropped."""
        if not high:
            await self.drain()
        self.dut.dma_freeze.value = int(high)
        await RisingEdge(self.dut.clk)

    async def freeze_pulse(self, cycles: int = 2) -> None:
        """After the work in flight has finished, dma_freeze high for `cycles` edges: clears the sticky stop."""
        await self.drain()
        await self.set_freeze(True)
        await ClockCycles(self.dut.clk, cycles)
        await self.set_freeze(False)

    # -- the end
    async def drain(self, max_cycles: int = 200_000) -> None:
        """Wait until every command is taken, every packet and completion has come back and dma_idle is high."""
        self._feed_stream(flush=True)
        for cycle in range(max_cycles):
            if (all(port.empty for port in (*self.rd_cmds, self.wr_cmd)) and all(c.done for c in self.checkers)
                    and not self.expected_done and self.dut.dma_idle.value):
                return
            await RisingEdge(self.dut.clk)
        raise CheckerFailure(f"drain: not done after {max_cycles} cycles: commands left "
                             f"{[len(p.queue) for p in (*self.rd_cmds, self.wr_cmd)]}, packets owed "
                             f"{[len(c.expected) for c in self.checkers]}, completions owed "
                             f"{len(self.expected_done)}, dma_idle {self.dut.dma_idle.value}")

    def check_memory(self) -> None:
        actual = bytearray(self.ram.read(0, MEM_SIZE))
        expected = bytearray(self.expected_mem)
        for offset, length in self.dont_care:  # a failed command may have written any part of its range
            for i in range(length):
                expected[(offset + i) % MEM_SIZE] = actual[(offset + i) % MEM_SIZE]
        if actual != expected:
            wrong = [i for i in range(MEM_SIZE) if actual[i] != expected[i]]
            raise CheckerFailure(f"memory checker: {len(wrong)} byte(s) differ from the reference, first at RAM "
                                 f"offset {wrong[0]:#x} (actual {actual[wrong[0]]:#04x}, expected "
                                 f"{expected[wrong[0]]:#04x})")

    async def finish(self) -> None:
        await self.drain()
        await ClockCycles(self.dut.clk, 4)
        self.monitor.check_all_strobed()
        self.monitor.check_reads_covered()
        self.check_memory()
        if self.source.count() or not self.source.idle():
            raise CheckerFailure("write stream: bytes left in the source after every command finished")
