"""Test helpers for the rule-by-rule model tests: bring a standalone model Device to each engine state and post
descriptor chains into its rings.

Everything here is a small driver written from SPEC.md for the tests' own use (it does not use the reference driver
in models/virtio_golden/driver.py).  Queues live at fixed guest addresses (QUEUE_BASES) so tests can name ring
fields directly; data buffers come from a bump allocator above DATA_BASE.

States (rule 8.4): `Rig.init(...)`, `Rig.running(...)`, `Rig.suspending(...)`, `Rig.suspended(...)`,
`Rig.resuming(...)`, `Rig.halted(...)`; every constructor takes `mode` ("V14" or "RFC").
"""

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.device import Device
from virtio_golden.memory import MemAllocator
from virtio_golden.params import Params
from virtio_golden.regmap import COMMON_FIELDS, FIELD_BY_NAME
from virtio_golden.ring import Descriptor, RingLayout, u16

MODES = ("V14", "RFC")
Q = 32  # queue size the helpers program (a power of two below the default QUEUE_SIZE_MAX)

# Fixed guest addresses per queue: descriptor table, driver (avail) area, device (used) area.
QUEUE_BASES = {q: (0x10000 + 0x10000 * q, 0x18000 + 0x10000 * q, 0x1C000 + 0x10000 * q) for q in range(8)}
DATA_BASE = 0x100000
DATA_LIMIT = 0x10000000

NEXT, WRITE, INDIRECT = c.VIRTQ_DESC_F_NEXT, c.VIRTQ_DESC_F_WRITE, c.VIRTQ_DESC_F_INDIRECT

# Device status values (SPEC 2.1).
ACK, DRIVER, DRIVER_OK, FEATURES_OK = c.S_ACKNOWLEDGE, c.S_DRIVER, c.S_DRIVER_OK, c.S_FEATURES_OK
SUSPEND, NEEDS_RESET, FAILED = c.S_SUSPEND, c.S_NEEDS_RESET, c.S_FAILED


def sid(value):
    """pytest ids: engine states by name (other values keep pytest's own id)."""
    return value.name if isinstance(value, St) else None


def mode_of(mode) -> SuspendMode:
    return mode if isinstance(mode, SuspendMode) else SuspendMode[mode]


def feature_set(event_idx: bool = True, indirect: bool = True, ring_reset: bool = True, suspend: bool = True,
                suspend_bit: int = c.DEFAULT_F_SUSPEND_BIT, extra: Sequence[int] = ()) -> int:
    """A driver-accepted feature word built from SPEC 3.2 bit numbers (VERSION_1 always)."""
    bits = [c.F_VERSION_1, *extra]
    if event_idx:
        bits.append(c.F_EVENT_IDX)
    if indirect:
        bits.append(c.F_INDIRECT_DESC)
    if ring_reset:
        bits.append(c.F_RING_RESET)
    if suspend:
        bits.append(suspend_bit)
    return c.feature_mask(*bits)


@dataclass
class Posted:
    """One chain the helper made available: its head and the (addr, len, writable) of each data buffer."""

    queue: int
    head: int
    buffers: list
    avail_idx: int  # the avail index the head was published at

    @property
    def readable(self):
        return [(a, n) for a, n, w in self.buffers if not w]

    @property
    def writable(self):
        return [(a, n) for a, n, w in self.buffers if w]


@dataclass
class MemLog:
    """Every device DMA on guest memory, as (kind, addr, data), via a GuestMem listener."""

    events: list = field(default_factory=list)

    def __call__(self, kind: str, addr: int, data: bytes) -> None:
        self.events.append((kind, addr, bytes(data)))

    def clear(self) -> None:
        self.events.clear()

    def writes(self):
        return [(a, d) for k, a, d in self.events if k == "write"]

    def reads(self):
        return [(a, d) for k, a, d in self.events if k == "read"]

    def touching(self, lo: int, hi: int):
        """Events whose byte range meets [lo, hi)."""
        return [(k, a, d) for k, a, d in self.events if a < hi and lo < a + max(len(d), 1)]


class GatedBackend(BackendModel):
    """The model backend, except that requests of the queues in `hold` are not answered until released
    (a backend that ignores be_quiesce, SUS-22; tests use it to keep a drain open on chosen queues)."""

    def __init__(self, hold=(), **kw):
        super().__init__(**kw)
        self.hold = set(hold)

    def ready(self) -> list:
        return [p for p in super().ready() if p.request.queue not in self.hold]


