"""Live migration between two model Devices sharing one guest memory (SPEC 6.2 to 6.4, SUS-19, Appendix B 10).

Device A runs traffic, is suspended with chains in flight and migrated to a fresh device B on the same memory;
the guest's rings carry over.  Every chain must be used exactly once across A and B, with the reference answer.
Each case draws its device and backend seeds from its own generator (SEED and the test id), and prints them.
"""

import pytest

from test_driver import GUEST_BASE, GUEST_LIMIT, Ledger, make_driver, pump, step_until
from virtio_golden import constants as c
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.device import Device
from virtio_golden.driver import migrate, restore_state, run_sync, save_state
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.params import Params
from virtio_golden.ring import u16

pytestmark = pytest.mark.model

MODES = (SuspendMode.V14, SuspendMode.RFC)
QUEUES = [(64, 0), (64, 1)]        # (size, MSI-X vector) of queues 0 and 1
CHAINS_ON_A = 30
HELD = c.DEFAULT_FETCH_AHEAD       # chains per queue A holds in flight at the suspend
STRAGGLERS = 3                     # chains per queue posted after those, which A cannot take (rule 8.1)
CHAINS_ON_B = 120
BACKEND_HOLD = (10**6, 10**6)      # a latency only be_quiesce cuts short (rule 8.11)


class Pair:
    """Source A and target B on one guest memory and one guest allocator, each with its own reference driver."""

    def __init__(self, mode: SuspendMode, rng):
        seeds = [rng.randrange(1 << 30) for _ in range(4)]
        print(f"device/backend seeds A={seeds[0]}/{seeds[1]} B={seeds[2]}/{seeds[3]}")
        params = Params(SUSPEND_MODE=int(mode))
        self.mem = GuestMem()
        alloc = MemAllocator(GUEST_BASE, GUEST_LIMIT)
        self.a = Device(params, mem=self.mem, backend=BackendModel(seeds[1], latency=(3, 30), reorder=True),
                        seed=seeds[0])
        self.b = Device(params, mem=self.mem, backend=BackendModel(seeds[3], latency=(0, 10), reorder=True),
                        seed=seeds[2])
        self.drv_a = make_driver(self.a, alloc)
        self.drv_b = make_driver(self.b, alloc)
        self.ledger = Ledger(rng)

    def start_a(self, start_index: int = 0) -> list:
        """Start A with both queues' counters and rings at `start_index` (SUS-19 window 1)."""
        async def start():
            await self.drv_a.reset()
            await self.drv_a.init()
            rings = [await self.drv_a.setup_queue(q, size, vector, state=(start_index, start_index))
                     for q, (size, vector) in enumerate(QUEUES)]
            await self.drv_a.driver_ok()
            return rings
        return run_sync(start())

    def leave_chains_in_flight(self, rings: list) -> None:
        """Make A hold FETCH_AHEAD chains per queue in flight (its backend now answers only under be_quiesce),
        then post stragglers without a kick: A cannot take them, so they stay in the ring (SUS-06)."""
        self.a.backend.latency = BACKEND_HOLD
        for vq in rings:
            for _ in range(HELD):
                assert self.ledger.post(vq)
            run_sync(self.drv_a.kick(vq.index))
        step_until(self.a, lambda: all(self.a.core.in_flight(vq.index) == HELD for vq in rings))
        for vq in rings:
            for _ in range(STRAGGLERS):
                assert self.ledger.post(vq)


