"""Pieces shared by the testbenches of `virtio_core` (core_tb.py) and `virtio_pci_dev` (dev_tb.py): port handles,
seeded pause patterns, the reference driver's RegBus and Clock over cocotbext-axi, and the scoreboard that feeds the
golden model's observer in bus order."""

import random
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiLiteMaster
from cocotbext.axi.axil_channels import AxiLiteAWTransaction, AxiLiteWTransaction

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.memory import GuestMem
from virtio_golden.observer import Mismatch, Observer
from virtio_golden.params import Params

# -- small helpers ---------------------------------------------------------------------------------------------------

class Ports:
    """The DUT's handles, each looked up once: cocotb's handle lookup costs more than the read on a per-cycle path."""

    def __init__(self, dut):
        self._dut = dut

    def __getattr__(self, name: str):
        handle = getattr(self._dut, name)
        setattr(self, name, handle)
        return handle


def random_pause(rng: random.Random, probability: float) -> Iterator[bool]:
    """An endless seeded pause pattern for cocotbext-axi pause generators and irq_ready."""
    while True:
        yield rng.random() < probability


WINDOW_BITS = 28  # an allocator window: 256 MiB, with random address bits above it


def allocator_window(rng: random.Random) -> tuple[int, int]:
    """The guest-address range [base, limit) a test allocates from: 255 MiB in a 256 MiB window at a random 256 MiB
    boundary anywhere in the 64-bit space, as a guest behind an IOMMU may use, so that every bit of a ring,
    descriptor or buffer address the device stores is 1 in some tests. The device testbench's RAM aliases every
    window onto one memory (dev_tb.ErrorAxiRam)."""
    base = rng.getrandbits(64 - WINDOW_BITS) << WINDOW_BITS
    return base + 0x10_0000, base + (1 << WINDOW_BITS)


def value_of(handle) -> int:
    return int(handle.value)  # a one-bit vector port ([0:0]) comes back as a single Logic


def is_high(handle) -> bool:
    return bool(handle.value)


class CheckerFailure(AssertionError):
    """A testbench checker (not the observer) saw a behaviour the spec forbids."""


# -- the driver's interfaces over the bus ------------------------------------------------------------------------------

class AxilRegBus:
    """`virtio_golden.driver.RegBus` over cocotbext-axi's AxiLiteMaster: reads fetch the whole word and extract the
    field's lanes; writes put the value in its byte lanes with matching WSTRB. A write of 0 to device_status
    returns when BVALID comes, which the core holds back until the reset is done (SUS-13)."""

    def __init__(self, master: AxiLiteMaster):
        self.master = master

    async def read(self, addr: int, size: int = 4) -> int:
        _check_access(addr, size)
        word = int.from_bytes((await self.master.read(addr & ~3, 4)).data, "little")
        return word >> 8 * (addr & 3) & (1 << 8 * size) - 1

    async def write(self, addr: int, value: int, size: int = 4) -> None:
        _check_access(addr, size)
        await self.master.write(addr, (value & (1 << 8 * size) - 1).to_bytes(size, "little"))

    async def write_strobed(self, word_addr: int, data: int, strb: int) -> None:
        """One write with any WSTRB (SPEC 5.1 byte lanes), straight on the master's channels."""
        channels = self.master.write_if
        await channels.aw_channel.send(AxiLiteAWTransaction(awaddr=word_addr & ~3, awprot=0))
        await channels.w_channel.send(AxiLiteWTransaction(wdata=data & 0xFFFF_FFFF, wstrb=strb & 0xF))
        await channels.b_channel.recv()


def _check_access(addr: int, size: int) -> None:
    if size not in (1, 2, 4) or addr % size:
        raise ValueError(f"register access of {size} bytes at {addr:#x} is not naturally aligned (SPEC 5.1)")


class CycleClock:
    """`virtio_golden.driver.Clock`: wait(n) is n clock cycles."""

    def __init__(self, clk):
        self.clk = clk

    async def wait(self, n: int) -> None:
        await ClockCycles(self.clk, n)


# -- the scoreboard ----------------------------------------------------------------------------------------------------

@dataclass
class _OpenRead:
    """A read accepted at its AR handshake whose data the R handshake has not returned yet."""

    addr: int
    data: Optional[int] = None
    isr_must_be_zero: bool = False


