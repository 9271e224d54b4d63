"""Functional coverage of the device top (DESIGN.md "Shared conventions", tb/virtio_cosim/coverage.py): the
covergroups `suspend`, `resume`, `migration`, `malformed`, `dma_error`, `ring` and `notify`.

Everything is sampled from observed behaviour: `CoveredScoreboard` looks at the golden model's observer state just
before and just after each event the model accepts (the events the monitors built from the ports, rule 8.12), never
at RTL internals. `sample_migration` is called by the migration tests with what their driver did.

- suspend: a SUSPEND request latched in RUNNING, with the chains then in flight (0, 1, 2-3, 4+) x enabled queues
  (1, 2+) x EVENT_IDX x INDIRECT_DESC negotiated x SUSPEND_MODE.
- resume: a resume completing to RUNNING (V14 or RFC) or to INIT (RFC, SUS-11), aborted by a fault (RESUMING ->
  HALTED), and a reset written in SUSPENDED or RESUMING.
- migration: migrate or rollback x mode x SUS-19 window of the queue's state (1: before enable, 3: after
  DRIVER_OK; a rollback restores nothing, its state was written in window 1), and migrate or rollback x mode x
  whether the queue's 16-bit indices crossed the wrap.
- malformed: each SPEC 4.7 class (virtio_golden.chain.MalformedClass) of a chain that sent the model to HALTED
  with NEEDS_RESET.
- dma_error: the access an SLVERR / DECERR answered (avail.idx, avail ring, descriptor, indirect table, gather
  read, scatter write, used element, used.idx, avail_event) x the response.
- ring: avail and used 16-bit index wrap, avail and used ring-slot wrap, a used element written in parts across a
  4 KiB boundary.
- notify: a used-buffer notification decision with or without EVENT_IDX: notify or suppress (rule 8.3), the first
  used.idx write after a scan (EVENT_IDX, Q16), forced at the end of a drain (SUS-21).
"""

from typing import Optional

from cocotb_coverage.coverage import CoverCross, CoverPoint

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.chain import MalformedChain, MalformedClass, walk_chain
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.memory import ADDRESS_SPACE, OVERFLOW, DmaError
from virtio_golden.ring import pending_heads, u16, vring_need_event

from .tb_common import Scoreboard, is_status_write

MODES = [m.name for m in SuspendMode]
BOOLS = [True, False]
PAGE = 4096

# -- covergroup `suspend` -------------------------------------------------------------------------------------------

DEPTHS = ["0", "1", "2-3", "4+"]
QUEUE_COUNTS = ["1", "2+"]


def depth_bucket(in_flight: int) -> str:
    return "0" if in_flight == 0 else "1" if in_flight == 1 else "2-3" if in_flight <= 3 else "4+"


@CoverPoint("suspend.in_flight", xf=lambda depth, queues, event_idx, indirect, mode: depth, bins=DEPTHS)
@CoverPoint("suspend.queues", xf=lambda depth, queues, event_idx, indirect, mode: queues, bins=QUEUE_COUNTS)
@CoverPoint("suspend.event_idx", xf=lambda depth, queues, event_idx, indirect, mode: event_idx, bins=BOOLS)
@CoverPoint("suspend.indirect", xf=lambda depth, queues, event_idx, indirect, mode: indirect, bins=BOOLS)
@CoverPoint("suspend.mode", xf=lambda depth, queues, event_idx, indirect, mode: mode, bins=MODES)
@CoverCross("suspend.depth_x_queues_x_features_x_mode",
            items=["suspend.in_flight", "suspend.queues", "suspend.event_idx", "suspend.indirect", "suspend.mode"])
def sample_suspend(depth: str, queues: str, event_idx: bool, indirect: bool, mode: str) -> None:
    """A SUSPEND request latched in RUNNING."""


# -- covergroup `resume` --------------------------------------------------------------------------------------------

RESUME_PATHS = ["V14 resume to RUNNING", "RFC resume to RUNNING", "RFC resume to INIT", "resume aborted by fault",
                "reset from SUSPENDED", "reset from RESUMING"]


@CoverPoint("resume.path", bins=RESUME_PATHS)
def sample_resume(path: str) -> None:
    """A way out of SUSPENDED / RESUMING."""


# -- covergroup `migration` -----------------------------------------------------------------------------------------

KINDS = ["migrate", "rollback"]
WINDOWS = [1, 3]


@CoverPoint("migration.kind", xf=lambda kind, mode, window, wrapped: kind, bins=KINDS)
@CoverPoint("migration.mode", xf=lambda kind, mode, window, wrapped: mode, bins=MODES)
@CoverPoint("migration.window", xf=lambda kind, mode, window, wrapped: window, bins=WINDOWS)
@CoverPoint("migration.wrapped", xf=lambda kind, mode, window, wrapped: wrapped, bins=BOOLS)
@CoverCross("migration.kind_x_mode_x_window", items=["migration.kind", "migration.mode", "migration.window"],
            ign_bins=[("rollback", None, 3)])  # a rollback restores nothing: its state was written in window 1
