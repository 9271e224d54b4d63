"""Live migration between two `virtio_pci_dev` instances on one guest memory (SPEC 6.2 to 6.4, SUS-18 to SUS-20,
Appendix B 10), on the pair top rtl/virtio_pci_dev_pair_tb_top.sv (testbench migration_tb.py).

test_migrate: traffic on A from restored counters just below the 16-bit wrap (with several queues, some far from it
instead, so the `migration` covergroup sees both); A is suspended with FETCH_AHEAD chains in flight per queue (its
backend answers only under be_quiesce) and stragglers posted behind them; A's vq state is read through the
registers (driver save_state); B is reset, initialized with the same features, given that state in
SUS-19 window 1 (FEATURES_OK, queue disabled), set up on the SAME rings, enabled, DRIVER_OK (restore_state; a random
subset of the queues gets its state in RUNNING while disabled instead, window 3, and is enabled after DRIVER_OK);
A is reset; traffic continues on B across the wrap. test_rollback: A suspended the same way, then resumed without
migrating (SPEC 6.4); some queues start just below the wrap. In mode RFC the driver uses the 2024 prototype's
suspend and resume writes. Each test samples the `migration` covergroup per queue (dev_coverage.py).

Every chain is used exactly once across A and B (migration_tb.Ledger: tokens; the backend requests and completions
of A and B add up to the chains posted), every used len and payload byte is the backend's answer
(DevTB.check_answers, against the backend of the device that published it), both golden-model observers judge every
event of their device, and the vq state is checked at each step: after the drain avail_state == used_state == the
published used.idx with the stragglers still in the ring; after the DRIVER_OK / enable / resume scan the counters
continue from the migrated values.
"""

import random

from virtio_golden import constants as c
from virtio_golden.driver import Driver, MigrationState, restore_state, save_state
from virtio_golden.ring import u16

from .dev_coverage import sample_migration
from .dev_tb import TIMEOUT, DevTB, held_chain_bufs, random_chain, random_plan
from .migration_tb import Ledger, MigrationTB
from .seeded import seeded_test
from .tb_common import CheckerFailure

STRAGGLERS = 2                   # chains per queue posted behind the held ones, without a kick (SUS-06)
HOLD = (10**7, 10**7)            # a backend latency only be_quiesce cuts short (rule 8.11)
NORMAL = (0, 40)


async def bring_up(dev: DevTB, rng: random.Random, starts: dict) -> tuple:
    """Reset and start `dev` with queue q's counters and ring indices at `starts[q]` (SUS-19 window 1)."""
    await dev.set_msix(rng.random() < 0.7)
    driver = dev.driver()
    size = min(rng.choice([32, 64]), dev.params.QUEUE_SIZE_MAX)
    plan = dev.queue_plan(size)
    rings = await dev.start(driver, plan, states={q: (starts[q], starts[q]) for q in range(len(plan))})
    return driver, rings


async def traffic(dev: DevTB, driver: Driver, rings: list, ledger: Ledger, rng: random.Random, chains: dict) -> None:
    """`chains[q]` random chains on each queue, in rounds of a few: post, kick, reap them all."""
    left = dict(chains)
    while any(left.values()):
        posted = {}
        for vq in rings:
            plan = random_plan(rng, vq, min(left[vq.index], rng.randint(1, 6)))
            for readable, writable, options in plan:
                ledger.post(vq, readable, writable, **options)
            left[vq.index] -= len(plan)
            posted[vq.index] = len(plan)
            if plan:
                await driver.kick(vq.index)
        for vq in rings:
            if posted[vq.index]:
                await ledger.reap(dev, driver, vq, posted[vq.index])


