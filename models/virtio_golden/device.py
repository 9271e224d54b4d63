"""The standalone face of the golden model: a device that runs itself.

Every step picks one of the transactions the core allows (`DeviceCore.engine_actions`) or one answer of the
backend model, performs it on guest memory, and feeds the resulting event back through `DeviceCore.observe`,
exactly as the co-simulation observer feeds the RTL's events.  Choices are drawn from a seeded generator, so a run
reproduces from its seed; latency is counted in steps, never cycles (rule 8.12).
"""

import random
from typing import Optional

from . import events as ev
from .backend import BackendModel
from .core import Action, DeviceCore
from .memory import DmaError, GuestMem
from .params import Params


class Device:
    """A model device with its backend, on a guest memory, driven through `reg_read` / `reg_write` / `step`."""

    def __init__(self, params: Optional[Params] = None, mem: Optional[GuestMem] = None,
                 backend: Optional[BackendModel] = None, seed: int = 0, record: bool = False):
        self.params = params or Params()
        self.mem = mem if mem is not None else GuestMem()
        self.core = DeviceCore(self.params, self.mem)
        self.backend = backend or BackendModel(seed)
        self.rng = random.Random(f"device:{seed}")
        self.trace = ev.Trace() if record else None
        self.core.trace_sink = self.trace.append if record else None
        if record:
            self.mem.host_listeners.append(lambda addr, data: self.trace.append(ev.MemWrite(addr, data)))
        self.irqs: list = []          # interrupt messages delivered, in order
        self.steps = 0
        self._intx = False
        self._quiesce = False

    # ------------------------------------------------------------------ views
    @property
    def state(self):
        return self.core.state

    @property
    def presented(self) -> int:
        return self.core.presented

    @property
    def intx(self) -> bool:
        return self._intx

    # ------------------------------------------------------------------ register face (RegBus semantics)
    def reg_read(self, addr: int, size: int = 4) -> int:
        _check_access(addr, size)
        word = self._emit(ev.RegRead(addr & ~3))
        return word >> 8 * (addr & 3) & (1 << 8 * size) - 1

    def reg_write(self, addr: int, value: int, size: int = 4) -> None:
        """One register write; a write of 0 to device_status returns with the reset complete (SUS-13)."""
        _check_access(addr, size)
        lane = addr & 3
        self._emit(ev.RegWrite(addr & ~3, value << 8 * lane & 0xFFFF_FFFF, (1 << size) - 1 << lane))

    def write_strobed(self, word_addr: int, data: int, strb: int) -> None:
        """A raw AXI4-Lite write with any byte strobes (SPEC 5.1 byte lanes)."""
        self._emit(ev.RegWrite(word_addr & ~3, data & 0xFFFF_FFFF, strb & 0xF))

    # ------------------------------------------------------------------ device-side inputs
    def devcfg_write(self, addr: int, data: int) -> None:
        self._emit(ev.DevCfgWrite(addr, data & 0xFFFF_FFFF))

    def fault_inj(self) -> None:
        self._emit(ev.FaultInj())

    def set_msix_enable(self, value: bool) -> None:
        self._emit(ev.MsixEnable(bool(value)))

    # ------------------------------------------------------------------ time
    def step(self) -> bool:
        """Perform one engine transaction, internal transition or backend answer; False when none is possible."""
        choices = [a for a in self.core.engine_actions() if a.kind != "request" or self._free_tag() is not None]
        choices += [Action("complete", flight=p) for p in self.backend.ready()]
        self.backend.tick()
        self.steps += 1
        if not choices:
            return False
        self._perform(self.rng.choice(choices))
        return True

    def run(self, max_steps: int = 100_000) -> int:
        """Step until nothing more can happen (or `max_steps`); returns the steps taken."""
        for taken in range(max_steps):
            if not self.step() and not self.backend.will_answer():
                return taken
        return max_steps

    def _perform(self, act: Action) -> None:
        kind = act.kind
        if kind in ("drain_done", "resume_done"):
            self.core.complete(act)
            self._settle()
        elif kind == "complete":
            self._emit(self.backend.complete(act.flight))
        elif kind == "request":
            self._request(act)
        elif kind in ("avail_event", "scatter", "used_elem", "used_idx"):
            self._emit(ev.DmaWrite(act.addr, act.data, self._dma(act, write=True)))
        else:  # avail_idx, ring, decision, desc, gather
            resp, data = ev.OKAY, b""
            try:
                data = self.mem.dma_read(act.addr, act.length)
            except DmaError as error:
                resp = error.resp
            if kind == "gather" and resp == ev.OKAY:
                act.flight.rd_packet += data
                act.flight.gathered += 1
            self._emit(ev.DmaRead(act.addr, act.length, data, resp))

    def _dma(self, act: Action, write: bool) -> str:
        try:
            self.mem.dma_write(act.addr, act.data)
        except DmaError as error:
            return error.resp
        return ev.OKAY

    def _free_tag(self) -> Optional[int]:
        """Rule 8.11: never issue a tag still owed an answer, void tags included."""
        for tag in range(1 << self.params.TAG_WIDTH):
            if tag not in self.core.live_tags and tag not in self.core.void_tags:
                return tag
        return None

    def _request(self, act: Action) -> None:
        f = act.flight
        request = ev.BeRequest(act.queue, f.head, self._free_tag(), f.chain.rd_len, f.chain.wr_len, f.rd_packet)
        self._emit(request)
        self.backend.accept(request)

    # ------------------------------------------------------------------ events
    def _emit(self, event):
        result = self.core.observe(event)
        self._settle()
        return result

    def _settle(self) -> None:
        """Deliver at once what the core now owes: interrupts, ISR bits, flush pulses, level changes."""
        core = self.core
        if core.aborted_drain_due is not None:
            core.complete_aborted_drain()  # every transaction of this engine retires at once
        while core.flush_owed:
            core.observe(ev.BeFlush())
            for pending in self.backend.pending:
                pending.due = self.backend.now  # answer every accepted request without delay (rule 8.11)
        self.backend.hurry = core.quiesce
        if core.quiesce != self._quiesce:
            self._quiesce = core.quiesce
            core.observe(ev.Quiesce(core.quiesce))
        while core.owed_irqs:
            vector = core.owed_irqs[0]
            core.observe(ev.Irq(vector))
            self.irqs.append(vector)
        core.settle_isr()
        if core.intx != self._intx:
            self._intx = core.intx
            core.observe(ev.Intx(self._intx))
        for name, raised in core.diag.items():
            if raised and name not in core.diag_seen:
                core.observe(ev.Diag(name))


def _check_access(addr: int, size: int) -> None:
    if size not in (1, 2, 4) or addr % size:
        raise ValueError(f"register access of size {size} at {addr:#x} must be 1, 2 or 4 bytes, naturally aligned")
