"""Per-queue behaviour of `virtio_core`: the vq-state registers (SUS-18, SUS-19, SUS-20), queue reset around suspend
(SUS-17, SPEC 4.8, B7), kicks (rule 8.7, SUS-10, B5) and SUSPENDED_CFG_LOCK (B26).

The register tests run under the golden-model scoreboard; `test_live_counters` moves the counters through the
engine ports (avail_take, used_publish), which the model has no events for, so it checks the read-backs itself.
"""

import random

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St

from .core_tb import TIMEOUT, CoreTB, value_of
from .seeded import seeded_test

RESUMING_MARGIN = 10  # cycles a register access takes without backpressure, with room to spare


def ring_reset_offered(tb: CoreTB) -> bool:
    return tb.params.offers(c.F_RING_RESET)


async def enable_queues(tb: CoreTB, queues) -> None:
    for q in queues:
        await tb.select(q)
        await tb.write(c.CC_QUEUE_DESC_LO, 0x1000 * (q + 1))
        await tb.write(c.CC_QUEUE_ENABLE, 1, 2)


async def write_vq_state(tb: CoreTB, rng: random.Random, q: int) -> None:
    """Both vq-state fields of queue q: one 32-bit write, or two 16-bit ones."""
    await tb.select(q)
    if rng.random() < 0.5:
        await tb.write(c.CC_QUEUE_AVAIL_STATE, rng.getrandbits(32))
    else:
        await tb.write(c.CC_QUEUE_AVAIL_STATE, rng.getrandbits(16), 2)
        await tb.write(c.CC_QUEUE_USED_STATE, rng.getrandbits(16), 2)
    await tb.read(c.CC_QUEUE_AVAIL_STATE)