@CoverCross("migration.kind_x_mode_x_wrap", items=["migration.kind", "migration.mode", "migration.wrapped"])
def sample_migration(kind: str, mode: str, window: int, wrapped: bool) -> None:
    """One queue of a migration test at its end: how its state was written, whether its indices wrapped."""


# -- covergroup `malformed` -----------------------------------------------------------------------------------------

@CoverPoint("malformed.class", bins=[m.name for m in MalformedClass])
def sample_malformed(cls: str) -> None:
    """A malformed chain (SPEC 4.7) that ended in NEEDS_RESET."""


# -- covergroup `dma_error` -----------------------------------------------------------------------------------------

ACCESSES = ["avail.idx", "avail ring", "descriptor", "indirect table", "gather read", "scatter write",
            "used element", "used.idx", "avail_event"]
RESPONSES = [ev.SLVERR, ev.DECERR]


@CoverPoint("dma_error.access", xf=lambda access, resp: access, bins=ACCESSES)
@CoverPoint("dma_error.resp", xf=lambda access, resp: resp, bins=RESPONSES)
@CoverCross("dma_error.access_x_resp", items=["dma_error.access", "dma_error.resp"])
def sample_dma_error(access: str, resp: str) -> None:
    """An error response the model saw, by the access it answered (rule 8.9)."""


# -- covergroup `ring` ----------------------------------------------------------------------------------------------

RING_EVENTS = ["avail index wrap", "used index wrap", "avail slot wrap", "used slot wrap",
               "used element split at 4 KiB"]


@CoverPoint("ring.event", bins=RING_EVENTS)
def sample_ring(event: str) -> None:
    """A ring boundary the device crossed."""


# -- covergroup `notify` --------------------------------------------------------------------------------------------

NOTIFY_KINDS = ["decision: notify", "decision: suppress", "first write after a scan", "forced at drain"]


@CoverPoint("notify.kind", xf=lambda kind, event_idx: kind, bins=NOTIFY_KINDS)
@CoverPoint("notify.event_idx", xf=lambda kind, event_idx: event_idx, bins=BOOLS)
@CoverCross("notify.kind_x_event_idx", items=["notify.kind", "notify.event_idx"],
            ign_bins=[("first write after a scan", False)])  # Q16 is an EVENT_IDX rule
def sample_notify(kind: str, event_idx: bool) -> None:
    """A used-buffer notification decision."""


# -- sampling around each event the golden model accepts ------------------------------------------------------------

class _Before:
    """What the sampler needs of the model's state before an event (cheap: a few fields per queue). Values, not the
    Queue objects: a model that retries an event after a timed transition works on copies of them."""

    __slots__ = ("state", "queues", "faults", "in_flight", "dma_error")

    def __init__(self, core, event):
        self.state = core.state
        self.queues = [(q.enabled, q.last_avail, q.shadow_used, q.decision, q.marked, q.first_write)
                       for q in core.queues]
        self.faults = [f.fault.cls for q in core.queues for f in q.flights if f.fault is not None]
        self.in_flight = core.in_flight() if is_status_write(event) else 0
        self.dma_error = _access_of(core, event) if getattr(event, "resp", ev.OKAY) != ev.OKAY else None


def _access_of(core, event) -> Optional[str]:
    """Which access of ACCESSES an error response answered, from the queue layouts and the chains in flight."""
    for q in core.queues:
        if not q.enabled:
            continue
        region = q.layout().region_of(event.addr)
        if region is not None:  # a decision read (avail.flags, used_event) is no bin: it keeps its region name
            return {"avail_idx": "avail.idx", "avail_ring": "avail ring", "desc": "descriptor",
                    "used_ring": "used element", "used_idx": "used.idx"}.get(region, region)
    if isinstance(event, ev.DmaWrite):
        return "scatter write"
    for q in core.queues:
        for f in q.flights:
            if any(event.addr <= addr < event.addr + event.length for addr, _ in f.desc_pending):
                return "indirect table"
    return "gather read"


class _Memory:
    """Guest memory as `walk_chain` reads it, counting reads, for classifying a chain the model rejected without one."""

    def __init__(self, mem):
        self.mem = mem
        self.reads = 0

    def dma_read(self, addr: int, n: int) -> bytes:
        if addr + n > ADDRESS_SPACE:
            raise DmaError(addr, n, False, OVERFLOW)
        self.reads += 1
        return self.mem.read(addr, n)