class Rig:
    """A model Device plus a tiny hand-written driver that knows where every ring lives."""

    def __init__(self, mode="V14", params: Optional[Params] = None, backend: Optional[BackendModel] = None,
                 seed: int = 0, record: bool = False, **param_changes):
        base = params or Params()
        self.params = base.with_(SUSPEND_MODE=int(mode_of(mode)), **param_changes)
        self.mode = mode_of(mode)
        self.dev = Device(self.params, backend=backend, seed=seed, record=record)
        self.mem = self.dev.mem
        self.alloc = MemAllocator(DATA_BASE, DATA_LIMIT)
        self.layouts: dict = {}
        self.avail_idx: dict = {}
        self.next_desc: dict = {}
        self.features = 0
        self.log = MemLog()
        self.mem.listeners.append(self.log)

    # -- register access ---------------------------------------------------------------------------------------------
    def read(self, addr: int, size: int = 4) -> int:
        return self.dev.reg_read(addr, size)

    def write(self, addr: int, value: int, size: int = 4) -> None:
        self.dev.reg_write(addr, value, size)

    @property
    def status(self) -> int:
        """device_status read back through the register face (rule 8.4 P)."""
        return self.read(c.CC_DEVICE_STATUS, 1)

    def write_status(self, w: int) -> None:
        self.write(c.CC_DEVICE_STATUS, w, 1)

    @property
    def state(self) -> St:
        return self.dev.state

    def select(self, q: int) -> None:
        self.write(c.CC_QUEUE_SELECT, q, 2)

    def read_isr(self) -> int:
        return self.read(c.BAR_ISR, 1)

    def kick(self, q: int) -> None:
        self.write(c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * q, q, 2)

    def flushes(self) -> int:
        """be_flush pulses so far (needs record=True)."""
        return sum(isinstance(e, ev.BeFlush) for e in self.dev.trace)

    def common(self) -> dict:
        """Every common-configuration field, read with its own width (SPEC 5.1), for the selected queue."""
        return {f.name: self.read(f.offset, f.width) if f.width < 4 else self.read(f.offset)
                for f in COMMON_FIELDS if f.offset < c.COMMON_CFG_LEN_VQ_STATE}

    def queue_fields(self, q: int) -> dict:
        self.select(q)
        return {k: v for k, v in self.common().items() if FIELD_BY_NAME[k].per_queue}

    def vq_state(self, q: int) -> tuple:
        self.select(q)
        return self.read(c.CC_QUEUE_AVAIL_STATE, 2), self.read(c.CC_QUEUE_USED_STATE, 2)

    # -- initialization (SPEC 2.3) -----------------------------------------------------------------------------------
    def negotiate(self, features: Optional[int] = None, features_ok: bool = True) -> None:
        """Reset, ACK, DRIVER, write the accepted features (both windows), and FEATURES_OK when asked."""
        self.features = feature_set() if features is None else features
        self.write_status(0)
        self.write_status(ACK)
        self.write_status(ACK | DRIVER)
        for sel in (0, 1):
            self.write(c.CC_DRIVER_FEATURE_SELECT, sel)
            self.write(c.CC_DRIVER_FEATURE, self.features >> 32 * sel & 0xFFFF_FFFF)
        if features_ok:
            self.write_status(ACK | DRIVER | FEATURES_OK)

    def setup_queue(self, q: int, size: int = Q, vector: Optional[int] = None, enable: bool = True,
                    used_event: int = 0, avail_flags: int = 0) -> RingLayout:
        """Program queue q at its fixed addresses, zero its rings, and enable it (SPEC 2.3 step 7)."""
        desc, avail, used = QUEUE_BASES[q]
        lay = RingLayout(desc, avail, used, size)
        self.mem.write(desc, bytes(lay.desc_bytes))
        self.mem.write(avail, bytes(lay.avail_bytes))
        self.mem.write(used, bytes(lay.used_bytes))
        self.mem.write_u16(lay.avail_flags_addr, avail_flags)
        self.mem.write_u16(lay.used_event_addr, used_event)
        self.select(q)
        self.write(c.CC_QUEUE_SIZE, size, 2)
        for lo, addr in ((c.CC_QUEUE_DESC_LO, desc), (c.CC_QUEUE_DRIVER_LO, avail), (c.CC_QUEUE_DEVICE_LO, used)):
            self.write(lo, addr & 0xFFFF_FFFF)
            self.write(lo + 4, addr >> 32)
        if vector is not None:
            self.write(c.CC_QUEUE_MSIX_VECTOR, vector, 2)
        if enable:
            self.write(c.CC_QUEUE_ENABLE, 1, 2)
        self.layouts[q] = lay
        self.avail_idx[q] = 0
        self.next_desc[q] = 0
        return lay

    def driver_ok(self) -> None:
        self.write_status(ACK | DRIVER | FEATURES_OK | DRIVER_OK)

    # -- rings --------------------------------------------------------------------------------------------------------
    def put_desc(self, q: int, index: int, addr: int, length: int, flags: int = 0, nxt: int = 0) -> None:
        self.mem.write(self.layouts[q].desc_addr(index), Descriptor(addr, length, flags, nxt).pack())

    def put_table(self, table_addr: int, descs: Sequence[Descriptor]) -> None:
        for i, d in enumerate(descs):
            self.mem.write(table_addr + c.DESC_SIZE * i, d.pack())

    def publish(self, q: int, head: int) -> int:
        """avail.ring[avail_idx % Q] = head, then avail.idx += 1 (the driver's order).  Returns the slot index."""
        lay = self.layouts[q]
        idx = self.avail_idx[q]
        self.mem.write_u16(lay.avail_ring_addr(idx), head)
        self.set_avail_idx(q, idx + 1)
        return idx

    def set_avail_idx(self, q: int, value: int) -> None:
        self.avail_idx[q] = u16(value)
        self.mem.write_u16(self.layouts[q].avail_idx_addr, self.avail_idx[q])

    def buffer(self, length: int) -> int:
        """A fresh data buffer filled with an address-dependent pattern (never all zero)."""
        addr = self.alloc.alloc(max(length, 1), 16)
        if length:
            self.mem.write(addr, bytes(((addr >> 4) + i * 7) & 0xFF for i in range(length)))
        return addr

    def post(self, q: int, bufs: Sequence[tuple], kick: bool = False) -> Posted:
        """Post a direct chain of (len, writable) buffers at the next free descriptor indices and publish its head."""
        n = len(bufs)
        first = self.next_desc[q]
        size = self.layouts[q].size
        indices = [(first + i) % size for i in range(n)]
        self.next_desc[q] = (first + n) % size
        placed = []
        for i, (length, writable) in enumerate(bufs):
            addr = self.buffer(length)
            flags = (WRITE if writable else 0) | (NEXT if i + 1 < n else 0)
            self.put_desc(q, indices[i], addr, length, flags, indices[i + 1] if i + 1 < n else 0)
            placed.append((addr, length, bool(writable)))
        slot = self.publish(q, indices[0])
        if kick:
            self.kick(q)
        return Posted(q, indices[0], placed, slot)

    def post_indirect(self, q: int, bufs: Sequence[tuple], direct: Sequence[tuple] = (), table_addr: int = None,
                      pointer_flags: int = 0, kick: bool = False) -> Posted:
        """Post `direct` buffers followed by one INDIRECT descriptor whose table holds `bufs` (SPEC 4.4)."""
        table_addr = table_addr if table_addr is not None else self.alloc.alloc(c.DESC_SIZE * len(bufs), 16)
        placed, descs = [], []
        for i, (length, writable) in enumerate(direct):
            placed.append((self.buffer(length), length, bool(writable)))
        for i, (length, writable) in enumerate(bufs):
            addr = self.buffer(length)
            flags = (WRITE if writable else 0) | (NEXT if i + 1 < len(bufs) else 0)
            descs.append(Descriptor(addr, length, flags, i + 1 if i + 1 < len(bufs) else 0))
            placed.append((addr, length, bool(writable)))
        self.put_table(table_addr, descs)
        size = self.layouts[q].size
        first = self.next_desc[q]
        count = len(direct) + 1
        indices = [(first + i) % size for i in range(count)]
        self.next_desc[q] = (first + count) % size
        for i, (addr, length, writable) in enumerate(placed[:len(direct)]):
            self.put_desc(q, indices[i], addr, length, (WRITE if writable else 0) | NEXT, indices[i + 1])
        self.put_desc(q, indices[-1], table_addr, c.DESC_SIZE * len(bufs), INDIRECT | pointer_flags, 0)
        slot = self.publish(q, indices[0])
        if kick:
            self.kick(q)
        return Posted(q, indices[0], placed, slot)

    def used_idx(self, q: int) -> int:
        return self.mem.read_u16(self.layouts[q].used_idx_addr)

    def used_elem(self, q: int, idx: int) -> tuple:
        addr = self.layouts[q].used_elem_addr(idx)
        return self.mem.read_u32(addr), self.mem.read_u32(addr + 4)

    def used_elems(self, q: int) -> list:
        return [self.used_elem(q, i) for i in range(self.used_idx(q))]

    def avail_event(self, q: int) -> int:
        return self.mem.read_u16(self.layouts[q].avail_event_addr)

    # -- time ---------------------------------------------------------------------------------------------------------
    def step_until(self, pred: Callable[[], bool], max_steps: int = 5000) -> int:
        for n in range(max_steps):
            if pred():
                return n
            self.dev.step()
        if pred():
            return max_steps
        raise AssertionError(f"condition not reached within {max_steps} steps (state {self.state.name}, "
                             f"P={self.dev.presented:#04x})")

    def run(self, max_steps: int = 20000, patience: int = 64) -> int:
        """Step until nothing more can happen: no engine action and no backend answer for `patience` steps in a row
        (the default backend latency is at most 4 steps; a held or never-completing backend is not waited for)."""
        idle = 0
        for n in range(max_steps):
            idle = 0 if self.dev.step() else idle + 1
            if idle > patience or (idle and not self.dev.backend.pending):
                return n
        return max_steps

    def in_flight(self, q: Optional[int] = None) -> int:
        return self.dev.core.in_flight(q)

    def requests_issued(self) -> int:
        return len(self.dev.backend.pending)

    # -- state constructors (rule 8.4 states) --------------------------------------------------------------------------
    @classmethod
    def init(cls, mode="V14", features_ok: bool = True, features: Optional[int] = None, queues=(0, 1),
             **kw) -> "Rig":
        """INIT showing 0x03 (features_ok=False) or 0x0B, with the given queues programmed and enabled."""
        rig = cls(mode, **kw)
        rig.negotiate(features, features_ok=features_ok)
        if features_ok:
            for q in queues:
                rig.setup_queue(q)
        assert rig.state == St.INIT
        return rig

    @classmethod
    def running(cls, mode="V14", features: Optional[int] = None, queues=(0, 1), msix: bool = False,
                vectors: Optional[dict] = None, config_vector: Optional[int] = None, **kw) -> "Rig":
        """RUNNING (0x0F) with the given queues at QUEUE_BASES, after the DRIVER_OK scan has settled.

        msix=True enables MSI-X with queue q on vector q and the configuration on vector NUM_QUEUES (override with
        `vectors` / `config_vector`)."""
        rig = cls(mode, **kw)
        rig.negotiate(features)
        if msix:
            rig.dev.set_msix_enable(True)
            vectors = vectors if vectors is not None else {q: q for q in queues}
            config_vector = rig.params.NUM_QUEUES if config_vector is None else config_vector
            rig.write(c.CC_CONFIG_MSIX_VECTOR, config_vector, 2)
        for q in queues:
            rig.setup_queue(q, vector=None if vectors is None else vectors.get(q))
        rig.driver_ok()
        assert rig.state == St.RUNNING, rig.state
        rig.run()
        return rig

    @classmethod
    def suspending(cls, mode="V14", hold: str = "never", queues=(0, 1), chains_per_queue: int = 1,
                   **kw) -> "Rig":
        """SUSPENDING with `chains_per_queue` chains in flight per queue.

        hold="never": the backend never answers, so the drain cannot end (SUS-22); hold="gate": a GatedBackend holds
        every queue until the test releases it (`rig.dev.backend.hold.discard(q)`); hold="latency": the backend has a
        long latency and the test simply does not step (the compliant backend answers at once under be_quiesce)."""
        backend = {"never": lambda: BackendModel(never_complete=True),
                   "gate": lambda: GatedBackend(hold=queues),
                   "latency": lambda: BackendModel(latency=(10**6, 10**6))}[hold]()
        rig = cls.running(mode, queues=queues, backend=backend, **kw)
        for q in queues:
            for _ in range(chains_per_queue):
                rig.post(q, [(8, False), (16, True)])
            rig.kick(q)
        want = chains_per_queue * len(queues)
        rig.step_until(lambda: rig.requests_issued() == want)
        rig.write_status(ACK | DRIVER | FEATURES_OK | DRIVER_OK | SUSPEND)
        assert rig.state == St.SUSPENDING, rig.state
        return rig

    @classmethod
    def suspended(cls, mode="V14", queues=(0, 1), before_driver_ok: bool = False, **kw) -> "Rig":
        """SUSPENDED (V14 0x1B, RFC 0x1F); `before_driver_ok` (RFC only): 0x0B, W=0x1B -> 0x1B (SUS-03)."""
        if before_driver_ok:
            rig = cls.init(mode, queues=queues, **kw)
            rig.write_status(ACK | DRIVER | FEATURES_OK | SUSPEND)
        else:
            rig = cls.running(mode, queues=queues, **kw)
            rig.write_status(ACK | DRIVER | FEATURES_OK | DRIVER_OK | SUSPEND)
            rig.step_until(lambda: rig.state == St.SUSPENDED)
        assert rig.state == St.SUSPENDED, rig.state
        return rig

    @classmethod
    def resuming(cls, mode="V14", **kw) -> "Rig":
        """RESUMING: a resume write (S | DRIVER_OK) accepted; the caller must not step while it needs the state."""
        rig = cls.suspended(mode, **kw)
        rig.write_status(rig.status | DRIVER_OK)
        assert rig.state == St.RESUMING, rig.state
        return rig

    @classmethod
    def halted(cls, mode="V14", via: str = "failed", **kw) -> "Rig":
        """HALTED from RUNNING: via="failed" (W=0x8F, shows 0x8F) or via="fault" (fault_inj, shows 0x4F)."""
        rig = cls.running(mode, **kw)
        if via == "failed":
            rig.write_status(rig.status | FAILED)
        else:
            rig.dev.fault_inj()
        assert rig.state == St.HALTED, rig.state
        return rig

    @classmethod
    def in_state(cls, state: St, mode="V14", **kw) -> "Rig":
        """Any engine state of rule 8.4, by name (INIT with FEATURES_OK)."""
        return {
            St.INIT: cls.init,
            St.RUNNING: cls.running,
            St.SUSPENDING: cls.suspending,
            St.SUSPENDED: cls.suspended,
            St.RESUMING: cls.resuming,
            St.HALTED: cls.halted,
        }[state](mode, **kw)


