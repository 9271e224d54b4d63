"""Testbench of `virtio_core` (rtl/virtio_core_tb_top.sv): the testbench plays the virtqueue engine.

    tb = CoreTB(dut, rng)                  # clock, AxiLiteMaster on s_axil, engine model, monitors, scoreboard
    await tb.reset()
    driver = tb.driver()                   # the reference driver (virtio_golden.driver) over AxiLiteMaster
    ...
    await tb.finish()                      # owed interrupts delivered, observer.finish(), speed logged

Pieces (docs/rtl-core.md is the port and timing reference):
- `AxilRegBus`, `CycleClock` (tb_common.py): the driver's RegBus and Clock over cocotbext-axi and clock edges;
  guest memory is a plain `GuestMem` (the core does no DMA).
- `EngineModel`: answers `stop_req` with `stopped` after a seeded delay once its abstract chains in flight are done,
  `qreset_req` with `qreset_done`, keeps `eng_idle`, clears `kick_pending`, can pulse `eng_error`, send used
  notifications and move the live counters. It holds an abstract in-flight count for the engine checker.
- `CoreMonitor`: samples every port at each rising edge (the values the edge sees) and
  * turns handshakes and levels into the events of rule 8.12, in bus order, for the `Scoreboard`;
  * fails the test on: a bus handshake while a write of 0 is pending (SUS-13), `draining` / `stop_req` not high
    exactly in SUSPENDING (plus the aborted-drain window of docs/rtl-core.md), an interrupt started or a new ISR bit
    while SUSPENDED (SUS-25);
  * samples the `status` covergroup.
- `Scoreboard` (tb_common.py, shared with dev_tb.py): replays every event into `virtio_golden.observer.Observer`,
  which compares every read-back and every interrupt and raises `Mismatch` naming the allowed set.

The core has no datapath, so the observer sees no DMA: in scoreboard-checked tests the engine model publishes,
takes and notifies nothing (`CoreTB(..., scoreboard=False)` for the directed engine-port tests).

Planted faults, selected by the environment variable CORE_TB_FAULT (tests/rtl/test_core_checkers.py):
`early_stopped` (the engine reports `stopped` at once and keeps its chains), `corrupt_read` (the third read value
handed to the scoreboard has bit 0 flipped), `extra_irq` (the engine sends a used notification nobody decided),
`bus_during_reset` (the testbench pulses `rst` under a pending write of 0 and then reads), `stop_req_window` (the
stop_req monitor expects the aborted-drain window after a FAILED abort too), `late_state` (the SUS-25 monitor
judges with the state one cycle late).
"""

import logging
import os
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, Timer
from cocotb_coverage.coverage import CoverCross, CoverPoint
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode, WriteClass
from virtio_golden.driver import Driver
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.observer import Observer
from virtio_golden.params import Params
from virtio_golden.status import classify_write

from .identity import ENV_PARAMSET
from .tb_common import (AxilHandshakes, AxilRegBus, CheckerFailure, CycleClock, Ports, Scoreboard, _OpenRead,
                        allocator_window, is_high, is_status_write, random_pause, value_of)

TOPLEVEL = "virtio_core_tb_top"
CLOCK_PERIOD_NS = 10
ENV_FAULT = "CORE_TB_FAULT"
FAULTS = ("early_stopped", "corrupt_read", "extra_irq", "bus_during_reset", "stop_req_window", "late_state")
TIMEOUT = {"timeout_time": 10, "timeout_unit": "ms"}  # simulated time per cocotb test: a hang fails, it never waits

# -- parameter sets (one build each): rule 8.8 names, shared by the RTL build and the golden model ------------------

PARAMSETS = {
    "default": {},
    "mode_rfc": {"SUSPEND_MODE": int(SuspendMode.RFC)},
    # RESUMING lasts long enough for register accesses inside it (SPEC Appendix B: held open deterministically).
    "slow_resume": {"RESUME_LATENCY": 200},
    "cfg_lock": {"SUSPENDED_CFG_LOCK": 1, "RESUME_LATENCY": 64},
    # The 2024 prototype's build: SUSPEND at bit 42, mode RFC; one queue, no vq-state registers, no RING_RESET.
    "small": {"NUM_QUEUES": 1, "QUEUE_SIZE_MAX": 64, "DEV_CFG_SIZE": 8, "VQ_STATE_REGS": 0,
              "SUSPEND_MODE": int(SuspendMode.RFC), "F_SUSPEND_BIT": 42, "RESUME_LATENCY": 1,
              "DEVICE_FEATURES": c.feature_mask(c.F_VERSION_1, 42, c.F_EVENT_IDX)},
}


def golden_params(paramset: str) -> Params:
    return Params().with_(**PARAMSETS[paramset])


def rtl_parameters(paramset: str) -> dict:
    """The build's parameters; DEVICE_FEATURES as a 64-bit literal (Verilator truncates a decimal -G to 32 bits)."""
    return {name: f"64'h{value:016x}" if name == "DEVICE_FEATURES" else value
            for name, value in PARAMSETS[paramset].items()}


# -- functional coverage: covergroup `status` ------------------------------------------------------------------------

