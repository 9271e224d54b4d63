"""The reference driver: every sequence a virtio-pci driver or hypervisor performs on the engine.

Written once against three small interfaces (DESIGN.md "Shared conventions") and used twice: against the model
`Device` through `ModelBus` / `ModelClock` here, and against the RTL through cocotbext-axi's AxiLiteMaster, an
AxiRam's memory and clock edges.  The `Driver` never touches a device directly, only the interfaces.

Poll loops count polls, never time (SUS-22): each poll reads `device_status` and then waits `poll_wait` clock
units; `poll_limit` polls without success raise `PollTimeout`.
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Protocol

from . import constants as c
from .constants import SuspendMode
from .memory import MemAllocator
from .ring import AVAIL_ALIGN, DESC_ALIGN, USED_ALIGN, Descriptor, RingLayout, u16, vring_need_event


# -- the three interfaces ----------------------------------------------------------------------------------------

class RegBus(Protocol):
    """Register access to the device BAR; sizes 1, 2 and 4, naturally aligned.  A write of 0 to
    `device_status` returns when the reset is done (SUS-13)."""

    async def read(self, addr: int, size: int) -> int: ...

    async def write(self, addr: int, value: int, size: int) -> None: ...


class GuestMemory(Protocol):
    """The driver's view of guest memory: plain synchronous byte access (cocotb: the AxiRam's memory)."""

    def read(self, addr: int, n: int) -> bytes: ...

    def write(self, addr: int, data: bytes) -> None: ...


class Clock(Protocol):
    async def wait(self, n: int) -> None: ...


# -- the pure-Python face ----------------------------------------------------------------------------------------

class ModelBus:
    """RegBus over a model `Device`: each access is one register access, then `steps_per_access` device steps,
    so the engine makes progress while the driver polls."""

    def __init__(self, device, steps_per_access: int = 1):
        self.device = device
        self.steps_per_access = steps_per_access

    async def read(self, addr: int, size: int) -> int:
        value = self.device.reg_read(addr, size)
        self._advance()
        return value

    async def write(self, addr: int, value: int, size: int) -> None:
        self.device.reg_write(addr, value, size)
        self._advance()

    def _advance(self) -> None:
        for _ in range(self.steps_per_access):
            self.device.step()


class ModelClock:
    """Clock over a model `Device`: waiting n units steps the device n times (the model counts steps, rule 8.12)."""

    def __init__(self, device):
        self.device = device

    async def wait(self, n: int) -> None:
        for _ in range(n):
            self.device.step()


def run_sync(coro):
    """Run a coroutine that only awaits model interfaces to completion, without an event loop."""
    try:
        awaited = coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError(f"run_sync: the coroutine awaited {awaited!r}, which needs an event loop (use asyncio)")


# -- errors ------------------------------------------------------------------------------------------------------

class DriverError(Exception):
    """The device did something the driver cannot go on with."""


class FeatureRefused(DriverError):
    """FEATURES_OK did not stick on the re-read (SPEC 2.3 step 6, 3.3)."""


class DeviceNeedsReset(DriverError):
    """DEVICE_NEEDS_RESET appeared while polling: abort, like the 2024 Linux prototype's -EIO (SPEC 6.4)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class PollTimeout(DriverError):
    """`poll_limit` polls passed without the awaited value (SUS-22)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


# -- the driver's side of a split virtqueue ----------------------------------------------------------------------

@dataclass
class Used:
    """One used element as the driver reaps it: the chain's head, the device's `len`, and the first `len` bytes
    of its writable buffers, with what the driver posted (its readable bytes, writable capacity and token)."""

    head: int
    len: int
    data: bytes
    readable: bytes
    capacity: int
    token: Any = None


@dataclass
class _Posted:
    descs: list                 # main-table descriptor indices the chain holds
    writable: list              # (addr, len) of its device-writable buffers, in chain order
    readable: bytes             # its readable bytes, concatenated in chain order
    token: Any
    blocks: list                # (addr, size, align) of every guest-memory block it uses, for reuse after reap

    @property
    def capacity(self) -> int:
        return sum(length for _, length in self.writable)


class VirtQueue:
    """Driver-side split ring (SPEC 4.1 to 4.6): free descriptors, the avail index, the last seen used index and
    the chains posted.  Its whole state lives in guest memory, so a migration target carries it over."""

    def __init__(self, mem: GuestMemory, alloc: MemAllocator, index: int, layout: RingLayout, *,
                 event_idx: bool, indirect_ok: bool, vector: int, avail_idx: int = 0, last_used: int = 0):
        self.mem = mem
        self.alloc = alloc
        self.index = index
        self.layout = layout
        self.event_idx = event_idx
        self.indirect_ok = indirect_ok
        self.vector = vector
        self.avail_idx = avail_idx       # free-running shadow of avail.idx
        self.last_used = last_used       # free-running: the next used slot to reap
        self.added_since_kick = 0        # Linux `num_added`
        self._free = deque(range(layout.size))
        self._posted: dict[int, _Posted] = {}
        self._reaped: set[int] = set()   # heads used and not posted again: a second use is a device bug
        self._spare: dict[tuple, list] = {}  # (size, align) -> blocks of reaped chains, so long runs stay bounded

    @classmethod
    def allocate(cls, mem: GuestMemory, alloc: MemAllocator, index: int, size: int, *, event_idx: bool,
                 indirect_ok: bool, vector: int, avail_idx: int = 0, used_idx: int = 0) -> "VirtQueue":
        """Allocate and zero the three areas with their SPEC 4.1 alignment; start both indices as given."""
        desc = alloc.alloc(c.DESC_SIZE * size, DESC_ALIGN)
        layout = RingLayout(desc, 0, 0, size)
        avail = alloc.alloc(layout.avail_bytes, AVAIL_ALIGN)
        used = alloc.alloc(layout.used_bytes, USED_ALIGN)
        layout = RingLayout(desc, avail, used, size)
        for base, length in ((desc, layout.desc_bytes), (avail, layout.avail_bytes), (used, layout.used_bytes)):
            mem.write(base, bytes(length))
        _put_u16(mem, layout.avail_idx_addr, avail_idx)
        _put_u16(mem, layout.used_idx_addr, used_idx)
        _put_u16(mem, layout.used_event_addr, used_idx)
        return cls(mem, alloc, index, layout, event_idx=event_idx, indirect_ok=indirect_ok, vector=vector,
                   avail_idx=avail_idx, last_used=used_idx)

    @property
    def size(self) -> int:
        return self.layout.size

    @property
    def num_free(self) -> int:
        return len(self._free)

    @property
    def outstanding(self) -> int:
        return len(self._posted)

    def add_chain(self, readable: list, writable: list, *, indirect: bool = False,
                  indirect_split: Optional[int] = None, token: Any = None) -> int:
        """Post one chain: `readable` payloads, then `writable` buffer lengths (SPEC 4.4 order).  With `indirect`
        the buffers go into an indirect table, except the first `indirect_split` ones, which stay direct in front
        of the INDIRECT descriptor.  Returns the head."""
        specs = [(bytes(data), 0) for data in readable] + [(length, c.VIRTQ_DESC_F_WRITE) for length in writable]
        if not specs:
            raise ValueError("a chain needs at least one buffer")
        if indirect_split is not None and not indirect:
            raise ValueError("indirect_split needs indirect=True")
        if indirect and not self.indirect_ok:
            raise DriverError("INDIRECT_DESC was not negotiated")
        direct_count = (indirect_split or 0) if indirect else len(specs)
        if not 0 <= direct_count <= len(specs) - indirect:
            raise ValueError(f"indirect_split {indirect_split} leaves no buffer for the table of {len(specs)}")
        main_count = direct_count + indirect
        if main_count > len(self._free):
            raise DriverError(f"queue {self.index}: {main_count} descriptors needed, {len(self._free)} free")

        blocks = []
        buffers = self._write_buffers(specs, blocks)
        descs = [self._free.popleft() for _ in range(main_count)]
        main = buffers[:direct_count]
        if indirect:
            table = self._write_table(buffers[direct_count:], blocks)
            main.append((table, c.DESC_SIZE * (len(specs) - direct_count), c.VIRTQ_DESC_F_INDIRECT))
        self._write_linked(self.layout.desc, descs, main)

        head = descs[0]
        writable = [(addr, length) for addr, length, flags in buffers if flags]
        readable = b"".join(data for data, flags in specs if not flags)
        self._posted[head] = _Posted(descs, writable, readable, token, blocks)
        self._reaped.discard(head)
        # The device reads avail.idx before the ring entry (SPEC 4.5), so the entry is written first.
        _put_u16(self.mem, self.layout.avail_ring_addr(self.avail_idx), head)
        self.avail_idx = u16(self.avail_idx + 1)
        _put_u16(self.mem, self.layout.avail_idx_addr, self.avail_idx)
        self.added_since_kick += 1
        return head

    def _block(self, size: int, align: int, blocks: list) -> int:
        spare = self._spare.get((size, align))
        addr = spare.pop() if spare else self.alloc.alloc(size, align)
        blocks.append((addr, size, align))
        return addr

    def _write_buffers(self, specs: list, blocks: list) -> list:
        """Place every buffer (any byte alignment) and fill the readable ones; returns (addr, len, flags) each."""
        buffers = []
        for payload, flags in specs:
            length = payload if flags else len(payload)
            addr = self._block(length, 1, blocks)
            if not flags:
                self.mem.write(addr, payload)
            buffers.append((addr, length, flags))
        return buffers

    def _write_table(self, buffers: list, blocks: list) -> int:
        table = self._block(c.DESC_SIZE * len(buffers), DESC_ALIGN, blocks)
        self._write_linked(table, list(range(len(buffers))), buffers)
        return table

    def _write_linked(self, base: int, indices: list, buffers: list) -> None:
        """Descriptors `indices[i]` = `buffers[i]`, each linked to the next with NEXT (SPEC 4.4)."""
        for i, (addr, length, flags) in enumerate(buffers):
            last = i == len(buffers) - 1
            desc = Descriptor(addr, length, flags | (0 if last else c.VIRTQ_DESC_F_NEXT), 0 if last else indices[i + 1])
            self.mem.write(base + c.DESC_SIZE * indices[i], desc.pack())

    def kick_needed(self) -> bool:
        """Linux `virtqueue_kick_prepare`: with EVENT_IDX kick iff the added range crosses `avail_event`, without
        it iff `used.flags` lacks NO_NOTIFY (SPEC 4.6).  Resets the count of chains added since the last kick."""
        new = self.avail_idx
        old = u16(new - self.added_since_kick)
        self.added_since_kick = 0
        if self.event_idx:
            return vring_need_event(_get_u16(self.mem, self.layout.avail_event_addr), new, old)
        return not _get_u16(self.mem, self.layout.used_flags_addr) & c.VIRTQ_USED_F_NO_NOTIFY

    def reap(self) -> list:
        """Every used element published since the last reap, in ring order; their descriptors are freed.  With
        EVENT_IDX, `used_event` then asks for an interrupt at the next element (Linux `virtqueue_get_buf`)."""
        used_idx = _get_u16(self.mem, self.layout.used_idx_addr)
        reaped = []
        while self.last_used != used_idx:
            elem = self.layout.used_elem_addr(self.last_used)
            head = _get_u32(self.mem, elem)
            length = _get_u32(self.mem, elem + 4)
            posted = self._posted.pop(head, None)
            if posted is None:
                again = "used twice" if head in self._reaped else "not outstanding"
                raise DriverError(f"queue {self.index}: used.ring[{self.last_used:#06x}] id {head} is {again}")
            if length > posted.capacity:
                raise DriverError(f"queue {self.index}: head {head} used len {length} exceeds its writable "
                                  f"capacity {posted.capacity} (SPEC 4.5)")
            data = b"".join(self.mem.read(addr, n) for addr, n in posted.writable)[:length]
            reaped.append(Used(head, length, data, posted.readable, posted.capacity, posted.token))
            self._free.extend(posted.descs)
            for addr, size, align in posted.blocks:
                self._spare.setdefault((size, align), []).append(addr)
            self._reaped.add(head)
            self.last_used = u16(self.last_used + 1)
        if self.event_idx:
            _put_u16(self.mem, self.layout.used_event_addr, self.last_used)
        return reaped


def _get_u16(mem: GuestMemory, addr: int) -> int:
    return int.from_bytes(mem.read(addr, 2), "little")


def _get_u32(mem: GuestMemory, addr: int) -> int:
    return int.from_bytes(mem.read(addr, 4), "little")


def _put_u16(mem: GuestMemory, addr: int, value: int) -> None:
    mem.write(addr, u16(value).to_bytes(2, "little"))


# -- the driver ------------------------------------------------------------------------------------------------

class Driver:
    """A virtio-pci driver for the engine's one BAR (rule 8.7): init, queues, traffic, SUSPEND and vq state."""

    def __init__(self, bus: RegBus, mem: GuestMemory, clock: Clock, alloc: MemAllocator, *, num_queues: int,
                 mode: SuspendMode = SuspendMode.V14, f_suspend_bit: int = c.DEFAULT_F_SUSPEND_BIT,
                 poll_limit: int = 1000, poll_wait: int = 1):
        self.bus = bus
        self.mem = mem
        self.clock = clock
        self.alloc = alloc
        self.num_queues = num_queues
        self.mode = SuspendMode(mode)
        self.f_suspend_bit = f_suspend_bit
        self.poll_limit = poll_limit
        self.poll_wait = poll_wait
        self.features = 0                         # negotiated at FEATURES_OK
        self.queues: dict[int, VirtQueue] = {}

    @property
    def supported_features(self) -> int:
        return c.feature_mask(c.F_VERSION_1, c.F_EVENT_IDX, c.F_INDIRECT_DESC, c.F_RING_RESET, self.f_suspend_bit)

    def has_feature(self, bit: int) -> bool:
        return bool(self.features >> bit & 1)

    # -- device_status (SPEC 2.1) --
    async def status(self) -> int:
        return await self.bus.read(c.CC_DEVICE_STATUS, 1)

    async def write_status(self, value: int) -> None:
        await self.bus.write(c.CC_DEVICE_STATUS, value, 1)

    async def add_status(self, bits: int) -> int:
        """Linux `virtio_add_status`: write the shown value with `bits` added; returns the value written."""
        value = await self.status() | bits
        await self.write_status(value)
        return value

    async def _poll_status(self, done: Callable[[int], bool], what: str, *, abort_on_needs_reset: bool = True) -> int:
        status = await self.status()
        for _ in range(self.poll_limit):
            if abort_on_needs_reset and status & c.S_NEEDS_RESET:
                raise DeviceNeedsReset(f"{what}: device_status {status:#04x} shows DEVICE_NEEDS_RESET", status)
            if done(status):
                return status
            await self.clock.wait(self.poll_wait)
            status = await self.status()
        raise PollTimeout(f"{what}: still device_status {status:#04x} after {self.poll_limit} polls", status)

    # -- reset and initialization (SPEC 2.2, 2.3) --
    async def reset(self) -> None:
        """Write 0, then read until 0 (SUS-13); the driver-side queues are gone with the device's."""
        await self.write_status(0)
        await self._poll_status(lambda s: s == 0, "reset", abort_on_needs_reset=False)
        self.features = 0
        self.queues = {}

    async def init(self, features: Optional[int] = None) -> int:
        """SPEC 2.3 steps 2 to 6 on a reset device; `features` defaults to every offered bit the driver supports.
        Returns the negotiated set."""
        await self.add_status(c.S_ACKNOWLEDGE)
        await self.add_status(c.S_DRIVER)
        offered = await self.read_device_features()
        chosen = offered & self.supported_features if features is None else features
        for select in (0, 1):
            await self.bus.write(c.CC_DRIVER_FEATURE_SELECT, select, 4)
            await self.bus.write(c.CC_DRIVER_FEATURE, chosen >> 32 * select & 0xFFFF_FFFF, 4)
        await self.add_status(c.S_FEATURES_OK)
        status = await self.status()
        if not status & c.S_FEATURES_OK:
            raise FeatureRefused(f"device refused features {chosen:#018x} (offered {offered:#018x}); "
                                 f"device_status {status:#04x}")
        present = await self.bus.read(c.CC_NUM_QUEUES, 2)
        if present < self.num_queues:
            raise DriverError(f"device has {present} queues, driver needs {self.num_queues}")
        self.features = chosen
        return chosen

    async def read_device_features(self) -> int:
        """Both 32-bit windows of `device_feature` (SPEC 3.1)."""
        offered = 0
        for select in (0, 1):
            await self.bus.write(c.CC_DEVICE_FEATURE_SELECT, select, 4)
            offered |= await self.bus.read(c.CC_DEVICE_FEATURE, 4) << 32 * select
        return offered

    async def setup_queue(self, q: int, size: int, vector: int = c.NO_VECTOR, *,
                          state: Optional[tuple] = None) -> VirtQueue:
        """Allocate a fresh ring of `size` and enable it (SPEC 2.3 step 7).  `state` = (avail_state, used_state)
        starts the device counters and the ring's indices there (SUS-19); without it both start at 0."""
        await self._select(q)
        await self._write_size(q, size)
        avail_idx, used_idx = state or (0, 0)
        vq = VirtQueue.allocate(self.mem, self.alloc, q, size, event_idx=self.has_feature(c.F_EVENT_IDX),
                                indirect_ok=self.has_feature(c.F_INDIRECT_DESC), vector=vector,
                                avail_idx=avail_idx, used_idx=used_idx)
        await self._program_queue(vq, state)
        return vq

    async def adopt_queue(self, vq: VirtQueue, *, state: Optional[tuple] = None) -> VirtQueue:
        """Program and enable a ring that already lives in guest memory, at the same addresses (migration
        target, SPEC 6.3); with `state` the saved (avail_state, used_state) is written before the enable."""
        await self._select(vq.index)
        await self._write_size(vq.index, vq.size)
        await self._program_queue(vq, state)
        return vq

    async def _select(self, q: int) -> None:
        if not 0 <= q < self.num_queues:
            raise ValueError(f"queue {q} outside 0..{self.num_queues - 1}")
        await self.bus.write(c.CC_QUEUE_SELECT, q, 2)

    async def _write_size(self, q: int, size: int) -> None:
        await self.bus.write(c.CC_QUEUE_SIZE, size, 2)
        shown = await self.bus.read(c.CC_QUEUE_SIZE, 2)
        if shown != size:
            raise DriverError(f"queue {q}: size {size} not accepted, queue_size reads {shown} (rule 8.6)")

    async def _program_queue(self, vq: VirtQueue, state: Optional[tuple]) -> None:
        """Addresses as two 32-bit halves (SPEC 5.1), vector, vq state, then queue_enable=1, each read back."""
        lay = vq.layout
        for lo, addr in ((c.CC_QUEUE_DESC_LO, lay.desc), (c.CC_QUEUE_DRIVER_LO, lay.avail),
                         (c.CC_QUEUE_DEVICE_LO, lay.used)):
            await self.bus.write(lo, addr & 0xFFFF_FFFF, 4)
            await self.bus.write(lo + 4, addr >> 32, 4)
        await self.bus.write(c.CC_QUEUE_MSIX_VECTOR, vq.vector, 2)
        shown = await self.bus.read(c.CC_QUEUE_MSIX_VECTOR, 2)
        if shown != vq.vector:
            raise DriverError(f"queue {vq.index}: MSI-X vector {vq.vector:#x} not mapped, reads {shown:#06x} "
                              f"(rule 8.6)")
        if state is not None:
            await self.bus.write(c.CC_QUEUE_AVAIL_STATE, state[0], 2)
            await self.bus.write(c.CC_QUEUE_USED_STATE, state[1], 2)
        await self.bus.write(c.CC_QUEUE_ENABLE, 1, 2)
        if await self.bus.read(c.CC_QUEUE_ENABLE, 2) != 1:
            raise DriverError(f"queue {vq.index}: queue_enable=1 not accepted (rule 8.6)")
        self.queues[vq.index] = vq

    async def driver_ok(self) -> None:
        """SPEC 2.3 step 8; a NEEDS_RESET on the read-back (Q14) raises DeviceNeedsReset."""
        await self.add_status(c.S_DRIVER_OK)
        status = await self.status()
        if status & c.S_NEEDS_RESET:
            raise DeviceNeedsReset(f"DRIVER_OK answered with device_status {status:#04x}", status)

    async def start(self, features: Optional[int] = None, queues: Iterable[tuple] = ()) -> list:
        """Reset, init, set up queue i with (size, vector) = queues[i], DRIVER_OK; returns the VirtQueues."""
        await self.reset()
        await self.init(features)
        rings = [await self.setup_queue(q, size, vector) for q, (size, vector) in enumerate(queues)]
        await self.driver_ok()
        return rings

    # -- traffic --
    async def notify(self, q: int) -> None:
        """An available-buffer notification: a 16-bit write of q to the notify slot of q (rule 8.7)."""
        await self.bus.write(c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * q, q, 2)

    async def kick(self, q: int) -> bool:
        """Linux-style kick with suppression (SPEC 4.6); returns whether the notification was sent."""
        needed = self.queues[q].kick_needed()
        if needed:
            await self.notify(q)
        return needed

    async def kick_always(self, q: int) -> None:
        self.queues[q].added_since_kick = 0
        await self.notify(q)

    def reap(self, vq: VirtQueue) -> list:
        return vq.reap()

    async def wait_used(self, vq: VirtQueue, count: int) -> list:
        """Reap until `count` elements came back, waiting `poll_wait` between tries, at most `poll_limit` tries."""
        got = vq.reap()
        for _ in range(self.poll_limit):
            if len(got) >= count:
                return got
            await self.clock.wait(self.poll_wait)
            got += vq.reap()
        if len(got) >= count:
            return got
        status = await self.status()
        if status & c.S_NEEDS_RESET:
            raise DeviceNeedsReset(f"queue {vq.index}: device_status {status:#04x} while waiting for used", status)
        raise PollTimeout(f"queue {vq.index}: {len(got)} of {count} used after {self.poll_limit} polls "
                          f"(device_status {status:#04x})", status)

    # -- SUSPEND (SUS-04, SUS-11) and vq state (SUS-19) --
    async def suspend(self, *, reset_on_timeout: bool = True) -> int:
        """Set SUSPEND and poll until the device shows it suspended.  Mode V14: SUSPEND=1 and DRIVER_OK=0; mode
        RFC (2024 Linux prototype): the value written.  NEEDS_RESET aborts; on a timeout the device is reset
        first (SUS-22) unless `reset_on_timeout` is False.  Returns the status shown."""
        if not self.has_feature(self.f_suspend_bit):
            raise DriverError(f"VIRTIO_F_SUSPEND (bit {self.f_suspend_bit}) was not negotiated")
        shown = await self.status()
        target = shown | c.S_SUSPEND
        if self.mode == SuspendMode.V14:
            done = lambda s: s & (c.S_SUSPEND | c.S_DRIVER_OK) == c.S_SUSPEND
        else:
            done = lambda s: s == target
        try:
            return await self._write_and_poll(shown, target, done, "suspend")
        except PollTimeout:
            if reset_on_timeout:
                await self.reset()
            raise

    async def resume(self) -> int:
        """Mode V14: write the shown value | DRIVER_OK, poll until SUSPEND=0 and DRIVER_OK=1.  Mode RFC (2024
        prototype): write the shown value & ~SUSPEND, poll until it reads back.  Returns the status shown."""
        shown = await self.status()
        if self.mode == SuspendMode.V14:
            done = lambda s: s & (c.S_SUSPEND | c.S_DRIVER_OK) == c.S_DRIVER_OK
            return await self._write_and_poll(shown, shown | c.S_DRIVER_OK, done, "resume")
        target = shown & ~c.S_SUSPEND
        return await self._write_and_poll(shown, target, lambda s: s == target, "resume")

    async def resume_rfc1(self) -> int:
        """The Aug 2023 RFC's resume: re-write the shown value (DRIVER_OK set) and poll until SUSPEND reads 0."""
        shown = await self.status()
        return await self._write_and_poll(shown, shown, lambda s: not s & c.S_SUSPEND, "resume (RFC1)")

    async def _write_and_poll(self, shown: int, value: int, done: Callable[[int], bool], what: str) -> int:
        """Write `value` unless `shown` is already done (the 2024 prototype returns early: in mode RFC a second
        0x1F written while suspended would resume, SUS-23), then poll until done."""
        if not done(shown):
            await self.write_status(value)
        return await self._poll_status(done, what)

    async def read_vq_state(self, q: int) -> tuple:
        """(avail_state, used_state) of queue q (SUS-18, SUS-20: 0x40 / 0x42)."""
        await self._select(q)
        return (await self.bus.read(c.CC_QUEUE_AVAIL_STATE, 2), await self.bus.read(c.CC_QUEUE_USED_STATE, 2))

    async def read_device_config(self, size: int = c.DEFAULT_DEV_CFG_SIZE) -> bytes:
        """The device-specific configuration, re-read until `config_generation` is stable (SPEC 2.6)."""
        for _ in range(self.poll_limit):
            before = await self.bus.read(c.CC_CONFIG_GENERATION, 1)
            words = [await self.bus.read(c.BAR_DEVICE_CFG + off, 4) for off in range(0, size, 4)]
            if await self.bus.read(c.CC_CONFIG_GENERATION, 1) == before:
                return b"".join(word.to_bytes(4, "little") for word in words)
        raise PollTimeout(f"config_generation never stable in {self.poll_limit} tries", await self.status())

    async def fail(self) -> None:
        """The driver gives up (SPEC 2.5, SUS-15)."""
        await self.add_status(c.S_FAILED)


