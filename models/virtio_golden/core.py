"""The device core: one event-driven statement of SPEC.md under both faces of the golden model.

`DeviceCore.observe(event)` checks one observable event (rule 8.12) against what the spec allows in the current
state and advances the state; an event outside the allowed set raises `Mismatch`, which names that set.  Where the
spec allows several behaviours (rule 8.1's race, the moment a drain or resume ends, rule 8.12's sets), the core
accepts each of them and follows the one observed.

`DeviceCore.engine_actions()` lists the engine-initiated transactions the spec allows next, with their addresses
and (for writes) their data.  The standalone device (`device.py`) picks among them, performs them on guest memory
and feeds the resulting events back through `observe`; the co-simulation observer (`observer.py`) receives the
same events from monitors on the RTL.  So both faces share every rule below, and none is written twice.

The core never counts clock cycles (rule 8.12).  Guest-memory structure (descriptors, the bytes a gather must
return) is read from the memory view the core is given, which in co-simulation is the testbench's guest memory.
"""

import copy
from dataclasses import dataclass, field, replace
from typing import Optional

from . import constants as c
from . import events as ev
from .chain import Chain, MalformedChain, MalformedClass, walk_chain
from .constants import EngineState as St
from .constants import SuspendMode
from .isr import IsrModel
from .memory import ADDRESS_SPACE, OVERFLOW, DmaError, GuestMem
from .params import Params
from .regmap import VQ_STATE_FIELDS, fields_in_word, lanes_of, notify_queue
from .ring import RingLayout, pending_heads, u16, vring_need_event
from .status import decide_status_write, resumed_encoding, suspended_encoding

ACTIVE_STATES = (St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING)


class Mismatch(AssertionError):
    """An observed event that the spec does not allow in the model's current state."""

    def __init__(self, event, allowed: str, state: str):
        self.event = event
        self.allowed = allowed
        super().__init__(f"{event!r} is not allowed in {state}; allowed: {allowed}")


# -- per-chain and per-queue state ---------------------------------------------------------------------

# (register, Queue counter, Queue floor) of the counters whose RTL value may lag the model in RUNNING (SUS-19)
LAGGING_COUNTERS = (("queue_avail_state", "last_avail", "avail_state_floor"),
                    ("queue_used_state", "shadow_used", "used_state_floor"))

@dataclass
class Flight:
    """A chain from the moment its head is taken (SUS-06) until its used element is published."""

    queue: int
    head: int
    chain: Optional[Chain]                # None when the walk found a malformed chain
    fault: Optional[MalformedChain]
    desc_pending: list                    # descriptor reads the walk still needs, (addr, 16)
    raced: bool = False                   # read at the SUSPEND fetch stop; taken only once its walk is seen
    tag: Optional[int] = None
    requested: bool = False
    gathered: int = 0                     # readable buffers already read (standalone face)
    # Their bytes: the be_rd packet so far (rule 8.11).  Held here rather than by id(flight) in the device, since an
    # abandoned flight's id may be reused by a new flight.
    rd_packet: bytes = b""
    completion: Optional[bytes] = None    # bytes to scatter, once the completion is accepted
    scatter_left: dict = field(default_factory=dict)  # addr -> expected byte, not yet written
    written: int = 0
    elem_left: set = field(default_factory=lambda: set(range(8)))  # bytes of its used element not yet written
    elem_written: bool = False

    @property
    def walked(self) -> bool:
        return not self.desc_pending and self.fault is None


@dataclass
class Queue:
    """The per-queue registers and latches of rule 8.5, and the queue's datapath progress."""

    size: int
    msix_vector: int = c.NO_VECTOR
    enabled: bool = False
    desc: int = 0
    driver: int = 0
    device: int = 0
    reset_latched: bool = False
    last_avail: int = 0                   # = queue_avail_state (SUS-19)
    shadow_used: int = 0                  # = queue_used_state (SUS-19)
    # SUS-18, SUS-19: in RUNNING the live counters may lag the model, which moves them at the bus event (the
    # avail.ring read data, the used.idx write response) while the RTL moves them some edges later, a head or an
    # element at a time (rule 8.12): a read may show any value from the floor (the last value a read showed, or the
    # value before the first unseen move) up to the model's; None: no lag possible
    avail_state_floor: Optional[int] = None
    used_state_floor: Optional[int] = None
    kick_pending: bool = False
    first_write: bool = False             # EVENT_IDX: the next used.idx write notifies (SPEC 4.6, Q16)
    fetch_due: bool = False               # an avail.idx read is owed (scan, kick, or re-read after avail_event)
    event_due: bool = False               # EVENT_IDX: avail_event must be written before the next avail.idx read
    known_avail: Optional[int] = None     # avail.idx as last read in this service period
    flights: list = field(default_factory=list)     # taken chains, in take order
    done_order: list = field(default_factory=list)  # completed chains, in completion-acceptance order
    elems_unpublished: int = 0            # used elements written but not yet covered by used.idx
    decision: Optional[tuple] = None      # (old, new): a used.idx write awaiting its decision read (rule 8.3)
    marked: bool = False                  # "published since the request" (SUS-21)
    # Rule 8.12 sets 1 and 6: transactions issued before the SUSPEND latch that may still complete after it
    idx_read_may_retire: bool = False     # one avail.idx read (its value is ignored)
    event_write_may_retire: bool = False  # the avail_event write that was due
    decision_read_may_retire: bool = False  # the decision read of a decision dropped at the latch

    def layout(self) -> RingLayout:
        return RingLayout(self.desc, self.driver, self.device, self.size)


@dataclass
class Action:
    """An engine-initiated transaction the spec allows now (standalone face): kind, queue, address, data."""

    kind: str
    queue: int = -1
    addr: int = 0
    length: int = 0
    data: bytes = b""
    flight: Optional[Flight] = None


class _RecordingView:
    """Guest memory as the walker sees it: raw reads (errors arrive as events), recorded in order."""

    def __init__(self, mem: GuestMem):
        self.mem = mem
        self.reads = []

    def dma_read(self, addr: int, n: int) -> bytes:
        if addr + n > ADDRESS_SPACE:
            raise DmaError(addr, n, False, OVERFLOW)
        self.reads.append((addr, n))
        return self.mem.read(addr, n)