STATES = [s.name for s in St if s != St.RESET_PENDING]  # the RESET_PENDING row cannot be reached from the bus
WRITE_CLASSES = [w.name for w in WriteClass]
MODES = [m.name for m in SuspendMode]
# The FEATURES_OK class needs P.FEATURES_OK = 0, which only INIT and HALTED can show (rule 8.4).
NO_FEATURES_OK_CLASS = [(s, WriteClass.FEATURES_OK.name, None) for s in ("RUNNING", "SUSPENDING", "SUSPENDED",
                                                                          "RESUMING")]
TRANSITIONS = ["SUSPENDING>SUSPENDED", "RESUMING>RUNNING", "RESUMING>INIT", "RESET_PENDING>INIT",
               "INIT>HALTED", "RUNNING>HALTED", "SUSPENDING>HALTED", "SUSPENDED>HALTED", "RESUMING>HALTED",
               "HALTED:fault ignored", "RESET_PENDING:fault ignored"]


@CoverPoint("status.state_before", xf=lambda state, cls, mode: state, bins=STATES)
@CoverPoint("status.write_class", xf=lambda state, cls, mode: cls, bins=WRITE_CLASSES)
@CoverPoint("status.write_mode", xf=lambda state, cls, mode: mode, bins=MODES)
@CoverCross("status.state_x_class_x_mode", items=["status.state_before", "status.write_class", "status.write_mode"],
            ign_bins=NO_FEATURES_OK_CLASS)
def sample_status_write(state: str, cls: str, mode: str) -> None:
    """A device_status write: the engine state before it x the rule 8.4 class of W x SUSPEND_MODE."""


@CoverPoint("status.transition", xf=lambda transition, mode: transition, bins=TRANSITIONS)
@CoverPoint("status.transition_mode", xf=lambda transition, mode: mode, bins=MODES)
@CoverCross("status.transition_x_mode", items=["status.transition", "status.transition_mode"],
            ign_bins=[("RESUMING>INIT", SuspendMode.V14.name)])
def sample_transition(transition: str, mode: str) -> None:
    """A transition not caused by a status write (rule 8.4, second table), or a fault ignored."""


def _bits(value: int, width: int) -> list:
    return [q for q in range(width) if value >> q & 1]


# -- the engine ------------------------------------------------------------------------------------------------------

@dataclass
class _Chain:
    queue: int
    done_at: int  # cycle at which the abstract chain is finished (published, in a real engine)