async def hold_in_flight(dev: DevTB, driver: Driver, rings: list, ledger: Ledger, rng: random.Random) -> None:
    """FETCH_AHEAD chains per queue taken and requested, none answered; then STRAGGLERS more per queue without a
    kick, which the device cannot take (its chain slots are full) and which therefore stay in the ring."""
    dev.backend.latency = HOLD
    held = dev.params.FETCH_AHEAD * len(rings)
    max_bufs = held_chain_bufs(dev.params, held)
    for vq in rings:
        for _ in range(dev.params.FETCH_AHEAD):
            ledger.post(vq, *random_chain(rng, max_bufs=max_bufs, max_len=200))
        await driver.kick(vq.index)
    await dev.wait_for(lambda: dev.backend.outstanding == held, f"{held} backend requests in flight")
    for vq in rings:
        for _ in range(STRAGGLERS):
            ledger.post(vq, *random_chain(rng, max_bufs=2, max_len=200))
    await dev.cycles(rng.randint(0, 200))


async def suspend_and_save(tb_dev: DevTB, driver: Driver, rings: list, ledger: Ledger) -> MigrationState:
    """SUSPEND (drain), vq state and device config read through the registers; the drained chains reaped from the
    source; the state checked against the rings (SUS-06 invariant, SUS-18)."""
    saved = await save_state(driver, [vq.index for vq in rings])
    for vq, snap in zip(rings, saved.queues):
        used = ledger.reap_now(tb_dev, vq)
        assert len(used) == tb_dev.params.FETCH_AHEAD, \
            f"queue {vq.index}: {len(used)} chains published by the drain, {tb_dev.params.FETCH_AHEAD} were in flight"
        assert snap.avail_state == snap.used_state == vq.last_used, \
            f"queue {vq.index}: vq state {snap.avail_state:#06x}/{snap.used_state:#06x} after the drain, used.idx " \
            f"{vq.last_used:#06x}"
        assert u16(vq.avail_idx - snap.avail_state) == STRAGGLERS, \
            f"queue {vq.index}: avail_state {snap.avail_state:#06x}, avail.idx {vq.avail_idx:#06x}: the stragglers " \
            f"must stay in the ring"
    return saved


async def check_counters(driver: Driver, rings: list) -> None:
    for vq in rings:
        state = await driver.read_vq_state(vq.index)
        assert state == (vq.avail_idx, vq.last_used), \
            f"queue {vq.index}: vq state {state[0]:#06x}/{state[1]:#06x}, the rings say " \
            f"{vq.avail_idx:#06x}/{vq.last_used:#06x}"


def check_exactly_once(tb: MigrationTB, ledger: Ledger, rings: list) -> None:
    if ledger.missing:
        raise CheckerFailure(f"exactly-once: tokens {ledger.missing[:8]} were never used")
    for event in ("request", "completion"):  # each chain went to exactly one backend, once
        seen = [dev.monitor.counts[event] for dev in (tb.a, tb.b)]
        if sum(seen) != ledger.total:
            raise CheckerFailure(f"exactly-once: {ledger.total} chains posted, backend {event}s: A {seen[0]}, "
                                 f"B {seen[1]}")
    if any(vq.outstanding for vq in rings):
        raise CheckerFailure(f"exactly-once: chains still outstanding {[vq.outstanding for vq in rings]}")


def some_queues(rng: random.Random, count: int, chance: float) -> set:
    """A random subset of the queues; with more than one queue, a proper non-empty one (both kinds seen)."""
    if count == 1:
        return {0} if rng.random() < chance else set()
    return set(rng.sample(range(count), rng.randint(1, count - 1)))


def far_from_wrap(rng: random.Random) -> int:
    return rng.randint(0x100, 0x7F00)


def sample_queues(kind: str, tb_dev: DevTB, rings: list, starts: dict, late: set) -> None:
    """The `migration` covergroup, per queue: the SUS-19 window of its state, whether its indices wrapped."""
    for vq in rings:
        sample_migration(kind, tb_dev.params.mode.name, 3 if vq.index in late else 1,
                         vq.avail_idx < starts[vq.index])