class DeviceCore:
    """Every register, latch and datapath rule of SPEC.md, advanced by observed events."""

    def __init__(self, params: Params, mem: GuestMem, bus_bytes: int = 16):
        self.params = params
        self.mem = mem
        self.bus_bytes = bus_bytes        # a gather read may cover whole bus words around a buffer (rule 8.11)
        self.devcfg = bytearray(params.DEV_CFG_SIZE)
        self.msix_enable = False
        self.void_tags: set = set()       # survive a device reset (rule 8.5)
        self.diag = {"cpl_len_err": False, "cpl_bad_tag": False}
        self.diag_seen = set()
        self.trace_sink = None            # optional callable(event) that records every accepted event
        self._ghost: Optional["DeviceCore"] = None
        self._reset_registers()
        self.state = St.INIT
        self.quiesce = False
        self.flush_owed = 0

    # ------------------------------------------------------------------ reset values (rule 8.5)
    def _reset_registers(self) -> None:
        p = self.params
        self.presented = 0
        self.device_feature_select = 0
        self.driver_feature_select = 0
        self.driver_features = [0, 0]
        self.negotiated = 0
        self.config_msix_vector = c.NO_VECTOR
        self.queue_select = 0
        self.generation = 0
        self.cfg_dirty = False
        self.cfg_pending: dict = {}
        self.isr = IsrModel()
        self.owed_isr = 0                 # ISR bits decided but possibly not yet set by the RTL
        self.optional_isr = 0             # ISR bits that may still be set or may already have been read
        self.owed_irqs: list = []         # interrupt messages decided, not yet accepted (vectors)
        self.owed_config: list = []       # the configuration-change ones among them
        self.optional_irqs: list = []     # messages that may still arrive or may have been dropped
        self.queues = [Queue(size=p.QUEUE_SIZE_MAX) for _ in range(p.NUM_QUEUES)]
        self.live_tags: dict = {}
        self.resume_to: Optional[St] = None
        self.suspend_latched = False
        # queue index -> its registers while a queue reset runs (RUNNING, HALTED): the RTL shows them, with
        # queue_reset = 1, until its outstanding transactions have retired (SPEC 4.8)
        self.queue_reset_transient: dict = {}
        # (marked queues, configuration notification due) of a drain aborted by NEEDS_RESET whose transactions
        # may not have retired yet (SUS-12); optional after a reset (rule 8.5)
        self.aborted_drain_due: Optional[tuple] = None
        # ISR bits read while it was due: its notification may have set a bit already set, and that read cleared both
        self.aborted_drain_isr_seen = 0

    @property
    def mode(self) -> SuspendMode:
        return self.params.mode

    def negotiated_bit(self, bit: int) -> bool:
        return bool(self.negotiated >> bit & 1)

    @property
    def event_idx(self) -> bool:
        return self.negotiated_bit(c.F_EVENT_IDX)

    def _describe(self) -> str:
        return f"{self.state.name} (P={self.presented:#04x})"

    # ------------------------------------------------------------------ the one entry point
    def observe(self, event) -> Optional[int]:
        """Check one event against the allowed set and advance.  Returns the model's value for a RegRead."""
        handler = getattr(self, "_on_" + type(event).__name__)
        timed = self._timed_transitions()
        if not timed:
            result = handler(event)
        else:
            # Rule 8.12 sets 7, 9 and 10: a drain or a resume may have ended, or a known fault may have reached
            # HALTED, unobserved.  Try the event in the current state first; if it is not allowed there, one of
            # those transitions must already have happened.
            before = self._snapshot()
            try:
                result = handler(event)
            except Mismatch as first:
                allowed = [first.allowed]
                for name in timed:
                    self._restore(copy.deepcopy(before, self._memo()))
                    self._complete_timed_transition(name)
                    try:
                        result = handler(event)
                        break
                    except Mismatch as later:
                        allowed.append(f"after the {name}: {later.allowed}")
                else:
                    self._restore(before)
                    raise Mismatch(event, "; or ".join(allowed), self._describe()) from None
        if self.trace_sink is not None:
            if isinstance(event, ev.RegRead) and event.data is None:
                event = ev.RegRead(event.addr, result)  # a replay checks the value the model returned
            self.trace_sink(event)
        return result

    def _memo(self) -> dict:
        return {id(self.mem): self.mem, id(self.params): self.params, id(self.trace_sink): self.trace_sink}

    def _snapshot(self):
        return copy.deepcopy(self.__dict__, self._memo())

    def _restore(self, snapshot) -> None:
        self.__dict__.clear()
        self.__dict__.update(snapshot)

    # ------------------------------------------------------------------ register reads
    def _on_RegRead(self, event: ev.RegRead) -> int:
        if self.state == St.RESET_PENDING:
            raise Mismatch(event, "no register access until the reset completes (SUS-13)", self._describe())
        addr = event.addr & ~3
        if c.BAR_ISR <= addr < c.BAR_ISR + 4:
            return self._read_isr(event)
        value = self._read_word(addr)
        if event.data is not None and event.data != value:
            value = self._read_alternative(event, addr, value)
        else:
            if self.queue_select in self.queue_reset_transient and value != self._read_resetting(addr):
                del self.queue_reset_transient[self.queue_select]  # the reset was seen complete
            if event.data is not None:
                self._lagging_counters_seen(addr, event.data)
        if self._is_devcfg_read(addr) and self.cfg_dirty:  # SPEC 2.6, rule 8.10
            self.generation = u16(self.generation + 1) & 0xFF
            self.cfg_dirty = False
        return value

    def _read_alternative(self, event: ev.RegRead, addr: int, model_value: int) -> int:
        """Rule 8.12 set 4 and the queue-reset transient: values the RTL may still show."""
        if addr == c.CC_DEVICE_STATUS:
            before = self._snapshot()
            for name in self._timed_transitions():
                self._complete_timed_transition(name)
                flipped = self._read_word(addr)
                if event.data == flipped:
                    return flipped
                self._restore(copy.deepcopy(before, self._memo()))
        if self.queue_select in self.queue_reset_transient and event.data == self._read_resetting(addr):
            return event.data  # SPEC 4.8: the queue's registers, queue_reset = 1, until the reset is done
        if self._lagging_counters_seen(addr, event.data):
            return event.data  # SUS-18, SUS-19: the live counters have not caught up with the bus yet
        lagging = [f"{name} from {getattr(q, floor):#06x}" for q in [self._selected()] if q is not None
                   for name, _, floor in LAGGING_COUNTERS if getattr(q, floor) is not None]
        raise Mismatch(event, f"read value {model_value:#010x}"
                              + (f" ({', '.join(lagging)} up to the model's)" if lagging else ""), self._describe())

    def _lagging_counters_seen(self, addr: int, data: int) -> bool:
        """Whether `data` is the word with each lagging counter of the selected queue it covers between its floor
        and the model's value; if so, those counters are known to have reached what the read shows."""
        q = self._selected()
        if q is None:
            return False
        shown = {}
        for fld in fields_in_word(addr, bool(self.params.VQ_STATE_REGS)):
            for name, attr, floor in LAGGING_COUNTERS:
                if fld.name == name:
                    value = getattr(q, attr)
                    for lane, byte in lanes_of(fld, addr):
                        value = value & ~(0xFF << 8 * byte) | (data >> 8 * lane & 0xFF) << 8 * byte
                    lowest = getattr(q, floor)
                    if value != getattr(q, attr) and (lowest is None or u16(value - lowest) >
                                                      u16(getattr(q, attr) - lowest)):
                        return False  # outside [floor, model]
                    shown[(attr, floor)] = value
        live = {attr: getattr(q, attr) for attr, _ in shown}
        for (attr, _), value in shown.items():
            setattr(q, attr, value)
        try:
            if self._read_word(addr) != data:
                return False
        finally:
            for attr, value in live.items():
                setattr(q, attr, value)
        for (attr, floor), value in shown.items():
            setattr(q, floor, None if value == live[attr] else value)
        return True

    def _read_resetting(self, addr: int) -> int:
        """The word as the RTL shows it while the selected queue's reset still runs."""
        qi = self.queue_select
        done = self.queues[qi]
        self.queues[qi] = self.queue_reset_transient[qi]
        try:
            return self._read_word(addr)
        finally:
            self.queues[qi] = done

    def _read_isr(self, event: ev.RegRead) -> int:
        """ISR read-to-clear (SPEC 5.1): bits the RTL may not have set yet are owed, not required."""
        value = self.isr.value
        if event.data is not None:
            seen = event.data & 0xFF
            maybe = self.owed_isr | self.optional_isr
            if event.data >> 8 or seen & ~(value | maybe) or value & ~seen:
                raise Mismatch(event, f"ISR {value:#x} plus any of the owed bits {maybe:#x}", self._describe())
            self.owed_isr &= ~seen
            self.optional_isr &= ~seen
            if self.aborted_drain_due is not None:
                self.aborted_drain_isr_seen |= seen
            value = seen
        self.isr.read_clear()
        return value

    def _is_devcfg_read(self, addr: int) -> bool:
        return c.BAR_DEVICE_CFG <= addr < c.BAR_DEVICE_CFG + self.params.DEV_CFG_SIZE

    def _read_word(self, addr: int) -> int:
        if addr < c.BAR_ISR:
            word = 0
            for fld in fields_in_word(addr, bool(self.params.VQ_STATE_REGS)):
                value = self._field_value(fld.name)
                for lane, byte in lanes_of(fld, addr):
                    word |= (value >> 8 * byte & 0xFF) << 8 * lane
            return word
        if self._is_devcfg_read(addr):
            off = addr - c.BAR_DEVICE_CFG
            return int.from_bytes(self.devcfg[off:off + 4], "little")
        return 0  # the notify window and unused BAR space read 0 (rules 8.6, 8.7)

    def _selected(self) -> Optional[Queue]:
        return self.queues[self.queue_select] if self.queue_select < self.params.NUM_QUEUES else None

    def _field_value(self, name: str) -> int:
        p = self.params
        if name == "device_feature":
            sel = self.device_feature_select
            return p.DEVICE_FEATURES >> 32 * sel & 0xFFFF_FFFF if sel < 2 else 0
        if name == "driver_feature":
            sel = self.driver_feature_select
            return self.driver_features[sel] if sel < 2 else 0
        simple = {
            "device_feature_select": self.device_feature_select,
            "driver_feature_select": self.driver_feature_select,
            "config_msix_vector": self.config_msix_vector,
            "num_queues": p.NUM_QUEUES,
            "device_status": self.presented,
            "config_generation": self.generation,
            "queue_select": self.queue_select,
            "admin_queue_index": 0,
            "admin_queue_num": 0,
        }
        if name in simple:
            return simple[name]
        q = self._selected()
        if q is None:
            return 0  # rule 8.6: queue_select >= num_queues
        return {
            "queue_size": q.size,
            "queue_msix_vector": q.msix_vector,
            "queue_enable": int(q.enabled),
            "queue_notify_off": self.queue_select,
            "queue_desc_lo": q.desc & 0xFFFF_FFFF, "queue_desc_hi": q.desc >> 32,
            "queue_driver_lo": q.driver & 0xFFFF_FFFF, "queue_driver_hi": q.driver >> 32,
            "queue_device_lo": q.device & 0xFFFF_FFFF, "queue_device_hi": q.device >> 32,
            "queue_notif_config_data": 0,
            "queue_reset": int(q.reset_latched and self.negotiated_bit(c.F_RING_RESET)),
            "queue_avail_state": q.last_avail,
            "queue_used_state": q.shadow_used,
        }[name]

    # ------------------------------------------------------------------ register writes (rule 8.6, SPEC 5.1)
    def _on_RegWrite(self, event: ev.RegWrite) -> None:
        if self.state == St.RESET_PENDING:
            raise Mismatch(event, "no register access until the reset completes (SUS-13)", self._describe())
        addr, data, strb = event.addr & ~3, event.data, event.strb
        if addr < c.BAR_ISR:
            for fld in fields_in_word(addr, bool(self.params.VQ_STATE_REGS)):
                lanes = [(lane, byte) for lane, byte in lanes_of(fld, addr) if strb >> lane & 1]
                if not lanes or not fld.writable:
                    continue
                value = self._field_value(fld.name)
                for lane, byte in lanes:
                    value = value & ~(0xFF << 8 * byte) | (data >> 8 * lane & 0xFF) << 8 * byte
                self._write_field(fld.name, value)
                if self.state == St.RESET_PENDING:
                    break  # SPEC 5.1: lanes after a reset-starting status byte are dropped
            if self.state == St.RESET_PENDING:
                self._complete_reset()
        elif c.BAR_NOTIFY <= addr < c.BAR_DEVICE_CFG:
            if strb & 1:
                self._kick(notify_queue(addr))
        elif self._is_devcfg_read(addr):
            self._driver_devcfg_write(addr - c.BAR_DEVICE_CFG, data, strb)

    def _locked(self) -> bool:
        """SUSPENDED_CFG_LOCK = 1: every write but device_status is dropped in SUSPENDED and RESUMING (SUS-17)."""
        return bool(self.params.SUSPENDED_CFG_LOCK) and self.state in (St.SUSPENDED, St.RESUMING)

    def _write_field(self, name: str, value: int) -> None:
        if name == "device_status":
            self._status_write(value)
            return
        if self._locked():
            return
        st = self.state
        configurable = st in (St.INIT, St.RUNNING)
        if name == "device_feature_select":
            self.device_feature_select = value
        elif name == "driver_feature_select":
            self.driver_feature_select = value
        elif name == "queue_select":
            self.queue_select = value
        elif name == "driver_feature":
            if st == St.INIT and not self.presented & c.S_FEATURES_OK and self.driver_feature_select < 2:
                self.driver_features[self.driver_feature_select] = value
        elif name == "config_msix_vector":
            if configurable:
                self.config_msix_vector = self._valid_vector(value)
                if self.config_msix_vector == c.NO_VECTOR:  # a waiting message read at offer time is dropped
                    self.optional_irqs += self.owed_config
                    self.owed_irqs = [v for v in self.owed_irqs if v not in self.owed_config]
                    self.owed_config = []
        else:
            q = self._selected()
            if q is not None:
                self._write_queue_field(self.queue_select, q, name, value)

    def _valid_vector(self, value: int) -> int:
        return value if value < self.params.MSIX_VECTORS or value == c.NO_VECTOR else c.NO_VECTOR

    def _write_queue_field(self, qi: int, q: Queue, name: str, value: int) -> None:
        st = self.state
        configurable = st in (St.INIT, St.RUNNING) and not q.enabled
        if name == "queue_size":
            if configurable and 0 < value <= self.params.QUEUE_SIZE_MAX and value & (value - 1) == 0:
                q.size = value
        elif name == "queue_msix_vector":
            if configurable:
                q.msix_vector = self._valid_vector(value)
        elif name.startswith(("queue_desc", "queue_driver", "queue_device")):
            if configurable:
                area = name.rsplit("_", 1)[0].removeprefix("queue_")
                old = getattr(q, area)
                new = (old & ~0xFFFF_FFFF | value) if name.endswith("_lo") else (old & 0xFFFF_FFFF | value << 32)
                setattr(q, area, new)
        elif name == "queue_enable":
            if value == 1 and st in (St.INIT, St.RUNNING) and not q.enabled and \
                    q.desc % 16 == 0 and q.driver % 2 == 0 and q.device % 4 == 0:
                q.enabled = True
                q.first_write = True
                if st == St.RUNNING:
                    self._start_service(q)  # an entry into RUNNING for this queue (rule 8.7)
        elif name == "queue_reset":
            if value == 1 and self.negotiated_bit(c.F_RING_RESET):
                if st in (St.SUSPENDING, St.RESUMING):
                    q.reset_latched = True
                else:
                    self._queue_reset(qi)
        elif name in VQ_STATE_FIELDS:
            window = (st == St.INIT and self.presented & c.S_FEATURES_OK and not q.enabled) or \
                st == St.SUSPENDED or (st == St.RUNNING and not q.enabled)
            if window:
                if name == "queue_avail_state":
                    q.last_avail, q.avail_state_floor = value, None
                else:
                    q.shadow_used, q.used_state_floor = value, None

    def _driver_devcfg_write(self, off: int, data: int, strb: int) -> None:
        if self.state not in (St.INIT, St.RUNNING) or off < 8:
            return  # SUS-09, rule 8.10; words 0 and 1 are read-only to the driver
        for lane in range(4):
            if strb >> lane & 1 and off + lane < len(self.devcfg):
                self.devcfg[off + lane] = data >> 8 * lane & 0xFF

    # ------------------------------------------------------------------ status machine (rule 8.4)
    def _features_valid(self) -> bool:
        stored = self.driver_features[0] | self.driver_features[1] << 32
        return not stored & ~self.params.DEVICE_FEATURES and bool(stored >> c.F_VERSION_1 & 1)

    def _status_write(self, w: int) -> None:
        before = self.state
        decision = decide_status_write(self.state, self.presented, w, self.mode,
                                       self.negotiated_bit(self.params.F_SUSPEND_BIT), self._features_valid)
        if decision.features_ok_accepted:
            self.negotiated = self.driver_features[0] | self.driver_features[1] << 32
        if decision.reset:
            self._start_reset()
            return
        self.presented = decision.presented
        if decision.halt_failed:
            self._enter_halted(needs_reset=False)
        elif decision.halt_needs_reset:
            self._enter_halted(needs_reset=True)  # Q14: DRIVER_OK never shown, so no notification
        elif decision.suspend:
            self._latch_suspend(from_init=before == St.INIT)
        elif decision.resume_to is not None:
            self.state = St.RESUMING
            self.resume_to = decision.resume_to
        elif decision.enter_running:
            self.state = St.RUNNING
            for q in self.queues:
                if q.enabled:
                    self._start_service(q)
        else:
            self.state = decision.state

    def _start_reset(self) -> None:
        """SUS-13: abandon everything, pulse be_flush; the core treats the reset as atomic (rule 8.12)."""
        if self.aborted_drain_due is not None:
            # Rule 8.5: the aborted drain's transactions may have retired, and its messages been offered, before
            # the write of 0; decided now, they become optional below
            self.complete_aborted_drain()
        self._ghost = self._retiring_ghost()
        self._abandon_all()
        self.flush_owed += 1
        self._set_quiesce(False)
        self.state = St.RESET_PENDING

    def _complete_reset(self) -> None:
        applied = bool(self.cfg_pending)
        self._apply_cfg_pending()
        # Rule 8.5: a message already offered retires, none is started after the write of 0; the core cannot see
        # which waiting message was offered, so each may still arrive or be dropped.
        optional = self.optional_irqs + self.owed_irqs
        self._reset_registers()
        self.optional_irqs = optional
        self.cfg_dirty = applied
        self.state = St.INIT

    def _latch_suspend(self, from_init: bool) -> None:
        """SUS-05 (a) and SUS-21: stop fetching, clear the marks, drop the decisions not yet made."""
        self.suspend_latched = True
        for q in self.queues:
            q.marked = False
            q.idx_read_may_retire = q.enabled
            q.event_write_may_retire = q.event_due
            q.fetch_due = q.event_due = False  # known_avail stays: it bounds the race heads (rule 8.1)
            q.decision_read_may_retire = q.decision is not None
            if q.decision is not None:
                q.decision = None
                q.marked = True
        if from_init:  # mode RFC before DRIVER_OK: the drain is empty, SUSPENDED in the same update (rule 8.4)
            self.state = St.SUSPENDED
            self.suspend_latched = False  # the drain has ended, as at any SUSPENDED entry
            self._perform_latched_queue_resets()
            return
        self.state = St.SUSPENDING
        self._set_quiesce(True)
        self._maybe_drain_irqs()  # an idle drain with a dropped decision owes its forced notification now

    def _set_quiesce(self, level: bool) -> None:
        self.quiesce = level

    # ------------------------------------------------------------------ timed transitions (rule 8.12 sets 7, 10)
    def _timed_transitions(self) -> list:
        """Transitions whose moment the RTL chooses and that may have happened unobserved (rule 8.12)."""
        names = []
        if self.state == St.RESUMING:
            names.append("resume")
        if self.state == St.SUSPENDING and self._drain_empty() and not self.owed_irqs:
            names.append("drain")
        if self._halt_evidence_allowed():
            names.append("fault")
        if self.aborted_drain_due is not None:
            names.append("aborted drain")
        return names

    def _complete_timed_transition(self, name: str) -> None:
        {"resume": self._complete_resume, "drain": self._complete_drain, "fault": self._raise_needs_reset,
         "aborted drain": self.complete_aborted_drain}[name]()

    def _drain_empty(self) -> bool:
        """Nothing in flight: every remaining head is a race head whose chain was never walked (rule 8.1)."""
        return all(all(f.raced for f in q.flights) and not q.elems_unpublished and not q.done_order
                   for q in self.queues)

    def _discard_raced_heads(self) -> None:
        """Rule 8.1: a head read at the fetch stop whose chain was never walked was discarded."""
        for q in self.queues:
            raced = [f for f in q.flights if f.raced]
            q.flights = [f for f in q.flights if not f.raced]
            q.last_avail = u16(q.last_avail - len(raced))

    def _drain_irqs_due(self) -> None:
        """SUS-21: once nothing is in flight, one forced notification per marked queue."""
        for qi, q in enumerate(self.queues):
            if q.marked:
                q.marked = False
                self._owe_used_irq(qi)

    def _complete_drain(self) -> None:
        self._discard_raced_heads()
        self.settle_isr()  # the ISR bits of the drain's notifications are set before the flip (rule 8.4)
        self._set_quiesce(False)
        self.presented = suspended_encoding(self.presented, self.mode)
        self.state = St.SUSPENDED
        self.suspend_latched = False
        for q in self.queues:
            q.avail_state_floor = q.used_state_floor = None  # SUS-19: stable in SUSPENDED
        self._perform_latched_queue_resets()

    def _complete_resume(self) -> None:
        to = self.resume_to
        self.presented = resumed_encoding(self.presented, to)
        self.resume_to = None
        if to == St.INIT:
            self.state = St.INIT
            if self._apply_cfg_pending():
                self.cfg_dirty = True
            self._perform_latched_queue_resets()
            return
        self.state = St.RUNNING
        if self._apply_cfg_pending():
            self.cfg_dirty = True
            self._owe_config_irq()
        self._perform_latched_queue_resets()
        for q in self.queues:
            if q.enabled:
                q.first_write = True
                self._start_service(q)

    # ------------------------------------------------------------------ HALTED (SUS-15, SUS-12)
    def _raise_needs_reset(self) -> None:
        if self.state not in ACTIVE_STATES:
            return  # SUS-15: ignored in HALTED and RESET_PENDING
        self.presented |= c.S_NEEDS_RESET
        self._enter_halted(needs_reset=True)

    def _enter_halted(self, needs_reset: bool) -> None:
        was_draining = self.state == St.SUSPENDING
        # Rule 8.12 set 8: a used-buffer notification decided but not delivered may be delivered or dropped.
        used = [v for v in self.owed_irqs if v not in self.owed_config]
        self.optional_irqs += used
        self.owed_irqs = [v for v in self.owed_irqs if v in self.owed_config]
        self._ghost = self._retiring_ghost()
        self.state = St.HALTED
        self.resume_to = None
        self._set_quiesce(False)
        self._abandon_all()
        self.flush_owed += 1
        config_due = needs_reset and bool(self.presented & c.S_DRIVER_OK)
        if needs_reset and was_draining:
            # SUS-12: once the outstanding transactions have retired (a moment the RTL chooses), one forced
            # notification per marked queue, then the NEEDS_RESET configuration notification; each is routed by
            # msix_enable as it is at that moment (SPEC 5.1).
            # A queue whose latched reset is performed at this entry notifies nothing afterwards (SPEC 4.8).
            self.aborted_drain_due = ([qi for qi, q in enumerate(self.queues) if q.marked and not q.reset_latched],
                                      config_due)
        elif config_due:
            self._owe_config_irq()
        self._perform_latched_queue_resets()
        for q in self.queues:
            q.marked = False
        self.suspend_latched = False

    def complete_aborted_drain(self) -> None:
        """The aborted drain's transactions have retired: its notifications are decided now (SUS-12)."""
        marked, config_due = self.aborted_drain_due
        self.aborted_drain_due = None
        owed_before = self.owed_isr
        for qi in marked:
            self._owe_used_irq(qi)
        if config_due:
            self._owe_config_irq()
        # A bit a read saw while the drain was due may be this notification, merged into a bit already set (SPEC 5.1)
        merged = self.owed_isr & ~owed_before & self.aborted_drain_isr_seen
        self.owed_isr &= ~merged
        self.optional_isr |= merged
        self.aborted_drain_isr_seen = 0

    def _retiring_ghost(self) -> "DeviceCore":
        """A copy of the core as it was, against which transactions issued before a reset or HALTED retire."""
        ghost = copy.copy(self)
        ghost.__dict__ = self._snapshot()
        ghost._ghost = None
        ghost.trace_sink = None
        return ghost

    def _abandon_all(self) -> None:
        for qi in range(len(self.queues)):
            self._abandon_queue(qi)

    def _abandon_queue(self, qi: int) -> None:
        """In-flight chains are dropped with no used writes; their backend tags become void (rule 8.11)."""
        q = self.queues[qi]
        for tag, flight in list(self.live_tags.items()):
            if flight.queue == qi:
                del self.live_tags[tag]
                self.void_tags.add(tag)
        q.flights = []
        q.done_order = []
        q.elems_unpublished = 0
        q.decision = None
        q.fetch_due = q.event_due = False
        q.known_avail = None

    # ------------------------------------------------------------------ queue reset (SPEC 4.8, SUS-17)
    def _queue_reset(self, qi: int) -> None:
        q = self.queues[qi]
        if self.state in (St.RUNNING, St.HALTED):
            self.queue_reset_transient[qi] = replace(q, reset_latched=True)  # reads as "reset running"
            self._ghost = self._retiring_ghost()
        self._abandon_queue(qi)
        self.flush_owed += 1
        self.queues[qi] = Queue(size=self.params.QUEUE_SIZE_MAX, marked=q.marked)

    def _perform_latched_queue_resets(self) -> None:
        for qi, q in enumerate(self.queues):
            if q.reset_latched:
                self._queue_reset(qi)

    # ------------------------------------------------------------------ kicks and service (rule 8.7)
    def _kick(self, qi: int) -> None:
        if not 0 <= qi < self.params.NUM_QUEUES or self.state in (St.HALTED, St.RESET_PENDING):
            return
        q = self.queues[qi]
        if not q.enabled:
            return
        q.kick_pending = True
        if self._fetch_allowed():
            q.fetch_due = True

    def _start_service(self, q: Queue) -> None:
        """An entry into RUNNING for this queue: avail_event first with EVENT_IDX (rule 8.2), then a scan."""
        q.fetch_due = True
        q.event_due = self.event_idx
        q.known_avail = None

    # ------------------------------------------------------------------ device-side inputs
    def _on_DevCfgWrite(self, event: ev.DevCfgWrite) -> None:
        word = event.addr & ~3
        if word >= self.params.DEV_CFG_SIZE:
            return
        if self.state in (St.SUSPENDED, St.RESUMING, St.HALTED, St.RESET_PENDING):
            self.cfg_pending[word] = event.data  # SUS-08, rule 8.10: latched, latest values win
            return
        self.devcfg[word:word + 4] = event.data.to_bytes(4, "little")
        self.cfg_dirty = True
        if self.state in (St.RUNNING, St.SUSPENDING):
            self._owe_config_irq()

    def _apply_cfg_pending(self) -> bool:
        for word, data in self.cfg_pending.items():
            self.devcfg[word:word + 4] = data.to_bytes(4, "little")
        applied = bool(self.cfg_pending)
        self.cfg_pending = {}
        return applied

    def _on_MemWrite(self, event: ev.MemWrite) -> None:
        self.mem.write(event.addr, event.data)

    def _on_FaultInj(self, event: ev.FaultInj) -> None:
        self._raise_needs_reset()

    def _on_MsixEnable(self, event: ev.MsixEnable) -> None:
        self.msix_enable = bool(event.value)

    # ------------------------------------------------------------------ interrupts (SPEC 5.1, rule 8.3)
    def _owe_used_irq(self, qi: int) -> None:
        if self.msix_enable:
            vector = self.queues[qi].msix_vector
            if vector != c.NO_VECTOR:
                self.owed_irqs.append(vector)
        else:
            self.owed_isr |= c.ISR_QUEUE

    def _owe_config_irq(self) -> None:
        self.owed_isr |= c.ISR_CONFIG
        if self.msix_enable and self.config_msix_vector != c.NO_VECTOR:
            self.owed_irqs.append(self.config_msix_vector)
            self.owed_config.append(self.config_msix_vector)

    def _on_Irq(self, event: ev.Irq) -> None:
        vector = event.vector
        if vector in self.owed_irqs:
            self.owed_irqs.remove(vector)
            if vector in self.owed_config:
                self.owed_config.remove(vector)
        elif self.owed_config and vector == self.config_msix_vector:
            # SPEC 5.1 leaves open when the vector is read: at the decision or when the message is offered.
            self.owed_irqs.remove(self.owed_config.pop(0))
        elif vector in self.optional_irqs:
            self.optional_irqs.remove(vector)
        else:
            raise Mismatch(event, f"messages owed: {self.owed_irqs or 'none'}"
                                  f"{f', or maybe {self.optional_irqs}' if self.optional_irqs else ''}",
                           self._describe())

    def settle_isr(self) -> None:
        """Owed ISR bits become set (the standalone face delivers at once)."""
        if self.owed_isr & c.ISR_QUEUE:
            self.isr.set_queue()
        if self.owed_isr & c.ISR_CONFIG:
            self.isr.set_config()
        self.owed_isr = 0

    @property
    def intx(self) -> bool:
        return self.isr.intx(self.msix_enable)

    def _on_Intx(self, event: ev.Intx) -> None:
        possible = (self.isr.value | self.owed_isr | self.optional_isr) != 0 and not self.msix_enable
        if event.level and not possible:
            raise Mismatch(event, "INTx low: ISR is 0 or MSI-X is enabled", self._describe())
        if event.level:
            if not self.isr.value | self.owed_isr:  # only an optional bit explains the rise: it was set
                self.owed_isr, self.optional_isr = self.optional_isr, 0
            self.settle_isr()
        elif self.intx:
            raise Mismatch(event, f"INTx high: ISR={self.isr.value:#x} with MSI-X disabled", self._describe())

    def _on_Diag(self, event: ev.Diag) -> None:
        if not self.diag.get(event.name):
            raise Mismatch(event, f"diagnostics raised so far: {[k for k, v in self.diag.items() if v]}",
                           self._describe())
        self.diag_seen.add(event.name)

    # ------------------------------------------------------------------ backend (rule 8.11)
    def _on_BeFlush(self, event: ev.BeFlush) -> None:
        if self.flush_owed:
            self.flush_owed -= 1
            return
        raise Mismatch(event, "be_flush only at a reset, HALTED entry or queue reset", self._describe())

    def _on_Quiesce(self, event: ev.Quiesce) -> None:
        if event.level == self.quiesce:
            return
        if not event.level and self.state == St.SUSPENDING:
            raise Mismatch(event, "be_quiesce stays high until the drain has ended", self._describe())
        raise Mismatch(event, f"be_quiesce {'high' if self.quiesce else 'low'} in {self.state.name}",
                       self._describe())

    def _on_BeRequest(self, event: ev.BeRequest) -> None:
        if not 0 <= event.queue < len(self.queues):
            raise Mismatch(event, f"queues 0..{len(self.queues) - 1}", self._describe())
        retiring = self.state in (St.HALTED, St.RESET_PENDING) and self._ghost is not None
        # A request accepted before a reset or HALTED entry whose be_rd packet ended after it is judged against the
        # chains of that moment; the engine pads an abandoned gather, so its bytes are not compared (rule 8.11).
        owner = self._ghost if retiring else self
        q = owner.queues[event.queue]
        pending = [f for f in q.flights if not f.requested and not f.raced]
        nxt = pending[0] if pending else None
        if not (retiring or self._dma_allowed()) or nxt is None or not nxt.walked:
            raise Mismatch(event, "a request for the oldest walked, unrequested chain of the queue",
                           self._describe())
        chain = nxt.chain
        expected = (nxt.head, chain.rd_len, chain.wr_len)
        if (event.head, event.rd_len, event.wr_len) != expected:
            raise Mismatch(event, f"head/rd_len/wr_len {expected}", self._describe())
        if event.tag in self.live_tags or event.tag in self.void_tags:
            raise Mismatch(event, "a tag not owed an answer", self._describe())
        if retiring:
            nxt.requested = True
            self.void_tags.add(event.tag)  # issued before the flush: void, answered and dropped (rule 8.11)
            return
        readable = b"".join(self.mem.read(b.addr, b.len) for b in chain.readable if b.len)
        if event.data != readable:
            raise Mismatch(event, f"be_rd packet of the {len(readable)} readable bytes in chain order",
                           self._describe())
        nxt.tag = event.tag
        nxt.requested = True
        self.live_tags[event.tag] = nxt

    def _on_BeCompletion(self, event: ev.BeCompletion) -> None:
        if event.tag in self.void_tags:
            self.void_tags.discard(event.tag)  # dropped: no memory write, no used element (rule 8.11)
            if self._ghost is not None and event.tag in self._ghost.live_tags:
                # Accepted before the reset or HALTED entry, its data packet ending after it: the scatter writes
                # the engine issued meanwhile retire (SUS-13, SPEC 4.7).  No new write may start after the entry;
                # the testbench's bus monitor guards that, the event order cannot show it.
                self._ghost._on_BeCompletion(event)
            return
        flight = self.live_tags.pop(event.tag, None)
        if flight is None:
            self.diag["cpl_bad_tag"] = True
            return
        if event.err:
            self._raise_needs_reset()
            return
        capacity = flight.chain.wr_len
        n = min(event.length, len(event.data), capacity)
        if n != event.length or len(event.data) != event.length:
            self.diag["cpl_len_err"] = True
        flight.completion = event.data[:n]
        offset = 0
        for buf in flight.chain.writable:
            take = min(buf.len, n - offset)
            for i in range(take):
                flight.scatter_left[buf.addr + i] = flight.completion[offset + i]
            offset += take
        flight.written = n
        self.queues[flight.queue].done_order.append(flight)

    # ------------------------------------------------------------------ guest-memory reads
    def _dma_allowed(self) -> bool:
        """The engine touches guest memory only while RUNNING or draining (SUS-07, SUS-13, SUS-15)."""
        return self.state in (St.RUNNING, St.SUSPENDING)

    def _fetch_allowed(self) -> bool:
        """New avail.idx reads and fetch bursts only in RUNNING (SUS-05 (a), rule 8.1)."""
        return self.state == St.RUNNING

    def _halt_evidence_allowed(self) -> bool:
        """A fault the core already knows of (a malformed chain being walked, an expiring watchdog) may have
        reached the RTL's HALTED entry before the model saw its last read."""
        if self.state == St.SUSPENDING and self.params.SUSPEND_DRAIN_TIMEOUT:
            return True
        return any(f.fault is not None for q in self.queues for f in q.flights)

    def _on_DmaRead(self, event: ev.DmaRead) -> None:
        self._dma(event, "_classify_read")

    def _on_DmaWrite(self, event: ev.DmaWrite) -> None:
        self._dma(event, "_classify_write")

    def _dma(self, event, classify: str) -> None:
        """Classify a transaction; an error response on any of them is a DMA error (rule 8.9)."""
        failed = event.resp != ev.OKAY
        try:
            getattr(self, classify)(event, failed)
        except Mismatch:
            if not self._retire(event, classify):
                raise
        if failed:
            self._raise_needs_reset()  # ignored in HALTED and RESET_PENDING (SUS-15)

    def _retire(self, event, classify: str) -> bool:
        """A transaction issued before a reset, a queue reset or HALTED entry may still complete (SUS-13, 4.8)."""
        if self._ghost is None:
            return False
        try:
            getattr(self._ghost, classify)(event, False)
        except Mismatch:
            return False
        return True

    def _classify_read(self, event: ev.DmaRead, check_only: bool) -> None:
        if not self._dma_allowed():
            raise Mismatch(event, f"no guest-memory access in {self.state.name}", self._describe())
        for qi, q in enumerate(self.queues):
            if not q.enabled:
                continue
            lay = q.layout()
            if event.addr == lay.avail_idx_addr and event.length == 2:
                return self._avail_idx_read(event, qi, q, check_only)
            if lay.avail_ring_addr(0) <= event.addr < lay.avail_ring_addr(0) + 2 * q.size:
                return self._ring_read(event, qi, q, check_only)
            if event.addr in (lay.avail_flags_addr, lay.used_event_addr) and event.length == 2:
                return self._decision_read(event, qi, q, check_only)
        for q in self.queues:
            for f in q.flights:
                if self._desc_read(event, f, check_only):
                    return
        if self._gather_read(event):
            return
        raise Mismatch(event, self._allowed_reads_text(), self._describe())

    def _allowed_reads_text(self) -> str:
        return "avail.idx / avail.ring / decision reads of serviced queues, descriptor reads of chains being " \
               "walked, gather reads inside readable buffers of walked chains"

    def _avail_idx_read(self, event, qi: int, q: Queue, check_only: bool) -> None:
        if self.state == St.SUSPENDING and q.idx_read_may_retire:
            # Rule 8.12 set 1: a read issued before the fetch stop returned after it; its value is ignored.
            if not check_only:
                q.idx_read_may_retire = False
            return
        if not self._fetch_allowed() or q.event_due:
            why = "avail_event must be written first (rule 8.2)" if q.event_due else "no fetch after the stop"
            raise Mismatch(event, why, self._describe())
        if check_only:
            return
        value = int.from_bytes(event.data, "little")
        q.kick_pending = False
        q.fetch_due = False
        if pending_heads(value, q.last_avail) > q.size:
            self._raise_needs_reset()  # SPEC 4.7: pending heads > Q
            return
        q.known_avail = value

    def _heads_known(self, q: Queue) -> int:
        return 0 if q.known_avail is None else pending_heads(q.known_avail, q.last_avail)

    def _ring_read(self, event, qi: int, q: Queue, check_only: bool) -> None:
        lay = q.layout()
        entries = event.length // 2
        first_slot = (event.addr - lay.avail_ring_addr(0)) // 2
        ok = (self.state in (St.RUNNING, St.SUSPENDING) and event.addr % 2 == 0 and event.length % 2 == 0 and entries >= 1
              and first_slot == q.last_avail % q.size and entries <= self._heads_known(q)
              and len(q.flights) + entries <= self.params.FETCH_AHEAD)
        if not ok:
            raise Mismatch(event, f"avail.ring read from slot {q.last_avail % q.size}, at most "
                                  f"{min(self._heads_known(q), self.params.FETCH_AHEAD - len(q.flights))} entries "
                                  f"(FETCH_AHEAD, rule 8.1); after the stop only reads issued before it",
                           self._describe())
        if check_only:
            return
        for i in range(entries):
            head = int.from_bytes(event.data[2 * i:2 * i + 2], "little")
            if not self._take_head(qi, q, head):
                return

    def _take_head(self, qi: int, q: Queue, head: int) -> bool:
        """Rule 8.1: the head is taken and its chain is in flight (SUS-06).  A head read at the fetch stop is a
        race head: it counts as taken once its walk is seen, and is discarded at the drain's end otherwise."""
        raced = self.state == St.SUSPENDING
        if q.avail_state_floor is None:
            q.avail_state_floor = q.last_avail
        q.last_avail = u16(q.last_avail + 1)
        if head >= q.size:
            if raced:  # checked only if the RTL takes it (rule 8.1)
                q.flights.append(Flight(qi, head, None, MalformedChain(MalformedClass.HEAD_GE_Q, f"head {head}"),
                                        [], raced=True))
                return True
            self._raise_needs_reset()  # SPEC 4.7: head >= Q
            return False
        view = _RecordingView(self.mem)
        chain, fault = None, None
        try:
            chain = walk_chain(view, q.desc, q.size, head, indirect_ok=self.negotiated_bit(c.F_INDIRECT_DESC),
                               max_chain_len=self.params.MAX_CHAIN_LEN)
        except MalformedChain as error:
            fault = error
        except DmaError as error:  # the table address itself overflows
            fault = MalformedChain(MalformedClass.ADDR_OVERFLOW, str(error))
        q.flights.append(Flight(qi, head, chain, fault, list(view.reads), raced=raced))
        q.event_due = self.event_idx and not raced
        if fault is not None and not view.reads and not raced:
            self._raise_needs_reset()
            return False
        return True

    def _desc_read(self, event, flight: Flight, check_only: bool) -> bool:
        """A descriptor or indirect-table read of a chain being walked (any grouping of its 16-byte reads)."""
        covered = [r for r in flight.desc_pending if event.addr <= r[0] and r[0] + r[1] <= event.addr + event.length]
        if not covered:
            return False
        if check_only:
            return True
        flight.raced = False
        for read in dict.fromkeys(covered):  # a looping walk reads an entry again: one read covers it once
            flight.desc_pending.remove(read)
        if not flight.desc_pending and flight.fault is not None:
            self._raise_needs_reset()
        return True

    def _gather_read(self, event) -> bool:
        """A read inside (the bus words around) a readable buffer of a walked chain whose request is pending."""
        lo = event.addr
        hi = event.addr + event.length
        for q in self.queues:
            for f in q.flights:
                if not f.walked or f.requested and f.completion is not None:
                    continue
                for buf in f.chain.readable:
                    if not buf.len:
                        continue
                    start = buf.addr - buf.addr % self.bus_bytes
                    end = buf.addr + buf.len
                    end += -end % self.bus_bytes
                    if start <= lo and hi <= end and lo < buf.addr + buf.len and buf.addr < hi:
                        return True
        return False

    def _decision_read(self, event, qi: int, q: Queue, check_only: bool) -> None:
        if self.state == St.SUSPENDING and q.decision_read_may_retire:
            if not check_only:
                q.decision_read_may_retire = False  # its decision was dropped at the latch (SUS-21)
            return
        if self.state != St.RUNNING:
            raise Mismatch(event, "avail.flags / used_event are read only in RUNNING (SUS-21)", self._describe())
        if check_only or q.decision is None:
            return
        old, new = q.decision
        q.decision = None
        value = int.from_bytes(event.data, "little")
        lay = q.layout()
        if self.event_idx:
            if event.addr != lay.used_event_addr:
                raise Mismatch(event, "used_event is the decision read with EVENT_IDX", self._describe())
            notify = vring_need_event(value, new, old)
        else:
            if event.addr != lay.avail_flags_addr:
                raise Mismatch(event, "avail.flags is the decision read without EVENT_IDX", self._describe())
            notify = not value & c.VIRTQ_AVAIL_F_NO_INTERRUPT
        if notify:
            self._owe_used_irq(qi)

    # ------------------------------------------------------------------ guest-memory writes
    def _classify_write(self, event: ev.DmaWrite, check_only: bool) -> None:
        if not self._dma_allowed():
            raise Mismatch(event, f"no guest-memory write in {self.state.name}", self._describe())
        for qi, q in enumerate(self.queues):
            if not q.enabled:
                continue
            lay = q.layout()
            if event.addr == lay.avail_event_addr and len(event.data) == 2:
                return self._avail_event_write(event, q, check_only)
            if event.addr == lay.used_idx_addr and len(event.data) == 2:
                return self._used_idx_write(event, qi, q, check_only)
            if lay.used_elem_addr(0) <= event.addr < lay.used_elem_addr(0) + 8 * q.size:
                return self._used_elem_write(event, q, check_only)
        if self._scatter_write(event, check_only):
            return
        raise Mismatch(event, "writes only to device-writable buffers of completed chains, used elements, "
                              "used.idx and avail_event", self._describe())

    def _avail_event_write(self, event, q: Queue, check_only: bool) -> None:
        if self.state == St.SUSPENDING and q.event_write_may_retire:
            if not check_only:
                q.event_write_may_retire = False  # issued before the latch (rule 8.12 set 1)
            return
        value = int.from_bytes(event.data, "little")
        if self.state != St.RUNNING or not self.event_idx or not q.event_due or value != q.last_avail:
            raise Mismatch(event, f"avail_event = last_avail_idx {q.last_avail:#x} after a burst that took a head "
                                  f"or at an entry into RUNNING, with EVENT_IDX, only in RUNNING (rule 8.2)",
                           self._describe())
        if check_only:
            return
        q.event_due = False
        q.fetch_due = True  # the re-read of avail.idx starts a new burst (rule 8.2)
        q.known_avail = None

    def _scatter_write(self, event, check_only: bool) -> bool:
        for q in self.queues:
            for f in q.done_order:
                expected = [f.scatter_left.get(event.addr + i) for i in range(len(event.data))]
                if None in expected:
                    continue
                if bytes(expected) != event.data:
                    raise Mismatch(event, f"scatter bytes {bytes(expected).hex()} (the be_wr packet in chain order)",
                                   self._describe())
                if not check_only:
                    for i in range(len(event.data)):
                        del f.scatter_left[event.addr + i]
                return True
        return False

    def _used_elem_write(self, event, q: Queue, check_only: bool) -> None:
        """The next completion's used element, in one write or in parts: an element of a 4-byte aligned ring may
        straddle a 4 KiB boundary, which no AXI burst crosses (rule 8.11)."""
        lay = q.layout()
        slot_addr = lay.used_elem_addr(q.shadow_used + q.elems_unpublished)
        nxt = q.done_order[0] if q.done_order else None
        offsets = set(range(event.addr - slot_addr, event.addr - slot_addr + len(event.data)))
        if nxt is None or nxt.scatter_left or not event.data or not offsets <= nxt.elem_left:
            raise Mismatch(event, f"the used element at {slot_addr:#x} of the next completion in acceptance order "
                                  "(bytes not yet written), after its scatter is visible (SPEC 4.5, rule 8.11)",
                           self._describe())
        expected = nxt.head.to_bytes(4, "little") + nxt.written.to_bytes(4, "little")
        start = event.addr - slot_addr
        if event.data != expected[start:start + len(event.data)]:
            raise Mismatch(event, f"used element id={nxt.head} len={nxt.written}", self._describe())
        if check_only:
            return
        nxt.elem_left -= offsets
        if nxt.elem_left:
            return
        q.done_order.pop(0)
        nxt.elem_written = True
        q.elems_unpublished += 1

    def _used_idx_write(self, event, qi: int, q: Queue, check_only: bool) -> None:
        new = int.from_bytes(event.data, "little")
        step = u16(new - q.shadow_used)
        limit = min(self.params.USED_BATCH, q.elems_unpublished)
        if not 1 <= step <= limit:
            raise Mismatch(event, f"used.idx = {q.shadow_used:#x} + 1..{limit} (written elements, USED_BATCH)",
                           self._describe())
        if check_only:
            return
        old = q.shadow_used
        q.shadow_used = new
        if q.used_state_floor is None:
            q.used_state_floor = old
        q.elems_unpublished -= step
        published = [f for f in q.flights if f.elem_written][:step]
        q.flights = [f for f in q.flights if f not in published]
        if self.suspend_latched:
            q.marked = True  # SUS-21
            self._maybe_drain_irqs()
        elif self.state == St.RUNNING:
            if self.event_idx and q.first_write:
                q.first_write = False
                self._owe_used_irq(qi)  # Q16: the first write after enable or resume notifies
            else:
                q.first_write = False
                q.decision = (old, new)

    def _maybe_drain_irqs(self) -> None:
        if self.state == St.SUSPENDING and self._drain_empty():
            self._drain_irqs_due()

    # ------------------------------------------------------------------ the standalone face's menu
    def engine_actions(self) -> list:
        """Every engine-initiated transaction the spec allows now, with its address and data."""
        acts = []
        if self.state == St.SUSPENDING and self._drain_empty() and not self.owed_irqs:
            acts.append(Action("drain_done"))
        if self.state == St.RESUMING:
            acts.append(Action("resume_done"))
        if not self._dma_allowed():
            return acts
        running = self._fetch_allowed()
        for qi, q in enumerate(self.queues):
            if not q.enabled:
                continue
            lay = q.layout()
            if running and q.event_due:
                acts.append(Action("avail_event", qi, lay.avail_event_addr, 2, q.last_avail.to_bytes(2, "little")))
            elif running and q.fetch_due:
                acts.append(Action("avail_idx", qi, lay.avail_idx_addr, 2))
            if running and self._heads_known(q) and len(q.flights) < self.params.FETCH_AHEAD:
                acts.append(Action("ring", qi, lay.avail_ring_addr(q.last_avail), 2))
            if running and q.decision is not None:
                addr = lay.used_event_addr if self.event_idx else lay.avail_flags_addr
                acts.append(Action("decision", qi, addr, 2))
            walking = [f for f in q.flights if f.desc_pending]
            if walking:
                addr, length = walking[0].desc_pending[0]
                acts.append(Action("desc", qi, addr, length, flight=walking[0]))
            unrequested = [f for f in q.flights if not f.requested]
            if unrequested and unrequested[0].walked:
                f = unrequested[0]
                readable = [b for b in f.chain.readable if b.len]
                if f.gathered < len(readable):
                    buf = readable[f.gathered]
                    acts.append(Action("gather", qi, buf.addr, buf.len, flight=f))
                else:
                    acts.append(Action("request", qi, flight=f))
            for f in q.done_order:
                if f.scatter_left:
                    start = min(f.scatter_left)
                    run = 0
                    while start + run in f.scatter_left:
                        run += 1
                    data = bytes(f.scatter_left[start + i] for i in range(run))
                    acts.append(Action("scatter", qi, start, run, data, flight=f))
                    break
            if q.done_order and not q.done_order[0].scatter_left:
                f = q.done_order[0]
                acts.append(Action("used_elem", qi, lay.used_elem_addr(q.shadow_used + q.elems_unpublished), 8,
                                   f.head.to_bytes(4, "little") + f.written.to_bytes(4, "little"), flight=f))
            if q.elems_unpublished:
                step = min(self.params.USED_BATCH, q.elems_unpublished)
                acts.append(Action("used_idx", qi, lay.used_idx_addr, 2,
                                   u16(q.shadow_used + step).to_bytes(2, "little")))
        return acts

    def complete(self, action: Action) -> None:
        """Perform an internal transition the standalone face chose (drain or resume end)."""
        if action.kind == "drain_done":
            self._complete_drain()
        elif action.kind == "resume_done":
            self._complete_resume()

    # ------------------------------------------------------------------ read-only views for drivers and tests
    def in_flight(self, qi: Optional[int] = None) -> int:
        queues = self.queues if qi is None else [self.queues[qi]]
        return sum(len([f for f in q.flights if not f.raced]) for q in queues)

    def owed(self) -> bool:
        """Whether a notification or flush is still owed (checked at the end of a co-simulation).  With MSI-X
        enabled an owed ISR bit is visible only to reads, so it is not counted."""
        unseen_isr = self.owed_isr & ~self.isr.value  # a bit already set cannot be seen to be set again
        return bool(self.owed_irqs or self.flush_owed or unseen_isr and not self.msix_enable)