class EngineModel:
    """Plays the engine on the core's engine ports (docs/rtl-core.md "Engine-side contract").

    It works at the falling edge on the values of the current cycle, so it gates on `state` in the same cycle, as
    the contract asks. Its chains are abstract: one or two are taken at each scan or served kick in RUNNING and
    finished after a delay (shorter under `stop_req`); `stopped` rises a seeded delay after the last one is done.
    The chains are never published and never notified on their own, so nothing of them reaches the register bus or
    the interrupts: only the test API below drives avail_take, used_publish and used_notify_*.
    """

    RETIRE_MAX = 12           # cycles of "transactions retiring" after a halt pulse (eng_idle low meanwhile)
    STOP_DELAY_MAX = 12       # cycles between the last chain done and `stopped`
    QRESET_DELAY_MAX = 16

    def __init__(self, dut, rng: random.Random, num_queues: int, fault: str = ""):
        self.dut = Ports(dut)
        self.rng = rng
        self.num_queues = num_queues
        self.early_stopped = fault == "early_stopped"
        self.take_work = True         # take abstract chains at scans and kicks
        self.hold_drain = False       # keep `stopped` low: SUSPENDING held open (SPEC Appendix B)
        self.hold_busy = False        # keep `eng_idle` low: a reset held open
        self.chains: list = []
        self.cycle = 0
        self._retire_until = 0
        self._stopped_at: Optional[int] = None
        self._avail_read_at: dict = {}     # queue -> cycle of its next "avail.idx read"
        self._qreset_done_at: dict = {}    # queue -> cycle of its qreset_done pulse
        self._qreset_answered = 0          # queues whose done was given, until their request falls
        self._pulses = {"eng_error": 0, "avail_take": 0, "used_publish": 0, "kick_clear": 0}
        self._publish_idx = [0] * num_queues
        self._notify = deque()             # used notifications to hand over (queue numbers)
        self.notified = 0                  # used notifications accepted by the core
        self.scans = [0] * num_queues      # scan pulses seen per queue (entries into RUNNING, rule 8.7)
        self.resumes = 0                   # `resume` pulses seen
        self.serve_kicks = True            # clear kick_pending by "reading avail.idx" in RUNNING
        self._driven: dict = {}
        for name in ("stopped", "eng_error", "kick_clear", "qreset_done", "avail_take", "used_publish",
                     "used_publish_idx", "used_notify_valid", "used_notify_queue"):
            self._set(name, 0)
        self._set("eng_idle", 1)
        self._task = None

    def start(self) -> None:
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    @property
    def in_flight(self) -> int:
        return len(self.chains)

    # -- test API
    def error(self) -> None:
        """Pulse `eng_error` in the next cycle (rule 8.9 cause)."""
        self._pulses["eng_error"] |= 1

    def clear_kick(self, queue: int) -> None:
        """Pulse `kick_clear[queue]` (an avail.idx read issued) in the next cycle."""
        self._pulses["kick_clear"] |= 1 << queue

    def take(self, queue: int) -> None:
        """Pulse `avail_take[queue]` (a head taken: last_avail_idx += 1)."""
        self._pulses["avail_take"] |= 1 << queue

    def publish(self, queue: int, used_idx: int) -> None:
        """Pulse `used_publish[queue]` with `used_publish_idx[queue]` = used_idx."""
        self._pulses["used_publish"] |= 1 << queue
        self._publish_idx[queue] = used_idx & 0xFFFF

    def notify(self, queue: int) -> None:
        """Hand a used-buffer notification of `queue` over on used_notify_* (the core routes it, SPEC 5.1)."""
        self._notify.append(queue)

    @property
    def notify_idle(self) -> bool:
        return not self._notify

    # -- the cycle
    async def _run(self) -> None:
        dut = self.dut
        nq = self.num_queues
        while True:
            await FallingEdge(dut.clk)
            self.cycle += 1
            now = self.cycle
            state = value_of(dut.state)
            stop_req = is_high(dut.stop_req)
            if is_high(dut.halt):  # abandon every chain; issued transactions retire (SUS-13, SUS-15)
                self.chains = []
                self._avail_read_at.clear()
                self._retire_until = now + self.rng.randint(0, self.RETIRE_MAX)

            offering = bool(self._notify)
            self._set("used_notify_valid", int(offering))
            if offering:
                self._set("used_notify_queue", self._notify[0])

            self.resumes += is_high(dut.resume)
            kick_clear = 0
            scan = value_of(dut.scan)
            for q in _bits(scan, nq):
                self.scans[q] += 1
            if state == St.RUNNING and self.serve_kicks:
                pending = value_of(dut.kick_pending) | scan
                for q in _bits(pending, nq):
                    self._avail_read_at.setdefault(q, now + self.rng.randint(0, 4))
                for q, due in list(self._avail_read_at.items()):
                    if due <= now:  # the avail.idx read: the kick is served, heads may be taken
                        del self._avail_read_at[q]
                        kick_clear |= 1 << q
                        if self.take_work:
                            self.chains += [_Chain(q, now + self.rng.randint(20, 200))
                                            for _ in range(self.rng.randint(1, 2))]
            else:
                self._avail_read_at.clear()
            self._set("kick_clear", kick_clear | self._pulses["kick_clear"])

            if stop_req and not self.early_stopped:  # drain: finish every chain soon (be_quiesce answers)
                for chain in self.chains:
                    chain.done_at = min(chain.done_at, now + self.rng.randint(1, 20))
            if not self.early_stopped:
                self.chains = [ch for ch in self.chains if ch.done_at > now]
            self._drive_stopped(stop_req, now)

            qreq = value_of(dut.qreset_req)
            self._qreset_answered &= qreq
            done = 0
            for q in _bits(qreq & ~self._qreset_answered, nq):
                due = self._qreset_done_at.setdefault(q, now + self.rng.randint(1, self.QRESET_DELAY_MAX))
                if due <= now:  # the queue's chains are abandoned and its transactions retired (SPEC 4.8)
                    del self._qreset_done_at[q]
                    self.chains = [ch for ch in self.chains if ch.queue != q]
                    done |= 1 << q
                    self._qreset_answered |= 1 << q
            for q in list(self._qreset_done_at):
                if not qreq >> q & 1:
                    del self._qreset_done_at[q]
            self._set("qreset_done", done)
            self._set("eng_idle", int(not self.chains and now >= self._retire_until and not offering
                                      and not self.hold_busy))
            for name in ("eng_error", "avail_take", "used_publish"):
                self._set(name, self._pulses[name])
            self._set("used_publish_idx", sum(idx << 16 * q for q, idx in enumerate(self._publish_idx)))
            self._pulses = dict.fromkeys(self._pulses, 0)

            if state == St.SUSPENDED and self.chains:
                raise CheckerFailure(f"engine checker: the core shows SUSPENDED while the engine still has "
                                     f"{len(self.chains)} chain(s) in flight (SUS-05, SUS-06)")
            if offering:  # used_notify_ready as the coming edge sees it: the handshake
                await RisingEdge(dut.clk)
                if is_high(dut.used_notify_ready):
                    self._notify.popleft()
                    self.notified += 1

    def _set(self, name: str, value: int) -> None:
        """Drive an input only when it changes (a write costs more than the comparison)."""
        if self._driven.get(name) != value:
            self._driven[name] = value
            getattr(self.dut, name).value = value

    def _drive_stopped(self, stop_req: bool, now: int) -> None:
        """`stopped` rises a seeded delay after the drain is empty and stays high while `stop_req` is high."""
        if not stop_req:
            self._stopped_at = None
            self._set("stopped", 0)
            return
        if self.early_stopped:
            self._set("stopped", 1)
            return
        if self._stopped_at is None and not self.chains and not self.hold_drain and now >= self._retire_until:
            self._stopped_at = now + self.rng.randint(0, self.STOP_DELAY_MAX)
        self._set("stopped", int(self._stopped_at is not None and now >= self._stopped_at))


