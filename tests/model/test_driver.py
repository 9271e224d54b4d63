"""The reference driver (models/virtio_golden/driver.py) against the standalone model Device.

Expected values come from SPEC.md, never from the model's current output.  Every payload is checked against the
backend's reference answer `readable[i % rd_len] ^ (tag & 0xff)`, len = min(rd_len, wr_len): the driver cannot know
the tag, so `check_answer` requires data[i] ^ readable[i % rd_len] to be one byte for the whole buffer.
"""

import asyncio

import pytest

from virtio_golden import constants as c
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.device import Device
from virtio_golden.driver import (DeviceNeedsReset, Driver, DriverError, FeatureRefused, ModelBus, ModelClock,
                                  PollTimeout, Used, VirtQueue, run_sync)
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.params import Params
from virtio_golden.ring import u16

pytestmark = pytest.mark.model

MODES = (SuspendMode.V14, SuspendMode.RFC)
SUSPENDED_SHOWS = {SuspendMode.V14: 0x1B, SuspendMode.RFC: 0x1F}  # chapter 1 summary table
GUEST_BASE, GUEST_LIMIT = 0x7_FFFF_F000, 1 << 40  # rings and buffers straddle 2^35: both address halves matter
NO_EVENT_IDX = c.DEFAULT_DEVICE_FEATURES & ~(1 << c.F_EVENT_IDX)
NEAR_WRAP = 0xFFF0
MAX_CHAIN_DESCS = 6                # Ledger.post: at most 3 readable and 3 writable buffers


# -- rigs and checks shared with test_migration_model.py -----------------------------------------------------------

def make_driver(device: Device, alloc: MemAllocator, *, steps: int = 1, **driver_args) -> Driver:
    p = device.params
    return Driver(ModelBus(device, steps), device.mem, ModelClock(device), alloc, num_queues=p.NUM_QUEUES,
                  mode=p.mode, f_suspend_bit=p.F_SUSPEND_BIT, **driver_args)


def make(params: Params = None, *, backend: BackendModel = None, seed: int = 0, mem: GuestMem = None,
         **driver_args) -> tuple:
    device = Device(params or Params(), mem=mem, backend=backend or BackendModel(seed), seed=seed)
    return device, make_driver(device, MemAllocator(GUEST_BASE, GUEST_LIMIT), **driver_args)


def check_answer(used: Used) -> None:
    """The reference answer (backend.py, DESIGN): len = min(rd_len, wr_len), data = readable cycled ^ one byte."""
    rd_len = len(used.readable)
    assert used.len == min(rd_len, used.capacity), (used.head, used.len, rd_len, used.capacity)
    assert len(used.data) == used.len
    if used.len:
        key = used.data[0] ^ used.readable[0]
        assert all(used.data[i] ^ used.readable[i % rd_len] == key for i in range(used.len)), used