# -- the hypervisor's migration flow (SPEC 6.3) ------------------------------------------------------------------

@dataclass
class QueueSnapshot:
    vq: VirtQueue
    avail_state: int
    used_state: int


@dataclass
class MigrationState:
    """What crosses to the target besides guest memory: features, vq state per queue, device configuration."""

    features: int
    queues: list = field(default_factory=list)
    device_config: bytes = b""


async def save_state(src: Driver, queues: Iterable[int]) -> MigrationState:
    """Source side: suspend, then read every queue's vq state and the device configuration (SPEC 6.3)."""
    await src.suspend()
    saved = MigrationState(src.features)
    for q in queues:
        avail_state, used_state = await src.read_vq_state(q)
        saved.queues.append(QueueSnapshot(src.queues[q], avail_state, used_state))
    saved.device_config = await src.read_device_config()
    return saved


async def restore_state(dst: Driver, saved: MigrationState, *, enable_after_driver_ok: Iterable[int] = ()) -> None:
    """Target side: reset, init with the same features, each ring at the same guest addresses with its state
    written before queue_enable, then DRIVER_OK, whose scan needs no kick (SUS-10).  Queues listed in
    `enable_after_driver_ok` are restored in RUNNING while disabled (SUS-19 window 3) and then enabled."""
    late = set(enable_after_driver_ok)
    await dst.reset()
    await dst.init(saved.features)
    for snap in saved.queues:
        if snap.vq.index not in late:
            await dst.adopt_queue(snap.vq, state=(snap.avail_state, snap.used_state))
    await dst.driver_ok()
    for snap in saved.queues:
        if snap.vq.index in late:
            await dst.adopt_queue(snap.vq, state=(snap.avail_state, snap.used_state))


async def migrate(src: Driver, dst: Driver, queues: Iterable[int], *,
                  enable_after_driver_ok: Iterable[int] = ()) -> MigrationState:
    """Suspend the source, carry its state to the target and start the target there, then reset the source
    (SPEC 6.2, 6.3).  The guest-side VirtQueues move to `dst.queues` unchanged."""
    saved = await save_state(src, queues)
    await restore_state(dst, saved, enable_after_driver_ok=enable_after_driver_ok)
    await src.reset()
    return saved