# -- the monitor -------------------------------------------------------------------------------------------------------

class CoreMonitor:
    """Samples the core's ports at every rising edge (the values that edge sees), checks the bus and interrupt rules
    that need no model, and turns what it sees into rule 8.12 events. Within one edge the events go out in this
    order: level changes the previous edge caused (msix_enable first, then INTx, be_quiesce, be_flush), the
    interrupt handshake, the register access, then `fault_inj` / `eng_error`, then `devcfg_wr` (rule 8.12)."""

    def __init__(self, tb: "CoreTB"):
        self.tb = tb
        self.dut = Ports(tb.dut)
        self.mode = tb.params.mode.name
        self.nq = tb.params.NUM_QUEUES
        self.corrupt_read = tb.fault == "corrupt_read"
        self.forget_failed_abort = tb.fault == "stop_req_window"
        self.late_state = tb.fault == "late_state"
        self.edge = 0
        self.axil = AxilHandshakes(self.dut)
        self.abort_wait = False          # HALTED after a NEEDS_RESET drain abort: stop_req until `stopped`
        self.isr_read_in_suspended = False
        self.status_writes: list = []    # (edge, W, state before) of every device_status write
        self.transitions: list = []      # (edge of the change, state before, state after)
        self.irqs: list = []             # vectors of the interrupt messages accepted, in order
        self.reads = 0
        self._open_read: Optional[_OpenRead] = None
        self._prev = None
        self._prev_status_write: Optional[int] = None
        self._prev_fault = False
        self._task = None

    def start(self) -> None:
        self._prev = self._sample()
        self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _sample(self) -> dict:
        d = self.dut
        return {"state": value_of(d.state), "stop_req": is_high(d.stop_req), "draining": is_high(d.draining), "halt": is_high(d.halt),
                "stopped": is_high(d.stopped), "intx": is_high(d.intx), "msix": is_high(d.msix_enable),
                "irq_valid": is_high(d.irq_valid), "qreset_req": value_of(d.qreset_req)}

    async def _run(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            self.edge += 1
            s = self._sample()
            self._step(s)
            self._prev = s

    def _step(self, s: dict) -> None:
        dut, prev, tb = self.dut, self._prev, self.tb
        push = tb.scoreboard.push if tb.scoreboard is not None else None
        out = []

        # Levels: what the previous edge did.
        if s["msix"] != prev["msix"]:
            out.append(ev.MsixEnable(s["msix"]))
        if s["intx"] != prev["intx"]:
            out.append(ev.Intx(s["intx"]))
        if s["draining"] != prev["draining"]:
            out.append(ev.Quiesce(s["draining"]))
        if s["halt"]:  # the engine pulses be_flush at HALTED entry and at a reset start (rule 8.11)
            out.append(ev.BeFlush())
        out += [ev.BeFlush()] * len(_bits(s["qreset_req"] & ~prev["qreset_req"], self.nq))  # each queue reset
        self._check_levels(s, prev)
        self._sample_transition(s, prev)

        # Handshakes at this edge.
        if is_high(dut.irq_valid) and is_high(dut.irq_ready):
            self.irqs.append(value_of(dut.irq_vector))
            out.append(ev.Irq(self.irqs[-1]))
        write, araddr, rdata = self.axil.step()
        status_write = None
        if write is not None:
            out.append((write, s["state"]))
            if is_status_write(write):
                status_write = write.data & 0xFF
                self.status_writes.append((self.edge, status_write, s["state"]))
        if rdata is not None:
            self._close_read(rdata)
        if araddr is not None:
            self._open_read = self._open(araddr, s["state"])
            out.append(self._open_read)

        # Device-side inputs; a write of 0 still pending makes the core ignore faults (rule 8.12, SUS-15).
        fault = is_high(dut.fault_inj) or is_high(dut.eng_error)
        if fault and not self.axil.reset_pending:
            out.append((ev.FaultInj(), s["state"]))
        if fault and s["state"] in (St.HALTED, St.RESET_PENDING):
            sample_transition(f"{St(s['state']).name}:fault ignored", self.mode)
        if is_high(dut.devcfg_wr_valid):
            out.append(ev.DevCfgWrite(value_of(dut.devcfg_wr_addr), value_of(dut.devcfg_wr_data)))
        self._prev_status_write = status_write
        self._prev_fault = fault

        if push is not None:
            for item in out:
                push(item if isinstance(item, (tuple, _OpenRead)) else (item, s["state"]))
            tb.scoreboard.feed()

    def _open(self, addr: int, state: int) -> _OpenRead:
        read = _OpenRead(addr)
        if addr & ~3 == c.BAR_ISR:
            # SUS-25: the first ISR read in SUSPENDED may return bits latched before; nothing is set afterwards.
            if state == St.SUSPENDED:
                read.isr_must_be_zero = self.isr_read_in_suspended
                self.isr_read_in_suspended = True
        return read

    def _close_read(self, data: int) -> None:
        read, self._open_read = self._open_read, None
        if read is None:
            raise CheckerFailure("bus monitor: an R handshake without an accepted read")
        self.reads += 1
        if read.isr_must_be_zero and data & 0xFF:
            raise CheckerFailure(f"SUS-25 monitor: ISR read {data & 0xFF:#x} in SUSPENDED after it was cleared there")
        if self.corrupt_read and self.reads == 3:
            data ^= 1
        read.data = data

    def _check_levels(self, s: dict, prev: dict) -> None:
        state = s["state"]
        if state != St.SUSPENDED:
            self.isr_read_in_suspended = False
        if prev["state"] == St.SUSPENDING and state == St.HALTED:
            failed = self._prev_status_write is not None and self._prev_status_write & c.S_FAILED
            self.abort_wait = not failed or self.forget_failed_abort
        elif state != St.HALTED:
            self.abort_wait = False
        if s["draining"] != (state == St.SUSPENDING):
            raise CheckerFailure(f"draining is {s['draining']} in {St(state).name}: high exactly in SUSPENDING "
                                 f"(rule 8.11)")
        expected_stop = state == St.SUSPENDING or (state == St.HALTED and self.abort_wait)
        if s["stop_req"] != expected_stop:
            raise CheckerFailure(f"stop_req is {s['stop_req']} in {St(state).name}: high in SUSPENDING and, after "
                                 f"a drain aborted by NEEDS_RESET, in HALTED until `stopped` (docs/rtl-core.md)")
        if self.abort_wait and state == St.HALTED and s["stopped"] and not s["halt"]:
            self.abort_wait = False  # the forced notifications are handed over; stop_req falls after this edge
        if (prev["state"] if self.late_state else state) == St.SUSPENDED:
            if s["irq_valid"] and not prev["irq_valid"]:
                raise CheckerFailure("SUS-25 monitor: an interrupt message was started while SUSPENDED")
            if s["intx"] and not prev["intx"] and s["msix"] == prev["msix"]:
                raise CheckerFailure("SUS-25 monitor: INTx was asserted by a new ISR bit while SUSPENDED")

    def _sample_transition(self, s: dict, prev: dict) -> None:
        before, after = prev["state"], s["state"]
        if before == after:
            return
        self.transitions.append((self.edge - 1, St(before), St(after)))
        if self._prev_fault and after == St.HALTED:
            name = f"{St(before).name}>HALTED"
        elif self._prev_status_write is None:
            name = f"{St(before).name}>{St(after).name}"
        else:
            return  # caused by the status write (sampled with it)
        if name in TRANSITIONS:
            sample_transition(name, self.mode)


# -- the testbench -----------------------------------------------------------------------------------------------------

class CoreTB:
    """Clock, reset, AxiLiteMaster with pause generators, irq_ready backpressure, the engine model, the monitors and
    (unless scoreboard=False) the golden-model scoreboard, for `virtio_core_tb_top`."""

    def __init__(self, dut, rng: random.Random, *, scoreboard: bool = True):
        self.dut = dut
        self.rng = rng
        self.paramset = os.environ.get(ENV_PARAMSET, "default")
        self.params = golden_params(self.paramset)
        self.mode = self.params.mode
        self.fault = os.environ.get(ENV_FAULT, "")
        if self.fault and self.fault not in FAULTS:
            raise ValueError(f"{ENV_FAULT} must be one of {FAULTS}, not {self.fault!r}")
        self.use_scoreboard = scoreboard
        self.scoreboard: Optional[Scoreboard] = None

        # `rst` is high from time 0: with it low, Icarus spins at time 0 on the registers' X values.
        dut.rst.value = 1
        for name in ("msix_enable", "devcfg_wr_valid", "devcfg_wr_addr", "devcfg_wr_data", "fault_inj", "irq_ready"):
            getattr(dut, name).value = 0
        Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start()
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        for interface in (self.axil.write_if, self.axil.read_if):
            interface.log.setLevel(logging.WARNING)  # one INFO line per access costs more than the access
        self.bus = AxilRegBus(self.axil)
        self.clock = CycleClock(dut.clk)
        self.mem = GuestMem()
        self.alloc = MemAllocator(*allocator_window(rng))
        self.engine = EngineModel(dut, rng, self.params.NUM_QUEUES, self.fault)
        self.monitor: Optional[CoreMonitor] = None
        self.config_vector: Optional[int] = None  # config_msix_vector programmed by negotiate(), if set
        self._channels = (self.axil.write_if.aw_channel, self.axil.write_if.w_channel, self.axil.write_if.b_channel,
                          self.axil.read_if.ar_channel, self.axil.read_if.r_channel)
        self._backpressure = True
        self._irq_held = False
        self._started = time.perf_counter()
        cocotb.start_soon(self._drive_backpressure())

    # -- setup
    def set_backpressure(self, enabled: bool) -> None:
        """Seeded idle/backpressure on every AXI-Lite channel and on irq_ready, or none at all (for code that must
        land inside a short window, e.g. a default-length RESUMING)."""
        self._backpressure = enabled

    def hold_irq(self, held: bool) -> None:
        """Keep irq_ready low (the endpoint accepts nothing) until released."""
        self._irq_held = held

    async def _drive_backpressure(self) -> None:
        """One coroutine for every pause pattern (cheaper than cocotbext-axi's one per channel): each cycle, each
        AXI-Lite channel pauses with probability 0.3 and irq_ready is low with probability 0.5."""
        patterns = [random_pause(random.Random(self.rng.random()), p) for p in (0.3,) * len(self._channels) + (0.5,)]
        irq_ready = None
        while True:
            pauses = [next(pattern) and self._backpressure for pattern in patterns]
            for channel, pause in zip(self._channels, pauses):
                channel.pause = pause
            ready = not pauses[-1] and not self._irq_held
            if ready != irq_ready:
                self.dut.irq_ready.value = irq_ready = ready
            await RisingEdge(self.dut.clk)

    async def reset(self) -> None:
        """`rst` for a few cycles: INIT with every rule 8.5 value; a fresh golden model and fresh monitors."""
        if self.monitor is not None:
            self.monitor.stop()
        self.engine.hold_drain = self.engine.hold_busy = False
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        self.engine.start()
        if self.use_scoreboard:
            self.scoreboard = Scoreboard(self.params, self.dut._log, on_status_write=self._sample_status_write)
            if is_high(self.dut.msix_enable):  # an endpoint input: `rst` leaves it as it is
                self.scoreboard.observer.observe(ev.MsixEnable(True))
        self.monitor = CoreMonitor(self)
        self.monitor.start()
        if self.fault == "extra_irq":
            cocotb.start_soon(self._extra_irq())

    def _sample_status_write(self, write: ev.RegWrite, state: int, presented: int) -> None:
        cls = classify_write(write.data & 0xFF, presented)
        sample_status_write(St(state).name, cls.name, self.mode.name)

    async def planted_bus_during_reset(self) -> None:
        """Planted fault `bus_during_reset`: `rst` pulses under the pending write of 0, unknown to the monitors, and
        a read follows at once; the SUS-13 monitor must see that handshake."""
        if self.fault != "bus_during_reset":
            return
        await self._pulse(self.dut.rst)
        await self.axil.read(c.CC_DEVICE_STATUS & ~3, 4)

    async def _extra_irq(self) -> None:
        """Planted fault: one used notification nobody decided, as soon as a queue with a vector runs with MSI-X."""
        while True:
            await RisingEdge(self.dut.clk)
            vectors = value_of(self.dut.q_msix_vector)
            if self.state == St.RUNNING and is_high(self.dut.msix_enable):
                for q in range(self.params.NUM_QUEUES):
                    if vectors >> 16 * q & 0xFFFF != c.NO_VECTOR:
                        self.engine.notify(q)
                        return

    # -- views
    @property
    def state(self) -> St:
        return St(value_of(self.dut.state))

    @property
    def observer(self) -> Optional[Observer]:
        return self.scoreboard.observer if self.scoreboard is not None else None

    def driver(self, **options) -> Driver:
        """The reference driver (models/virtio_golden/driver.py) over this bus, memory and clock."""
        p = self.params
        return Driver(self.bus, self.mem, self.clock, self.alloc, num_queues=p.NUM_QUEUES, mode=p.mode,
                      f_suspend_bit=p.F_SUSPEND_BIT, **{"poll_limit": 2000, "poll_wait": 2, **options})

    # -- register access
    async def read(self, addr: int, size: int = 4) -> int:
        return await self.bus.read(addr, size)

    async def write(self, addr: int, value: int, size: int = 4) -> None:
        await self.bus.write(addr, value, size)

    async def write_strobed(self, word_addr: int, data: int, strb: int) -> None:
        await self.bus.write_strobed(word_addr, data, strb)

    async def status(self) -> int:
        return await self.read(c.CC_DEVICE_STATUS, 1)

    async def write_status(self, value: int) -> None:
        await self.write(c.CC_DEVICE_STATUS, value, 1)

    async def select(self, queue: int) -> None:
        await self.write(c.CC_QUEUE_SELECT, queue, 2)

    async def kick(self, queue: int) -> None:
        await self.write(c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * queue, queue, 2)

    async def read_isr(self) -> int:
        return await self.read(c.BAR_ISR, 1)

    # -- device-side inputs (one-cycle pulses are driven after a rising edge, seen by the next one)
    async def fault_inj(self) -> None:
        await self._pulse(self.dut.fault_inj)

    async def eng_error(self) -> None:
        self.engine.error()
        await ClockCycles(self.dut.clk, 2)

    async def devcfg_write(self, addr: int, data: int) -> None:
        self.dut.devcfg_wr_addr.value = addr
        self.dut.devcfg_wr_data.value = data & 0xFFFF_FFFF
        await self._pulse(self.dut.devcfg_wr_valid)

    async def set_msix(self, enabled: bool) -> None:
        await RisingEdge(self.dut.clk)
        self.dut.msix_enable.value = int(enabled)
        await RisingEdge(self.dut.clk)

    async def _pulse(self, signal) -> None:
        """One cycle high; returns just after the edge that sampled it, with that edge's effects visible."""
        await RisingEdge(self.dut.clk)
        signal.value = 1
        await RisingEdge(self.dut.clk)
        signal.value = 0
        await self._after_edge()

    async def _after_edge(self) -> None:
        """Inside a RisingEdge callback the registers still show their old values; 1 ns later they show the new."""
        await Timer(1, "ns")

    # -- waiting
    async def cycles(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    async def wait_state(self, *states: St, limit: int = 5000) -> St:
        """Wait (at most `limit` cycles) until the engine state is one of `states`."""
        for _ in range(limit):
            if self.state in states:
                return self.state
            await RisingEdge(self.dut.clk)
            await self._after_edge()
        raise CheckerFailure(f"state {self.state.name} after {limit} cycles; expected {[s.name for s in states]}")

    async def poll_status(self, done, limit: int = 2000) -> int:
        """Read device_status until `done(value)`; every read is judged by the scoreboard."""
        for _ in range(limit):
            value = await self.status()
            if done(value):
                return value
        raise CheckerFailure(f"device_status {value:#04x} after {limit} reads")

    async def settle(self) -> None:
        """Rule 8.12 set 10: after a resume write, wait until RESUMING is over and read device_status, so the golden
        model sees the flip before the next stimulus that could race it."""
        if self.state == St.RESUMING:
            await self.wait_state(St.RUNNING, St.INIT, St.HALTED, St.RESET_PENDING, limit=self.params.RESUME_LATENCY + 8)
        await self.status()

    async def irq_quiet(self, cycles: int = 8, limit: int = 5000) -> None:
        """Wait until no interrupt message is offered or waiting, no used notification is queued and no aborted drain
        still owes its notifications (`stop_req` in HALTED, SUS-12)."""
        quiet = 0
        for _ in range(limit):
            busy = is_high(self.dut.irq_valid) or not self.engine.notify_idle or is_high(self.dut.stop_req)
            quiet = 0 if busy else quiet + 1
            if quiet >= cycles:
                return
            await RisingEdge(self.dut.clk)
        raise CheckerFailure("interrupt stream still busy")

    # -- bringing the device to a state (SPEC Appendix B: every state reached deterministically)
    async def negotiate(self, features: Optional[int] = None, features_ok: bool = True) -> int:
        """Reset (write 0), ACK, DRIVER, both driver_feature windows, and FEATURES_OK; returns the status shown."""
        features = self.params.DEVICE_FEATURES if features is None else features
        await self.write_status(0)
        await self.write_status(c.S_ACKNOWLEDGE)
        await self.write_status(c.S_ACKNOWLEDGE | c.S_DRIVER)
        for select in (0, 1):
            await self.write(c.CC_DRIVER_FEATURE_SELECT, select)
            await self.write(c.CC_DRIVER_FEATURE, features >> 32 * select & 0xFFFF_FFFF)
        if features_ok:
            await self.write_status(c.S_ACKNOWLEDGE | c.S_DRIVER | c.S_FEATURES_OK)
        if self.config_vector is not None:
            await self.write(c.CC_CONFIG_MSIX_VECTOR, self.config_vector, 2)
        return await self.status()

    def features_without_suspend(self) -> int:
        return self.params.DEVICE_FEATURES & ~(1 << self.params.F_SUSPEND_BIT)

    async def to_running(self, features: Optional[int] = None) -> int:
        await self.negotiate(features)
        await self.write_status(0x0F)
        await self.wait_state(St.RUNNING, limit=4)
        return await self.status()

    async def to_suspending(self) -> int:
        """RUNNING, then an eligible SUSPEND request with the engine holding `stopped` low."""
        await self.to_running()
        self.engine.hold_drain = True
        await self.write_status(0x1F)
        await self.wait_state(St.SUSPENDING, limit=4)
        return await self.status()

    async def to_suspended(self, before_driver_ok: bool = False) -> int:
        """SUSPENDED through a drain (or, mode RFC with before_driver_ok, straight from INIT: 0x0B, W=0x1B)."""
        if before_driver_ok:
            await self.negotiate()
            await self.write_status(0x1B)
        else:
            await self.to_running()
            await self.write_status(0x1F)
        await self.wait_state(St.SUSPENDED)
        return await self.poll_status(lambda s: s & c.S_SUSPEND)

    async def to_resuming(self, resume_value: Optional[int] = None, before_driver_ok: bool = False) -> int:
        """SUSPENDED, then a resume write (default: P | DRIVER_OK); returns the edge that accepted it."""
        shown = await self.to_suspended(before_driver_ok)
        await self.write_status(shown | c.S_DRIVER_OK if resume_value is None else resume_value)
        edge, _, before = self.monitor.status_writes[-1]
        assert before == St.SUSPENDED, f"the resume write was taken in {St(before).name}"
        return edge

    async def to_halted(self, how: str) -> int:
        """HALTED by FAILED in RUNNING ("failed"), by fault_inj in RUNNING ("fault") or by Q14 from INIT ("q14")."""
        if how == "q14":
            await self.negotiate(features_ok=False)
            await self.write_status(0x07)
        else:
            await self.to_running()
            if how == "failed":
                await self.write_status(0x8F)
            else:
                await self.fault_inj()
        await self.wait_state(St.HALTED, limit=8)
        return await self.status()

    async def check_reset_values(self, devcfg: Optional[bytes] = None) -> None:
        """Every rule 8.5 value, read through the bus (each read also judged by the golden model); `devcfg` is the
        device-specific configuration expected (unchanged by a device reset)."""
        p = self.params
        assert await self.read(c.CC_DEVICE_FEATURE_SELECT) == 0
        assert await self.read(c.CC_DEVICE_FEATURE) == p.DEVICE_FEATURES & 0xFFFF_FFFF
        assert await self.read(c.CC_DRIVER_FEATURE_SELECT) == 0
        assert await self.read(c.CC_DRIVER_FEATURE) == 0
        assert await self.read(c.CC_CONFIG_MSIX_VECTOR) == p.NUM_QUEUES << 16 | c.NO_VECTOR
        assert await self.read(c.CC_DEVICE_STATUS) == 0  # status, generation and queue_select
        for q in range(p.NUM_QUEUES):
            await self.select(q)
            assert await self.read(c.CC_QUEUE_SIZE) == c.NO_VECTOR << 16 | p.QUEUE_SIZE_MAX
            assert await self.read(c.CC_QUEUE_ENABLE) == q << 16  # queue_enable 0, queue_notify_off q
            for half in range(c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DEVICE_HI + 4, 4):
                assert await self.read(half) == 0
            for word in (c.CC_QUEUE_NOTIF_CONFIG_DATA, c.CC_ADMIN_QUEUE_INDEX, c.CC_QUEUE_AVAIL_STATE):
                assert await self.read(word) == 0  # queue_reset 0, admin fields 0, vq state 0
        await self.select(0)
        assert await self.read_isr() == 0
        if devcfg is not None:
            assert await self.read_devcfg() == devcfg
        dut = self.dut
        assert value_of(dut.q_enable) == 0 and value_of(dut.kick_pending) == 0 and value_of(dut.negotiated_features) == 0
        assert not is_high(dut.intx) and not is_high(dut.irq_valid) and self.state == St.INIT

    async def read_devcfg(self) -> bytes:
        """The device-specific configuration, word by word (device-config reads, rule 8.10)."""
        words = [await self.read(c.BAR_DEVICE_CFG + off) for off in range(0, self.params.DEV_CFG_SIZE, 4)]
        return b"".join(word.to_bytes(4, "little") for word in words)

    async def read_common(self) -> dict:
        """Every word of the common configuration for every queue (and past the last one), read back; the golden
        model judges each value, and the engine-side configuration ports must show what the registers read."""
        words = {}
        for q in range(self.params.NUM_QUEUES + 1):
            await self.select(q)
            words[q] = {word: await self.read(word) for word in range(0, c.COMMON_CFG_LEN_VQ_STATE, 4)}
            selected = words[q][c.CC_QUEUE_SELECT & ~3] >> 16  # SUSPENDED_CFG_LOCK may have kept the old one
            if selected < self.params.NUM_QUEUES:
                self.check_queue_ports(selected, words[q])
        return words

    def check_queue_ports(self, q: int, words: dict) -> None:
        """docs/rtl-core.md: the per-queue outputs (q_enable, q_size, q_msix_vector, q_desc, q_driver, q_device)
        show the registers of queue q."""
        dut = self.dut

        def field(port, width: int) -> int:
            return value_of(port) >> width * q & (1 << width) - 1

        def address(lo: int) -> int:
            return words[lo + 4] << 32 | words[lo]

        shown = {"q_enable": field(dut.q_enable, 1), "q_size": field(dut.q_size, 16),
                 "q_msix_vector": field(dut.q_msix_vector, 16), "q_desc": field(dut.q_desc, 64),
                 "q_driver": field(dut.q_driver, 64), "q_device": field(dut.q_device, 64)}
        expected = {"q_enable": words[c.CC_QUEUE_ENABLE] & 1, "q_size": words[c.CC_QUEUE_SIZE] & 0xFFFF,
                    "q_msix_vector": words[c.CC_QUEUE_SIZE] >> 16, "q_desc": address(c.CC_QUEUE_DESC_LO),
                    "q_driver": address(c.CC_QUEUE_DRIVER_LO), "q_device": address(c.CC_QUEUE_DEVICE_LO)}
        assert shown == expected, f"queue {q}: engine ports {shown}, registers {expected}"

    def resuming_cycles_left(self) -> int:
        """Cycles until resume completion (RESUME_LATENCY after the accepted resume write); 0 outside RESUMING."""
        if self.state != St.RESUMING:
            return 0
        accepted = max(edge for edge, _, before in self.monitor.status_writes if before == St.SUSPENDED)
        return self.params.RESUME_LATENCY - (self.monitor.edge - accepted)

    # -- the end of every test
    async def finish(self) -> None:
        """Let owed interrupts be delivered, show the ISR to the model, run observer.finish(), log the speed."""
        self.engine.hold_drain = False
        self.engine.hold_busy = False
        await self.irq_quiet()
        if self.scoreboard is not None:
            if not is_high(self.dut.msix_enable):
                await self.read_isr()  # owed ISR bits must show now (an already-high INTx cannot)
            self.scoreboard.finish()
        elapsed = time.perf_counter() - self._started
        checked = self.scoreboard.reads_checked if self.scoreboard is not None else 0
        cycles = self.engine.cycle
        self.dut._log.info("%d cycles in %.2f s (%.0f cycles/s); %d read-backs checked by the golden model",
                           cycles, elapsed, cycles / max(elapsed, 1e-9), checked)