class Ledger:
    """Every chain posted, by a unique token; each must come back exactly once with the reference answer."""

    def __init__(self, rng):
        self.rng = rng
        self.posted: dict = {}
        self.used: dict = {}

    def post(self, vq: VirtQueue, *, indirect: bool = None) -> bool:
        """Post one random chain (0 to 3 readable and writable buffers, zero-length ones included, direct,
        indirect or mixed); False when the ring has too few free descriptors."""
        rng = self.rng
        n_read, n_write = rng.randint(0, MAX_CHAIN_DESCS // 2), rng.randint(0, MAX_CHAIN_DESCS // 2)
        if n_read + n_write == 0:
            n_write = 1
        length = lambda: 0 if rng.random() < 0.15 else rng.randint(1, 96)
        readable = [rng.randbytes(length()) for _ in range(n_read)]
        writable = [length() for _ in range(n_write)]
        if indirect is None:
            indirect = vq.indirect_ok and rng.random() < 0.4
        split = rng.randint(0, n_read + n_write - 1) if indirect and rng.random() < 0.5 else None
        needed = (split or 0) + 1 if indirect else n_read + n_write
        if vq.num_free < needed:
            return False
        token = (vq.index, len(self.posted))
        vq.add_chain(readable, writable, indirect=indirect, indirect_split=split, token=token)
        self.posted[token] = b"".join(readable)
        return True

    def take(self, used: list) -> None:
        for u in used:
            assert u.token in self.posted, f"token {u.token} was never posted"
            assert u.token not in self.used, f"chain {u.token} used twice"
            assert u.readable == self.posted[u.token]
            check_answer(u)
            self.used[u.token] = u

    @property
    def missing(self) -> set:
        return set(self.posted) - set(self.used)


async def pump(drv: Driver, vqs: list, ledger: Ledger, chains: int, *, max_batch: int = 6) -> None:
    """Post `chains` chains in random batches with Linux-style kicks, reaping as it goes, then drain every ring.
    A ring without room waits (bounded) for a used element, so a stuck device raises instead of hanging."""
    rng = ledger.rng
    target = len(ledger.posted) + chains
    while len(ledger.posted) < target:
        vq = rng.choice(vqs)
        for _ in range(min(rng.randint(1, max_batch), target - len(ledger.posted))):
            if not ledger.post(vq):
                break
        await drv.kick(vq.index)
        await drv.clock.wait(rng.randint(0, 12))
        for ring in vqs:
            ledger.take(ring.reap())
        if vq.num_free < MAX_CHAIN_DESCS:
            ledger.take(await drv.wait_used(vq, 1))
    for ring in vqs:
        ledger.take(await drv.wait_used(ring, ring.outstanding))


async def queue_registers(drv: Driver, q: int) -> dict:
    await drv.bus.write(c.CC_QUEUE_SELECT, q, 2)
    regs = {name: await drv.bus.read(off, size) for name, off, size in (
        ("size", c.CC_QUEUE_SIZE, 2), ("vector", c.CC_QUEUE_MSIX_VECTOR, 2), ("enable", c.CC_QUEUE_ENABLE, 2),
        ("desc", c.CC_QUEUE_DESC_LO, 4), ("desc_hi", c.CC_QUEUE_DESC_HI, 4),
        ("driver", c.CC_QUEUE_DRIVER_LO, 4), ("driver_hi", c.CC_QUEUE_DRIVER_HI, 4),
        ("device", c.CC_QUEUE_DEVICE_LO, 4), ("device_hi", c.CC_QUEUE_DEVICE_HI, 4))}
    regs["desc"] |= regs.pop("desc_hi") << 32
    regs["driver"] |= regs.pop("driver_hi") << 32
    regs["device"] |= regs.pop("device_hi") << 32
    regs["state"] = await drv.read_vq_state(q)
    return regs


def step_until(device: Device, condition, limit: int = 5000) -> None:
    for _ in range(limit):
        if condition():
            return
        device.step()
    raise AssertionError(f"condition not reached in {limit} steps ({device.state.name}, P={device.presented:#04x})")


# -- the interfaces --------------------------------------------------------------------------------------------------

def test_run_sync_returns_the_value_and_refuses_a_real_awaitable():
    device, drv = make()
    assert run_sync(drv.status()) == 0

    async def needs_a_loop():
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="event loop"):
        run_sync(needs_a_loop())


def test_the_same_driver_runs_under_asyncio():
    device, drv = make()
    rings = asyncio.run(drv.start(queues=[(16, 0)]))
    assert device.state == St.RUNNING and rings[0].size == 16


# -- initialization (SPEC 2.3, 3.3, Appendix B 1) -------------------------------------------------------------------

def test_full_init_negotiates_every_supported_offered_bit_and_programs_the_queues():
    device, drv = make()
    rings = run_sync(drv.start(queues=[(64, 0), (16, c.NO_VECTOR)]))
    assert run_sync(drv.status()) == 0x0F
    assert drv.features == c.DEFAULT_DEVICE_FEATURES  # every default offer is a bit the driver supports (SPEC 3.3)
    assert run_sync(drv.read_device_features()) == c.DEFAULT_DEVICE_FEATURES
    for vq, vector in zip(rings, (0, c.NO_VECTOR)):
        regs = run_sync(queue_registers(drv, vq.index))
        lay = vq.layout
        assert regs == {"size": lay.size, "vector": vector, "enable": 1, "desc": lay.desc, "driver": lay.avail,
                        "device": lay.used, "state": (0, 0)}
        assert lay.desc % 16 == 0 and lay.avail % 2 == 0 and lay.used % 4 == 0  # SPEC 4.1
        assert lay.desc >> 32 and lay.used >> 32  # both halves of each 64-bit address were written (SPEC 5.1)