class CoveredScoreboard(Scoreboard):
    """The scoreboard, sampling the device covergroups around each event the golden model accepts."""

    def _observe(self, event) -> None:
        core = self.observer.core
        before = _Before(core, event)
        super()._observe(event)
        if before.dma_error is not None:
            sample_dma_error(before.dma_error, event.resp)
        if isinstance(event, (ev.DmaRead, ev.DmaWrite)):
            self._sample_rings(core, event, before)
        self._sample_states(core, event, before)
        self._sample_notifications(core, event, before)

    # -- state changes: suspend, resume, malformed
    def _sample_states(self, core, event, before: _Before) -> None:
        after = core.state
        if after == before.state:
            return
        mode = core.mode.name
        if before.state == St.RUNNING and after in (St.SUSPENDING, St.SUSPENDED) and is_status_write(event):
            enabled = sum(q.enabled for q in core.queues)
            sample_suspend(depth_bucket(before.in_flight), "1" if enabled == 1 else "2+", core.event_idx,
                           core.negotiated_bit(c.F_INDIRECT_DESC), mode)
        if before.state == St.RESUMING and after == St.RUNNING:
            sample_resume(f"{mode} resume to RUNNING")
        elif before.state == St.RESUMING and after == St.INIT:
            sample_resume("RFC resume to INIT")
        elif before.state == St.RESUMING and after == St.HALTED and core.presented & c.S_NEEDS_RESET:
            sample_resume("resume aborted by fault")
        if before.state in (St.SUSPENDED, St.RESUMING) and is_status_write(event) and event.data & 0xFF == 0:
            sample_resume(f"reset from {before.state.name}")
        if after == St.HALTED and core.presented & c.S_NEEDS_RESET:
            for cls in self._malformed_classes(core, event, before):
                sample_malformed(cls.name)

    def _malformed_classes(self, core, event, before: _Before) -> list:
        """The SPEC 4.7 classes behind a HALTED entry: a chain being walked with a fault, or one rejected at the
        read that fetched it (pending heads > Q, head >= Q, a table address that overflows)."""
        if before.faults:
            return before.faults
        if getattr(event, "resp", ev.OKAY) != ev.OKAY:
            return [MalformedClass.DMA_ERROR] if before.dma_error in ("descriptor", "indirect table") else []
        if not isinstance(event, ev.DmaRead):
            return []
        for q, (enabled, last_avail, *_) in zip(core.queues, before.queues):
            if not enabled:
                continue
            region = q.layout().region_of(event.addr)
            if region == "avail_idx" and pending_heads(int.from_bytes(event.data, "little"), last_avail) > q.size:
                return [MalformedClass.PENDING_GT_Q]
            if region == "avail_ring":
                heads = [int.from_bytes(event.data[i:i + 2], "little") for i in range(0, len(event.data), 2)]
                return [cls for cls in (self._rejected_at_fetch(core, q, head) for head in heads) if cls][:1]
        return []

    @staticmethod
    def _rejected_at_fetch(core, q, head: int) -> Optional[MalformedClass]:
        """The class of a head the model rejects as it takes it (no descriptor read seen): head >= Q, or a
        descriptor address that overflows before the first read."""
        if head >= q.size:
            return MalformedClass.HEAD_GE_Q
        memory = _Memory(core.mem)
        try:
            walk_chain(memory, q.desc, q.size, head, indirect_ok=core.negotiated_bit(c.F_INDIRECT_DESC),
                       max_chain_len=core.params.MAX_CHAIN_LEN)
        except DmaError:
            return None if memory.reads else MalformedClass.ADDR_OVERFLOW
        except MalformedChain:
            pass
        return None

    # -- ring boundaries
    def _sample_rings(self, core, event, before: _Before) -> None:
        for q, (enabled, last_avail, shadow_used, *_) in zip(core.queues, before.queues):
            if not (enabled and q.enabled):  # a queue reset performed meanwhile starts from 0
                continue
            self._crossings(last_avail, q.last_avail, q.size, "avail")
            self._crossings(shadow_used, q.shadow_used, q.size, "used")
            if isinstance(event, ev.DmaWrite) and q.layout().region_of(event.addr) == "used_ring":
                element = event.addr - (event.addr - q.layout().used_elem_addr(0)) % c.USED_ELEM_SIZE
                if element // PAGE != (element + c.USED_ELEM_SIZE - 1) // PAGE and len(event.data) < 8:
                    sample_ring("used element split at 4 KiB")

    @staticmethod
    def _crossings(old: int, new: int, size: int, which: str) -> None:
        step = u16(new - old)
        if not 0 < step < 0x8000:  # unchanged, or moved back (race heads discarded at a drain's end)
            return
        if old + step > 0xFFFF:
            sample_ring(f"{which} index wrap")
        if old % size + step >= size:
            sample_ring(f"{which} slot wrap")

    # -- notification decisions
    def _sample_notifications(self, core, event, before: _Before) -> None:
        event_idx = core.event_idx
        for q, (_, _, _, decision, marked, first_write) in zip(core.queues, before.queues):
            if decision is not None and q.decision is None and isinstance(event, ev.DmaRead) and \
                    before.state == St.RUNNING and core.state == St.RUNNING:
                old, new = decision
                value = int.from_bytes(event.data, "little")
                notify = vring_need_event(value, new, old) if event_idx else not value & c.VIRTQ_AVAIL_F_NO_INTERRUPT
                sample_notify("decision: notify" if notify else "decision: suppress", event_idx)
            if first_write and not q.first_write and event_idx and isinstance(event, ev.DmaWrite) and \
                    core.state == St.RUNNING and q.layout().region_of(event.addr) == "used_idx":
                sample_notify("first write after a scan", event_idx)
            if marked and not q.marked and core.state in (St.SUSPENDING, St.SUSPENDED):
                sample_notify("forced at drain", event_idx)