@seeded_test(**TIMEOUT)
async def test_vq_state_windows(dut, rng: random.Random) -> None:
    """SUS-19, B10: the vq-state registers take writes only in INIT with FEATURES_OK for a disabled queue, in
    SUSPENDED (not with SUSPENDED_CFG_LOCK) and in RUNNING for a disabled queue; every other write is dropped;
    queue_enable and resume load nothing (the values stay). With VQ_STATE_REGS = 0 the offsets are unused."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    last = p.NUM_QUEUES - 1
    await tb.negotiate(features_ok=False)
    await write_vq_state(tb, rng, 0)  # INIT before FEATURES_OK: dropped
    await tb.write_status(0x0B)
    for q in range(p.NUM_QUEUES):
        await write_vq_state(tb, rng, q)  # window 1
    await enable_queues(tb, range(max(last, 1)))
    await write_vq_state(tb, rng, 0)  # INIT, queue enabled: dropped
    await tb.write_status(0x0F)
    await write_vq_state(tb, rng, 0)  # RUNNING, enabled: dropped
    await write_vq_state(tb, rng, last)  # RUNNING, disabled: window 3 (dropped if the only queue is enabled)
    for state in (St.SUSPENDING, St.SUSPENDED, St.RESUMING):
        if state == St.SUSPENDING:
            tb.engine.hold_drain = True
            await tb.write_status(0x1F)
        elif state == St.SUSPENDED:
            tb.engine.hold_drain = False
            await tb.poll_status(lambda s: s & c.S_SUSPEND)
        else:
            tb.set_backpressure(False)
            await tb.write_status(await tb.status() | c.S_DRIVER_OK)
        if state != St.RESUMING or tb.resuming_cycles_left() > 3 * RESUMING_MARGIN:
            await write_vq_state(tb, rng, 0)  # window 2 in SUSPENDED only
        tb.set_backpressure(True)
    await tb.settle()
    await tb.read_common()  # the counters were not reloaded by the resume
    await tb.fault_inj()
    await write_vq_state(tb, rng, last)  # HALTED: dropped
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_live_counters(dut, rng: random.Random) -> None:
    """SUS-19: queue_avail_state / queue_used_state are the live counters the engine moves (avail_take,
    used_publish), read back through 0x40 / 0x42 in every state; neither queue_enable nor resume reloads them;
    queue reset and device reset zero them. With VQ_STATE_REGS = 0 the offsets read 0 while the counters run."""
    tb = CoreTB(dut, rng, scoreboard=False)
    tb.engine.take_work = False
    await tb.reset()
    p = tb.params
    expected = [[0, 0] for _ in range(p.NUM_QUEUES)]

    async def check(q: int) -> None:
        await tb.select(q)
        q = await tb.read(c.CC_QUEUE_SELECT, 2)  # SUSPENDED_CFG_LOCK drops the select in SUSPENDED (B26)
        shown = await tb.read(c.CC_QUEUE_AVAIL_STATE)
        ports = [value_of(dut.last_avail_idx) >> 16 * q & 0xFFFF, value_of(dut.shadow_used_idx) >> 16 * q & 0xFFFF]
        assert ports == expected[q], f"queue {q}: counters {ports}, expected {expected[q]}"
        assert shown == (ports[1] << 16 | ports[0] if p.VQ_STATE_REGS else 0)

    async def move(q: int) -> None:
        for _ in range(rng.randint(1, 5)):
            tb.engine.take(q)
            await tb.cycles(1)
            expected[q][0] = expected[q][0] + 1 & 0xFFFF
        used = rng.getrandbits(16)
        tb.engine.publish(q, used)
        await tb.cycles(2)
        expected[q][1] = used
        await check(q)

    await tb.negotiate()
    if p.VQ_STATE_REGS:
        await tb.select(0)
        await tb.write(c.CC_QUEUE_AVAIL_STATE, 0xFFFE_FFFF)  # window 1; the next take wraps to 0
        expected[0] = [0xFFFF, 0xFFFE]
    await enable_queues(tb, range(p.NUM_QUEUES))
    await check(0)  # queue_enable loaded nothing
    await tb.write_status(0x0F)
    for q in range(p.NUM_QUEUES):
        await move(q)
    await tb.write_status(0x1F)
    await tb.poll_status(lambda s: s & c.S_SUSPEND)
    if p.VQ_STATE_REGS and not p.SUSPENDED_CFG_LOCK:
        await tb.select(0)
        await tb.write(c.CC_QUEUE_USED_STATE, 0x1234, 2)  # window 2
        expected[0][1] = 0x1234
    await check(0)
    await tb.write_status(await tb.status() | c.S_DRIVER_OK)
    await tb.wait_state(St.RUNNING, limit=p.RESUME_LATENCY + 8)
    for q in range(p.NUM_QUEUES):
        await check(q)  # resume loaded nothing
        await move(q)
    if ring_reset_offered(tb):
        await tb.select(0)
        await tb.write(c.CC_QUEUE_RESET, 1, 2)
        await tb.wait_state(St.RUNNING)
        while await tb.read(c.CC_QUEUE_RESET, 2):
            pass
        expected[0] = [0, 0]
        await check(0)
    await tb.write_status(0)
    expected = [[0, 0] for _ in range(p.NUM_QUEUES)]
    for q in range(p.NUM_QUEUES):
        await check(q)
    await tb.finish()


async def queue_reset_reads(tb: CoreTB, q: int) -> tuple:
    await tb.select(q)
    return await tb.read(c.CC_QUEUE_RESET, 2), await tb.read(c.CC_QUEUE_ENABLE, 2)


@seeded_test(**TIMEOUT)
async def test_queue_reset(dut, rng: random.Random) -> None:
    """SUS-17, SPEC 4.8, B7: queue_reset = 1 in RUNNING and HALTED reads 1 until the engine's qreset_done, then 0 in
    queue_reset and queue_enable; in INIT and SUSPENDED it is done at once (no DMA: the engine only forgets the queue);
    in SUSPENDING and RESUMING it is latched (reads 1) and done at SUSPENDED / RUNNING entry or at HALTED entry.
    Without RING_RESET negotiated the write is ignored and the field reads 0."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    last = p.NUM_QUEUES - 1

    async def reset_queue(q: int) -> None:
        await tb.select(q)
        await tb.write(c.CC_QUEUE_RESET, 1, 2)

    async def running_with_queues() -> None:
        await tb.negotiate()
        await enable_queues(tb, range(p.NUM_QUEUES))
        for q in range(p.NUM_QUEUES):
            await write_vq_state(tb, rng, q)  # dropped (enabled); the queue state is still checked at the reset
        await tb.write_status(0x0F)

    # Without RING_RESET negotiated: ignored.
    await tb.negotiate(p.DEVICE_FEATURES & ~(1 << c.F_RING_RESET))
    await enable_queues(tb, [0])
    await reset_queue(0)
    assert await queue_reset_reads(tb, 0) == (0, 1)
    if not ring_reset_offered(tb):
        await tb.finish()
        return

    # INIT: at once.
    await tb.negotiate()
    await enable_queues(tb, [last])
    await reset_queue(last)
    assert await queue_reset_reads(tb, last) == (0, 0)

    # RUNNING and HALTED: until qreset_done (Linux polls queue_reset, then queue_enable).
    for halted in (False, True):
        await running_with_queues()
        if halted:
            await tb.fault_inj()
        await reset_queue(0)
        while (await queue_reset_reads(tb, 0))[0]:
            pass
        assert await queue_reset_reads(tb, 0) == (0, 0)
        await tb.read_common()

    # SUSPENDED: at once.
    await running_with_queues()
    await tb.write_status(0x1F)
    await tb.poll_status(lambda s: s & c.S_SUSPEND)
    await reset_queue(0)
    await tb.read_common()

    # SUSPENDING: latched until SUSPENDED, or until HALTED entry.
    for abort in (False, True):
        await running_with_queues()
        tb.engine.hold_drain = True
        await tb.write_status(0x1F)
        await reset_queue(last)
        assert (await queue_reset_reads(tb, last))[0] == 1
        if abort:
            await tb.fault_inj()
        tb.engine.hold_drain = False
        await tb.wait_state(St.SUSPENDED, St.HALTED)
        await tb.status()
        while (await queue_reset_reads(tb, last))[0]:  # done at HALTED entry via the engine (SPEC 4.8)
            pass
        await tb.read_common()

    # RESUMING: latched until RUNNING (or INIT for mode RFC's resume before DRIVER_OK).
    if p.RESUME_LATENCY > 3 * RESUMING_MARGIN:
        await running_with_queues()
        await tb.write_status(0x1F)
        shown = await tb.poll_status(lambda s: s & c.S_SUSPEND)
        tb.set_backpressure(False)
        await tb.write_status(shown | c.S_DRIVER_OK)
        await reset_queue(0)
        locked = p.SUSPENDED_CFG_LOCK  # the lock drops the write in RESUMING (B26)
        assert (await queue_reset_reads(tb, 0))[0] == (not locked) and tb.state == St.RESUMING
        tb.set_backpressure(True)
        await tb.settle()
        assert await queue_reset_reads(tb, 0) == (0, locked)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_kicks(dut, rng: random.Random) -> None:
    """Rule 8.7, SUS-10, B5: a write to 0x200 + 4q with byte lane 0 kicks queue q if it is enabled: kick_pending is
    latched in INIT, RUNNING, SUSPENDING, SUSPENDED and RESUMING and ignored in HALTED; kicks to a disabled queue,
    past num_queues or without lane 0 do nothing; `kick_clear` clears it."""
    tb = CoreTB(dut, rng)
    tb.engine.serve_kicks = False
    await tb.reset()
    p = tb.params
    last = p.NUM_QUEUES - 1

    async def kicked(q: int, strb: int = 0x3) -> bool:
        await tb.write_strobed(c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * q, q, strb)
        await tb.cycles(1)
        pending = value_of(dut.kick_pending) >> q & 1
        tb.engine.clear_kick(q)  # the engine reads avail.idx
        await tb.cycles(2)
        assert not value_of(dut.kick_pending) >> q & 1, "kick_clear clears kick_pending"
        return bool(pending)

    await tb.negotiate()
    await enable_queues(tb, [0])
    assert await kicked(0)  # INIT: latched for the scan at DRIVER_OK
    assert not await kicked(0, strb=0xC)  # lane 0 not strobed
    if last:
        assert not await kicked(last)  # disabled queue
    await tb.write_strobed(c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * p.NUM_QUEUES, 0, 0xF)  # past num_queues
    await tb.write_status(0x0F)
    assert await kicked(0)
    tb.engine.hold_drain = True
    await tb.write_status(0x1F)
    assert await kicked(0)  # SUSPENDING
    tb.engine.hold_drain = False
    shown = await tb.poll_status(lambda s: s & c.S_SUSPEND)
    assert await kicked(0)  # SUSPENDED
    if p.RESUME_LATENCY > 3 * RESUMING_MARGIN:
        tb.set_backpressure(False)
        await tb.write_status(shown | c.S_DRIVER_OK)
        assert tb.state == St.RESUMING and await kicked(0)
        tb.set_backpressure(True)
    await tb.settle()
    await tb.fault_inj()
    assert not await kicked(0)  # HALTED
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_cfg_lock(dut, rng: random.Random) -> None:
    """SUS-17, rule 8.6, B26: in SUSPENDED and RESUMING, with SUSPENDED_CFG_LOCK = 1 every write but device_status is
    dropped (selectors, queue_reset and vq state included) while kicks still latch and resume works; without the
    lock the selectors, queue_reset and the vq state stay writable in SUSPENDED. The model judges every read-back."""
    tb = CoreTB(dut, rng)
    tb.engine.serve_kicks = False
    await tb.reset()
    p = tb.params
    await tb.negotiate()
    await enable_queues(tb, range(p.NUM_QUEUES))
    await tb.write_status(0x0F)
    await tb.write_status(0x1F)
    shown = await tb.poll_status(lambda s: s & c.S_SUSPEND)
    accesses = [lambda: tb.write(c.CC_DEVICE_FEATURE_SELECT, 1), lambda: tb.write(c.CC_DRIVER_FEATURE_SELECT, 1),
                lambda: tb.write(c.CC_QUEUE_SELECT, p.NUM_QUEUES - 1, 2),
                lambda: tb.write(c.CC_QUEUE_AVAIL_STATE, rng.getrandbits(32)), lambda: tb.kick(0),
                lambda: tb.write(c.CC_QUEUE_RESET, 1, 2), lambda: tb.read(c.CC_DEVICE_FEATURE_SELECT),
                lambda: tb.read(c.CC_DEVICE_STATUS), lambda: tb.read(c.CC_QUEUE_AVAIL_STATE)]
    for phase in ("suspended", "resuming"):
        if phase == "resuming":
            tb.set_backpressure(False)
            await tb.write_status(shown | c.S_DRIVER_OK)
        for access in accesses:
            if phase == "resuming" and tb.resuming_cycles_left() < RESUMING_MARGIN:
                break
            await access()
        if phase == "suspended":
            assert value_of(dut.kick_pending) & 1, "kicks latch whatever the lock"
    tb.set_backpressure(True)
    await tb.settle()
    assert tb.state == St.RUNNING
    await tb.read_common()
    await tb.finish()