@pytest.mark.parametrize("features", [c.DEFAULT_DEVICE_FEATURES | 1 << c.DEFAULT_F_QUEUE_STATE_BIT,
                                      c.DEFAULT_DEVICE_FEATURES & ~(1 << c.F_VERSION_1)],
                         ids=["unoffered-bit-44", "no-VERSION_1"])
def test_refused_features_leave_ack_driver_without_features_ok(features):
    device, drv = make()
    run_sync(drv.reset())
    with pytest.raises(FeatureRefused, match="refused"):
        run_sync(drv.init(features))
    assert run_sync(drv.status()) == c.S_ACKNOWLEDGE | c.S_DRIVER


def test_a_bad_queue_size_is_ignored_and_reported():
    device, drv = make()
    run_sync(drv.reset())
    run_sync(drv.init())
    max_size = device.params.QUEUE_SIZE_MAX
    for bad in (0, 24, 2 * max_size):  # rule 8.6: 0, not a power of two, above QUEUE_SIZE_MAX
        with pytest.raises(DriverError, match=f"size {bad} not accepted"):
            run_sync(drv.setup_queue(0, bad))
        assert run_sync(queue_registers(drv, 0))["size"] == max_size
    assert run_sync(drv.setup_queue(0, 8)).size == 8


def test_a_vector_beyond_the_msix_table_reads_back_no_vector():
    device, drv = make()
    run_sync(drv.reset())
    run_sync(drv.init())
    vectors = device.params.MSIX_VECTORS
    with pytest.raises(DriverError, match="not mapped"):
        run_sync(drv.setup_queue(0, 16, vectors))
    assert run_sync(queue_registers(drv, 0))["vector"] == c.NO_VECTOR  # rule 8.6
    assert run_sync(drv.setup_queue(0, 16, vectors - 1)).vector == vectors - 1


# -- traffic (SPEC 4.4 to 4.6, rule 8.11) ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["direct", "indirect", "mixed-table", "zero-length"])
def test_each_chain_shape_returns_the_reference_answer(shape):
    device, drv = make(backend=BackendModel(1, latency=(0, 6)), seed=1)
    vq, = run_sync(drv.start(queues=[(16, 0)]))
    chains = {
        "direct": [dict(readable=[b"head", bytes(range(50))], writable=[20, 40])],
        "indirect": [dict(readable=[b"abcdefg"], writable=[3, 3, 3], indirect=True)],
        "mixed-table": [dict(readable=[b"r0", b"r1-long" * 5, b"r2"], writable=[10, 30], indirect=True,
                             indirect_split=split) for split in range(5)],
        "zero-length": [dict(readable=[b"", b"xyz", b""], writable=[0, 5, 0]),
                        dict(readable=[b""], writable=[0]),
                        dict(readable=[b"", b"q"], writable=[0, 0, 9], indirect=True, indirect_split=1)],
    }[shape]
    heads = [vq.add_chain(**chain) for chain in chains]
    assert run_sync(drv.kick(0))
    used = run_sync(drv.wait_used(vq, len(heads)))
    assert sorted(u.head for u in used) == sorted(heads)
    for u in used:
        check_answer(u)
    assert vq.num_free == vq.size and vq.outstanding == 0


def test_many_random_chains_on_two_queues(rng):
    device, drv = make(backend=BackendModel(rng.randrange(1 << 30), latency=(0, 8), reorder=True),
                       seed=rng.randrange(1 << 30))
    rings = run_sync(drv.start(queues=[(32, 0), (8, 1)]))
    ledger = Ledger(rng)
    run_sync(pump(drv, rings, ledger, 400))
    assert not ledger.missing and len(ledger.used) == 400


def test_sixteen_bit_index_wrap_after_restoring_the_counters_before_enable(rng):
    device, drv = make(backend=BackendModel(2, latency=(0, 5)), seed=2)
    run_sync(drv.reset())
    run_sync(drv.init())
    start = u16(NEAR_WRAP + rng.randrange(8))
    vq = run_sync(drv.setup_queue(0, 16, 0, state=(start, start)))
    assert run_sync(drv.read_vq_state(0)) == (start, start)  # SUS-19 window 1
    run_sync(drv.driver_ok())
    ledger = Ledger(rng)
    run_sync(pump(drv, [vq], ledger, 80))
    end = u16(start + 80)
    assert vq.avail_idx == vq.last_used == end < start  # both indices wrapped
    assert run_sync(drv.read_vq_state(0)) == (end, end)
    assert not ledger.missing