class Scoreboard:
    """Feeds the observed events to the golden model's observer in bus order (rule 8.12). A read blocks the events
    behind it until its data has come back, so every event is judged in the state its own edge left."""

    HISTORY = 16

    def __init__(self, params: Params, log, *, mem: Optional[GuestMem] = None, bus_bytes: int = 16,
                 on_status_write: Optional[Callable[[ev.RegWrite, int, int], None]] = None):
        self.observer = Observer(params, mem, bus_bytes)
        self.log = log
        self.on_status_write = on_status_write  # (write, engine state before it, presented status before it)
        self._queue: deque = deque()
        self._history: deque = deque(maxlen=self.HISTORY)
        self.reads_checked = 0
        self.events = 0

    def push(self, item) -> None:
        self._queue.append(item)

    def feed(self) -> None:
        while self._queue:
            item = self._queue[0]
            if isinstance(item, _OpenRead):
                if item.data is None:
                    return
                event = ev.RegRead(item.addr, item.data)
                self.reads_checked += 1
            elif callable(item):  # an event decided in the model's state when its turn comes (dev_monitors.py)
                self._queue.popleft()
                event = item(self.observer)
                if event is not None:
                    self._observe(event)
                continue
            else:
                event, state = item
                if self.on_status_write is not None and is_status_write(event):
                    self.on_status_write(event, state, self.observer.core.presented)
            self._queue.popleft()
            self._observe(event)

    def _observe(self, event) -> None:
        self._history.append(event)
        self.events += 1
        try:
            self.observer.observe(event)
        except Mismatch:
            self._log_context(event)
            raise

    def finish(self) -> None:
        self.feed()
        if self._queue:
            raise CheckerFailure(f"scoreboard: {len(self._queue)} event(s) still wait for read data at the end")
        try:
            self.observer.finish()
        except Mismatch:
            self._log_context("the end of the test")
            raise

    def _log_context(self, rejected) -> None:
        core = self.observer.core
        recent = "\n  ".join(repr(e) for e in self._history)
        self.log.error("scoreboard: the golden model rejects %r in %s (messages owed %s, ISR %#x, ISR owed %#x, "
                       "msix_enable %s, flushes owed %d); the last events were:\n  %s", rejected, core._describe(),
                       core.owed_irqs, core.isr.value, core.owed_isr, core.msix_enable, core.flush_owed, recent)


class AxilHandshakes:
    """Joins the AXI4-Lite slave's handshakes at each edge into register events, for both testbenches' monitors,
    and checks SUS-13: no AW, W or AR handshake while a write of 0 to device_status waits for its BVALID."""

    def __init__(self, dut):
        self.dut = dut
        self.reset_pending = False  # a write of 0 took effect and its BVALID has not been seen
        self._aw: Optional[int] = None
        self._w: Optional[tuple] = None

    def step(self) -> tuple:
        """(the RegWrite that takes effect at this edge, the address of a read accepted at it, the data of a read
        response taken at it), each None when absent."""
        d = self.dut
        if self.reset_pending and is_high(d.s_axil_bvalid):
            self.reset_pending = False
        aw = is_high(d.s_axil_awvalid) and is_high(d.s_axil_awready)
        w = is_high(d.s_axil_wvalid) and is_high(d.s_axil_wready)
        ar = is_high(d.s_axil_arvalid) and is_high(d.s_axil_arready)
        if self.reset_pending and (aw or w or ar):
            raise CheckerFailure(f"SUS-13 monitor: a bus handshake (AW {aw}, W {w}, AR {ar}) was accepted while the "
                                 f"write of 0 to device_status is still pending")
        if aw:
            self._aw = value_of(d.s_axil_awaddr)
        if w:
            self._w = (value_of(d.s_axil_wdata), value_of(d.s_axil_wstrb))
        write = None
        if self._aw is not None and self._w is not None:  # the write takes effect at this edge
            write = ev.RegWrite(self._aw & ~3, *self._w)
            self._aw = self._w = None
            self.reset_pending = _is_reset_write(write)
        rdata = value_of(d.s_axil_rdata) if is_high(d.s_axil_rvalid) and is_high(d.s_axil_rready) else None
        return write, value_of(d.s_axil_araddr) if ar else None, rdata


def is_status_write(event) -> bool:
    return isinstance(event, ev.RegWrite) and event.addr & ~3 == c.CC_DEVICE_STATUS and bool(event.strb & 1)


def is_queue_reset_write(event) -> bool:
    """A write of 1 to queue_reset (SPEC 4.8): in RUNNING or HALTED the selected queue's reset starts at this edge
    and the model voids its tags, while the engine's be_flush follows later."""
    lane = c.CC_QUEUE_RESET & 3
    return (isinstance(event, ev.RegWrite) and event.addr & ~3 == c.CC_QUEUE_RESET & ~3
            and bool(event.strb >> lane & 1) and event.data >> 8 * lane & 0xFF == 1)


def _is_reset_write(event) -> bool:
    return is_status_write(event) and event.data & 0xFF == 0