def reset_values(params: Params) -> dict:
    """Rule 8.5 reset values of the global common-configuration fields (device_feature with select 0)."""
    return {
        "device_feature_select": 0,
        "device_feature": params.DEVICE_FEATURES & 0xFFFF_FFFF,
        "driver_feature_select": 0,
        "driver_feature": 0,
        "config_msix_vector": c.NO_VECTOR,
        "num_queues": params.NUM_QUEUES,
        "device_status": 0,
        "config_generation": 0,
        "queue_select": 0,
        "admin_queue_index": 0,
        "admin_queue_num": 0,
    }


def queue_reset_values(params: Params, q: int) -> dict:
    """Rule 8.5 per-queue reset values (queue_notify_off = q is not affected by a reset)."""
    return {
        "queue_size": params.QUEUE_SIZE_MAX,
        "queue_msix_vector": c.NO_VECTOR,
        "queue_enable": 0,
        "queue_notify_off": q,
        "queue_desc_lo": 0, "queue_desc_hi": 0,
        "queue_driver_lo": 0, "queue_driver_hi": 0,
        "queue_device_lo": 0, "queue_device_hi": 0,
        "queue_notif_config_data": 0,
        "queue_reset": 0,
        "queue_avail_state": 0,
        "queue_used_state": 0,
    }


# SPEC 4.6 test vectors: (event, old, new, expected)
SPEC_4_6_VECTORS = [
    (0, 0, 1, True),
    (5, 3, 5, False),
    (5, 3, 6, True),
    (0xFFFF, 0xFFFF, 0x0000, True),
    (10, 11, 12, False),
    (0, 0xFFFE, 0x0001, True),
    (2, 0xFFFE, 0x0001, False),
    (7, 7, 7, False),
]