@pytest.mark.parametrize("event_idx", [True, False], ids=["EVENT_IDX", "flags"])
def test_kick_suppression_keeps_traffic_flowing_across_batches_and_the_wrap(event_idx, rng):
    """Appendix B 17: only Linux-style kicks, each batch waited for; a kick wrongly suppressed stalls it."""
    device, drv = make(backend=BackendModel(3, latency=(0, 3)), seed=3)
    run_sync(drv.reset())
    run_sync(drv.init(None if event_idx else NO_EVENT_IDX))
    assert drv.has_feature(c.F_EVENT_IDX) == event_idx
    vq = run_sync(drv.setup_queue(0, 32, 0, state=(NEAR_WRAP, NEAR_WRAP)))
    run_sync(drv.driver_ok())
    ledger = Ledger(rng)
    suppressed = 0
    for _ in range(60):
        for _ in range(rng.randint(1, 3)):  # chains added one kick at a time, before the device catches up
            assert ledger.post(vq, indirect=False)
            suppressed += not run_sync(drv.kick(0))
        ledger.take(run_sync(drv.wait_used(vq, vq.outstanding)))
    assert not ledger.missing
    assert vq.avail_idx < NEAR_WRAP  # crossed 0xFFFF -> 0
    if event_idx:
        assert suppressed > 0  # chains added while the device is busy need no kick (rule 8.2 re-read)
    else:
        assert suppressed == 0  # the engine never writes used.flags (rule 8.2)


def test_kick_honours_used_flags_and_avail_event_in_guest_memory():
    mem = GuestMem()
    alloc = MemAllocator(GUEST_BASE, GUEST_LIMIT)
    plain = VirtQueue.allocate(mem, alloc, 0, 8, event_idx=False, indirect_ok=True, vector=0)
    plain.add_chain([b"x"], [])
    mem.write(plain.layout.used_flags_addr, c.VIRTQ_USED_F_NO_NOTIFY.to_bytes(2, "little"))
    assert not plain.kick_needed()
    plain.add_chain([b"x"], [])
    mem.write(plain.layout.used_flags_addr, bytes(2))
    assert plain.kick_needed()

    evented = VirtQueue.allocate(mem, alloc, 1, 8, event_idx=True, indirect_ok=True, vector=0)
    for event, added, expected in ((0, 1, True), (5, 2, False), (3, 1, True)):  # SPEC 4.6 vring_need_event
        mem.write(evented.layout.avail_event_addr, event.to_bytes(2, "little"))
        for _ in range(added):
            evented.add_chain([b"y"], [])
        assert evented.kick_needed() == expected, (event, evented.avail_idx)


def test_guest_memory_of_reaped_chains_is_reused():
    device, drv = make()
    vq, = run_sync(drv.start(queues=[(8, 0)]))
    for round_ in range(50):
        vq.add_chain([b"request", b"more"], [16], indirect=round_ % 2 == 1, token=round_)
        run_sync(drv.kick(0))
        used, = run_sync(drv.wait_used(vq, 1))
        check_answer(used)
        if round_ == 1:
            remaining = drv.alloc.remaining
    assert drv.alloc.remaining == remaining  # every later chain found its blocks among the reaped ones