@pytest.mark.parametrize("case", range(3))
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_migration_with_chains_in_flight_then_traffic_across_the_wrap_on_the_target(mode, case, rng):
    pair = Pair(mode, rng)
    start = u16(-(CHAINS_ON_A + HELD + STRAGGLERS + rng.randint(8, 40)))  # wraps only once B runs
    rings = pair.start_a(start)
    run_sync(pump(pair.drv_a, rings, pair.ledger, CHAINS_ON_A))
    pair.leave_chains_in_flight(rings)
    config = rng.randrange(1 << 32)
    pair.a.devcfg_write(4, config)

    saved = run_sync(migrate(pair.drv_a, pair.drv_b, [0, 1]))
    assert saved.device_config[4:8] == config.to_bytes(4, "little")
    assert pair.a.state == St.INIT and pair.b.state == St.RUNNING
    for snap in saved.queues:
        assert snap.avail_state == snap.used_state  # SUS-06: the drain left nothing in flight
        assert u16(snap.vq.avail_idx - snap.avail_state) == STRAGGLERS  # the stragglers stayed in the ring
    assert pair.drv_b.queues == {vq.index: vq for vq in rings}

    for vq in rings:  # the DRIVER_OK scan serves the stragglers without a kick (SUS-10)
        pair.ledger.take(run_sync(pair.drv_b.wait_used(vq, vq.outstanding)))
    run_sync(pump(pair.drv_b, rings, pair.ledger, CHAINS_ON_B))
    for vq, snap in zip(rings, saved.queues):
        if vq.avail_idx >= snap.avail_state:  # top up a ring the random traffic left short of the wrap
            run_sync(pump(pair.drv_b, [vq], pair.ledger, 0x10000 - vq.avail_idx + 4))
        assert vq.avail_idx < snap.avail_state  # the 16-bit index wrapped on B
    assert not pair.ledger.missing
    for vq in rings:
        assert run_sync(pair.drv_b.read_vq_state(vq.index)) == (vq.avail_idx, vq.last_used)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_target_first_used_write_notifies_whatever_used_event_says(mode, rng):
    """Appendix B 10, SPEC 4.6 (Q16): with EVENT_IDX the target's first used.idx write per queue notifies; later
    writes follow used_event, which the guest set far away."""
    pair = Pair(mode, rng)
    rings = pair.start_a()
    run_sync(pump(pair.drv_a, rings, pair.ledger, 10))
    saved = run_sync(save_state(pair.drv_a, [0, 1]))
    for vq in rings:
        for _ in range(3):
            assert pair.ledger.post(vq)
        far = u16(vq.last_used + 0x4000)
        pair.mem.write(vq.layout.used_event_addr, far.to_bytes(2, "little"))
    pair.b.set_msix_enable(True)
    run_sync(restore_state(pair.drv_b, saved))
    published = lambda vq: int.from_bytes(pair.mem.read(vq.layout.used_idx_addr, 2), "little")
    step_until(pair.b, lambda: all(published(vq) == vq.avail_idx for vq in rings))
    assert sorted(pair.b.irqs) == [vector for _, vector in QUEUES]
    for vq in rings:
        pair.ledger.take(vq.reap())
    assert not pair.ledger.missing


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_rollback_resumes_the_source_without_migrating(mode, rng):
    """SPEC 6.4: migration cancelled after suspend and state save; the source resumes and finishes everything."""
    pair = Pair(mode, rng)
    rings = pair.start_a()
    run_sync(pump(pair.drv_a, rings, pair.ledger, CHAINS_ON_A))
    pair.leave_chains_in_flight(rings)
    saved = run_sync(save_state(pair.drv_a, [0, 1]))
    assert pair.a.state == St.SUSPENDED
    pair.a.backend.latency = (3, 30)
    generation = run_sync(pair.drv_a.bus.read(c.CC_CONFIG_GENERATION, 1))
    pair.a.devcfg_write(0, 0xCAFE_F00D)  # latched while suspended: nothing visible changes (SUS-08)
    assert run_sync(pair.drv_a.read_device_config()) == saved.device_config
    assert run_sync(pair.drv_a.resume()) == 0x0F
    assert run_sync(pair.drv_a.bus.read(c.BAR_ISR, 1)) & c.ISR_CONFIG  # applied and notified at resume
    assert run_sync(pair.drv_a.read_device_config())[:4] == (0xCAFE_F00D).to_bytes(4, "little")
    assert run_sync(pair.drv_a.bus.read(c.CC_CONFIG_GENERATION, 1)) != generation  # SPEC 2.6
    for vq, snap in zip(rings, saved.queues):
        pair.ledger.take(run_sync(pair.drv_a.wait_used(vq, vq.outstanding)))
        assert u16(vq.last_used - snap.used_state) == STRAGGLERS  # served by the resume scan (SUS-10)
    run_sync(pump(pair.drv_a, rings, pair.ledger, CHAINS_ON_A))
    assert not pair.ledger.missing


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_queue_restored_in_running_while_disabled_then_enabled(mode, rng):
    """SUS-19 window 3, SPEC 6.3 (ENABLE_AFTER_DRIVER_OK): queue 1 gets its state after DRIVER_OK while disabled;
    enabling it scans it, so its stragglers are served without a kick, from the restored slots."""
    pair = Pair(mode, rng)
    rings = pair.start_a(start_index=0xFF00)
    run_sync(pump(pair.drv_a, rings, pair.ledger, CHAINS_ON_A))
    pair.leave_chains_in_flight(rings)
    run_sync(migrate(pair.drv_a, pair.drv_b, [0, 1], enable_after_driver_ok=[1]))
    for vq in rings:
        pair.ledger.take(run_sync(pair.drv_b.wait_used(vq, vq.outstanding)))
    run_sync(pump(pair.drv_b, rings, pair.ledger, CHAINS_ON_A))
    assert not pair.ledger.missing
    for vq in rings:
        assert run_sync(pair.drv_b.read_vq_state(vq.index)) == (vq.avail_idx, vq.last_used)