@seeded_test(**TIMEOUT)
async def test_migrate(dut, rng):
    tb = MigrationTB(dut, rng)
    await tb.reset()
    ledger = Ledger()
    on_a = rng.randint(6, 14)
    queues = tb.a.params.NUM_QUEUES
    wrapping = some_queues(rng, queues, 1.0)  # start near the wrap, crossed only once B runs; the others far from it
    near_wrap = u16(-(on_a + tb.a.params.FETCH_AHEAD + STRAGGLERS + rng.randint(4, 12)))
    starts = {q: near_wrap if q in wrapping else far_from_wrap(rng) for q in range(queues)}
    drv_a, rings = await bring_up(tb.a, rng, starts)
    await traffic(tb.a, drv_a, rings, ledger, rng, {vq.index: on_a for vq in rings})
    await hold_in_flight(tb.a, drv_a, rings, ledger, rng)
    saved = await suspend_and_save(tb.a, drv_a, rings, ledger)
    await tb.a.cycles(rng.randint(20, 300))  # the monitors watch the suspended source

    tb.restore_faulty(saved)
    await tb.b.set_msix(rng.random() < 0.7)
    for vq in rings:
        tb.b.track(vq)
    drv_b = tb.b.driver()
    late = some_queues(rng, len(rings), 0.3)  # SPEC 6.3 ENABLE_AFTER_DRIVER_OK: SUS-19 window 3
    dut._log.info("migration: queues %s restored and enabled after DRIVER_OK", late)
    await restore_state(drv_b, saved, enable_after_driver_ok=late)
    await drv_a.reset()  # SPEC 6.2 step 4
    for vq in rings:  # the DRIVER_OK / enable scan serves the stragglers without a kick (SUS-10), from saved slots
        await ledger.reap(tb.b, drv_b, vq, STRAGGLERS)
    await check_counters(drv_b, rings)

    tb.b.backend.latency = NORMAL
    await traffic(tb.b, drv_b, rings, ledger, rng, {vq.index: (u16(-vq.avail_idx) if vq.index in wrapping else 0)
                                                    + rng.randint(2, 10) for vq in rings})
    for vq in rings:
        start = starts[vq.index]
        assert (vq.avail_idx < start and vq.last_used < start) == (vq.index in wrapping), \
            f"queue {vq.index}: the 16-bit indices {'did not wrap' if vq.index in wrapping else 'wrapped'} on B"
    await check_counters(drv_b, rings)
    for vq in rings:
        assert await drv_a.read_vq_state(vq.index) == (0, 0), "the source's counters survive its reset (SUS-19)"
    check_exactly_once(tb, ledger, rings)
    sample_queues("migrate", tb.b, rings, starts, late)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_rollback(dut, rng):
    tb = MigrationTB(dut, rng)
    await tb.reset()
    ledger = Ledger()
    queues = tb.a.params.NUM_QUEUES
    wrapping = some_queues(rng, queues, 1.0)  # within their first few chains
    starts = {q: u16(-rng.randint(1, 3)) if q in wrapping else far_from_wrap(rng) for q in range(queues)}
    drv_a, rings = await bring_up(tb.a, rng, starts)
    await traffic(tb.a, drv_a, rings, ledger, rng, {vq.index: rng.randint(4, 12) for vq in rings})
    await hold_in_flight(tb.a, drv_a, rings, ledger, rng)
    await suspend_and_save(tb.a, drv_a, rings, ledger)
    await tb.a.cycles(rng.randint(20, 300))

    tb.a.backend.latency = NORMAL
    shown = await drv_a.resume()  # SPEC 6.4: cancelled, the source resumes
    assert shown & (c.S_SUSPEND | c.S_DRIVER_OK) == c.S_DRIVER_OK, f"device_status {shown:#04x} after the resume"
    for vq in rings:  # the resume scan serves the stragglers without a kick (SUS-10)
        await ledger.reap(tb.a, drv_a, vq, STRAGGLERS)
    await check_counters(drv_a, rings)
    await traffic(tb.a, drv_a, rings, ledger, rng, {vq.index: rng.randint(4, 12) for vq in rings})
    await check_counters(drv_a, rings)
    check_exactly_once(tb, ledger, rings)
    sample_queues("rollback", tb.a, rings, starts, set())
    await tb.finish()