def test_reap_rejects_an_id_not_outstanding_used_twice_or_too_long():
    mem = GuestMem()
    vq = VirtQueue.allocate(mem, MemAllocator(GUEST_BASE, GUEST_LIMIT), 0, 8, event_idx=True, indirect_ok=True,
                            vector=0)
    lay = vq.layout

    def publish(head: int, length: int) -> None:
        idx = int.from_bytes(mem.read(lay.used_idx_addr, 2), "little")
        mem.write(lay.used_elem_addr(idx), head.to_bytes(4, "little") + length.to_bytes(4, "little"))
        mem.write(lay.used_idx_addr, u16(idx + 1).to_bytes(2, "little"))

    head = vq.add_chain([b"abc"], [4])
    publish(head, 3)
    assert [u.head for u in vq.reap()] == [head]
    assert int.from_bytes(mem.read(lay.used_event_addr, 2), "little") == 1  # Linux: used_event = last_used
    publish(head, 3)
    with pytest.raises(DriverError, match="used twice"):
        vq.reap()
    vq.last_used = 2
    publish(7, 0)
    with pytest.raises(DriverError, match="not outstanding"):
        vq.reap()
    head = vq.add_chain([b"abc"], [4])
    vq.last_used = 3
    publish(head, 5)
    with pytest.raises(DriverError, match="exceeds its writable capacity 4"):
        vq.reap()


# -- SUSPEND and resume (SUS-04, SUS-05, SUS-10, SUS-11, Appendix B 3 to 5, 13) -------------------------------------

def start_with_chains_in_flight(mode: SuspendMode, rng, *, chains: int = 12, msix: bool = False) -> tuple:
    """RUNNING (queue 0 on vector 0) with a slow backend and `chains` chains posted, kicked and partly taken;
    returns (device, drv, vq, ledger)."""
    device, drv = make(Params(SUSPEND_MODE=int(mode)), backend=BackendModel(5, latency=(5, 40)), seed=5)
    device.set_msix_enable(msix)
    vq, = run_sync(drv.start(queues=[(64, 0)]))
    ledger = Ledger(rng)
    for _ in range(chains):
        assert ledger.post(vq, indirect=False)
    run_sync(drv.kick(0))
    step_until(device, lambda: device.core.in_flight() >= 3)
    return device, drv, vq, ledger


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_suspend_drains_in_flight_chains_and_resume_finishes_the_rest(mode, rng):
    device, drv, vq, ledger = start_with_chains_in_flight(mode, rng, msix=True)
    irqs_before = len(device.irqs)
    run_sync(drv.write_status(0x0F | c.S_SUSPEND))  # the request, then the driver's own (ignored) write and poll
    assert run_sync(drv.suspend()) == SUSPENDED_SHOWS[mode]
    assert device.irqs[irqs_before:] == [0]  # SUS-21: no per-write decision, one forced notification
    assert device.state == St.SUSPENDED and device.core.in_flight() == 0
    avail_state, used_state = run_sync(drv.read_vq_state(0))
    assert avail_state == used_state  # SUS-06 invariant: every chain taken was used once
    ledger.take(vq.reap())
    assert len(ledger.used) == used_state  # every used element published before the flip (SUS-05)

    accesses = []
    device.mem.listeners.append(lambda kind, addr, data: accesses.append((kind, addr)))
    assert ledger.post(vq, indirect=False)
    run_sync(drv.kick_always(0))  # latched, no DMA (SUS-10)
    run_sync(drv.clock.wait(200))
    assert accesses == [] and run_sync(drv.status()) == SUSPENDED_SHOWS[mode]  # SUS-07
    assert len(device.irqs) == irqs_before + 1  # SUS-25

    assert run_sync(drv.resume()) == 0x0F
    ledger.take(run_sync(drv.wait_used(vq, vq.outstanding)))
    assert not ledger.missing
    assert run_sync(drv.read_vq_state(0)) == (vq.avail_idx, vq.last_used)  # no rewind (SUS-19)


@pytest.mark.parametrize("suspend_bit", [43, 42])
def test_rfc_prototype_suspends_before_driver_ok_and_resumes_to_init(suspend_bit, rng):
    """SUS-03, SUS-11, Appendix B 13: 0x0B, W=0x1B -> 0x1B; W=0x0B -> 0x0B (INIT); W=0x0F -> RUNNING with a scan."""
    features = c.feature_mask(c.F_VERSION_1, c.F_EVENT_IDX, c.F_INDIRECT_DESC, c.F_RING_RESET, suspend_bit)
    device, drv = make(Params(SUSPEND_MODE=1, F_SUSPEND_BIT=suspend_bit, DEVICE_FEATURES=features))
    run_sync(drv.reset())
    run_sync(drv.init())
    vq = run_sync(drv.setup_queue(0, 64, 0))
    ledger = Ledger(rng)
    for _ in range(5):
        assert ledger.post(vq)
    assert run_sync(drv.status()) == 0x0B
    assert run_sync(drv.suspend()) == 0x1B and device.state == St.SUSPENDED
    assert run_sync(drv.resume()) == 0x0B and device.state == St.INIT
    run_sync(drv.driver_ok())  # no kick: DRIVER_OK scans every enabled queue (SUS-10)
    assert device.state == St.RUNNING
    ledger.take(run_sync(drv.wait_used(vq, 5)))
    assert not ledger.missing and run_sync(drv.status()) == 0x0F


def test_v14_ignores_suspend_before_driver_ok():
    """SUS-03 / Appendix B 2: bit 4 is dropped in INIT, so the driver's poll times out and the status stays."""
    device, drv = make(poll_limit=50)
    run_sync(drv.reset())
    run_sync(drv.init())
    with pytest.raises(PollTimeout):
        run_sync(drv.suspend(reset_on_timeout=False))
    assert run_sync(drv.status()) == 0x0B and device.state == St.INIT


def test_rfc1_resume_rewrites_driver_ok_and_waits_for_suspend_to_clear(rng):
    device, drv, vq, ledger = start_with_chains_in_flight(SuspendMode.RFC, rng)
    assert run_sync(drv.suspend()) == 0x1F
    assert run_sync(drv.resume_rfc1()) == 0x0F and device.state == St.RUNNING
    ledger.take(run_sync(drv.wait_used(vq, vq.outstanding)))
    assert not ledger.missing


# -- failures (SUS-12, SUS-13, SUS-15, SUS-22) ----------------------------------------------------------------------

class FaultingClock(ModelClock):
    """A clock that pulses `fault_inj` at its n-th wait: an internal fault while the driver polls."""

    def __init__(self, device: Device, at_wait: int):
        super().__init__(device)
        self.waits_left = at_wait

    async def wait(self, n: int) -> None:
        self.waits_left -= 1
        if self.waits_left == 0:
            self.device.fault_inj()
        await super().wait(n)


def running_with_a_stuck_chain(mode: SuspendMode = SuspendMode.V14, **driver_args) -> tuple:
    """RUNNING with one chain whose backend request is never answered (a backend that ignores be_quiesce)."""
    device, drv = make(Params(SUSPEND_MODE=int(mode)), backend=BackendModel(never_complete=True), **driver_args)
    vq, = run_sync(drv.start(queues=[(8, 0)]))
    vq.add_chain([b"stuck"], [8])
    run_sync(drv.kick(0))
    step_until(device, lambda: device.backend.pending)
    return device, drv, vq


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_needs_reset_while_suspending_aborts_the_suspend(mode):
    device, drv, vq = running_with_a_stuck_chain(mode)
    drv.clock = FaultingClock(device, at_wait=5)
    with pytest.raises(DeviceNeedsReset) as failure:
        run_sync(drv.suspend())
    assert failure.value.status == 0x4F  # SUS-12: SUSPEND never shown
    assert device.state == St.HALTED


def test_poll_timeout_on_a_drain_that_never_ends_resets_the_device():
    device, drv, vq = running_with_a_stuck_chain(poll_limit=40)
    with pytest.raises(PollTimeout, match="after 40 polls") as timeout:
        run_sync(drv.suspend())
    assert timeout.value.status == 0x0F  # still draining (SUS-04)
    assert run_sync(drv.status()) == 0 and device.state == St.INIT  # SUS-22: the driver resets on expiry


def test_poll_timeout_can_leave_the_device_draining():
    device, drv, vq = running_with_a_stuck_chain(poll_limit=40)
    with pytest.raises(PollTimeout):
        run_sync(drv.suspend(reset_on_timeout=False))
    assert device.state == St.SUSPENDING and run_sync(drv.status()) == 0x0F


async def enter(state: St, device: Device, drv: Driver) -> None:
    """Bring a device started by the driver to `state` with driver operations only."""
    if state == St.INIT:
        await drv.reset()
        await drv.init()
        await drv.setup_queue(0, 8, 0)
    elif state == St.SUSPENDING:
        await drv.write_status(await drv.status() | c.S_SUSPEND)  # the stuck chain keeps the drain open
    elif state == St.SUSPENDED:
        await drv.suspend()
    elif state == St.RESUMING:
        await drv.suspend()
        await drv.write_status(await drv.status() | c.S_DRIVER_OK)  # ModelBus steps 0: the resume cannot end
    elif state == St.HALTED:
        await drv.fail()


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("state", [St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING, St.HALTED],
                         ids=lambda s: s.name)
def test_reset_from_every_engine_state(state, mode, rng):
    """SUS-13, Appendix B 8: the first read after the write of 0 shows 0 and every queue register is at its
    rule 8.5 reset value; the driver then starts over."""
    backend = BackendModel(7, never_complete=state == St.SUSPENDING)
    device, drv = make(Params(SUSPEND_MODE=int(mode)), backend=backend, seed=7, steps=0)
    vq, = run_sync(drv.start(queues=[(8, 0)]))
    if state == St.SUSPENDING:
        vq.add_chain([b"stuck"], [8])
        run_sync(drv.kick(0))
        step_until(device, lambda: device.backend.pending)
    run_sync(enter(state, device, drv))
    assert device.state == state

    run_sync(drv.reset())
    assert device.state == St.INIT and run_sync(drv.status()) == 0
    for q in range(device.params.NUM_QUEUES):
        assert run_sync(queue_registers(drv, q)) == {
            "size": device.params.QUEUE_SIZE_MAX, "vector": c.NO_VECTOR, "enable": 0, "desc": 0, "driver": 0,
            "device": 0, "state": (0, 0)}

    backend.never_complete = False
    drv.bus.steps_per_access = 1
    vq, = run_sync(drv.start(queues=[(8, 0)]))
    ledger = Ledger(rng)
    run_sync(pump(drv, [vq], ledger, 20))
    assert not ledger.missing


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("suspended", [False, True], ids=["running", "suspended"])
def test_failed_halts_until_reset(suspended, mode, rng):
    """SUS-15, Appendix B 14: FAILED shows 0x8F from RUNNING, 0x9B (V14) / 0x9F (RFC) from SUSPENDED; a DRIVER_OK
    write does not resume; only reset leaves."""
    device, drv, vq, ledger = start_with_chains_in_flight(mode, rng)
    if suspended:
        run_sync(drv.suspend())
    shown = run_sync(drv.status())
    run_sync(drv.fail())
    assert device.state == St.HALTED
    assert run_sync(drv.status()) == shown | c.S_FAILED == (SUSPENDED_SHOWS[mode] | 0x80 if suspended else 0x8F)
    run_sync(drv.write_status(0x0F))
    run_sync(drv.clock.wait(50))
    assert run_sync(drv.status()) == shown | c.S_FAILED and device.state == St.HALTED
    run_sync(drv.reset())
    assert run_sync(drv.status()) == 0 and device.state == St.INIT


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_needs_reset_while_resuming_aborts_the_resume(mode, rng):
    """SUS-12: a resume failure shows 0x5B with no notification (V14), 0x5F with one config notification (RFC)."""
    device, drv, vq, ledger = start_with_chains_in_flight(mode, rng, msix=True)
    run_sync(drv.bus.write(c.CC_CONFIG_MSIX_VECTOR, 1, 2))
    run_sync(drv.suspend())
    drv.bus.steps_per_access = 0  # RESUMING lasts until the device steps: the fault comes first
    drv.clock = FaultingClock(device, at_wait=1)
    irqs_before = len(device.irqs)
    with pytest.raises(DeviceNeedsReset) as failure:
        run_sync(drv.resume())
    assert device.state == St.HALTED
    assert failure.value.status == {SuspendMode.V14: 0x5B, SuspendMode.RFC: 0x5F}[mode]
    assert device.irqs[irqs_before:] == ([] if mode == SuspendMode.V14 else [1])


def test_driver_ok_without_features_ok_needs_reset():
    """Q14 / rule 8.4 merge: DRIVER_OK is not shown, NEEDS_RESET is, and driver_ok() reports it."""
    device, drv = make()
    run_sync(drv.reset())
    run_sync(drv.add_status(c.S_ACKNOWLEDGE | c.S_DRIVER))
    with pytest.raises(DeviceNeedsReset) as failure:
        run_sync(drv.driver_ok())
    assert failure.value.status == 0x43 and device.state == St.HALTED
