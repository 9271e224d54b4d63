"""Interrupts and configuration changes of `virtio_core`: the deferred configuration-change interrupt and
config_generation (SUS-08, SUS-09, SPEC 2.6, rule 8.10, B6, B24), delivery of used notifications (SPEC 5.1), and
silence while suspended (SUS-25, SUS-12).

`test_config_change` and `test_suspended_silence` run under the golden-model scoreboard, which judges every
interrupt, every INTx edge and every read-back; the used-notification tests drive the engine's `used_notify_*`
port, which the model has no events for, so they check the interrupt stream themselves.
"""

import random

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode

from .core_tb import TIMEOUT, CoreTB, is_high
from .seeded import seeded_test

RESUMING_MARGIN = 10


async def devcfg_change(tb: CoreTB, rng: random.Random, count: int = 1) -> None:
    """Device-side changes of random words of the device-specific configuration (two low address bits random)."""
    for _ in range(count):
        await tb.devcfg_write(rng.randrange(tb.params.DEV_CFG_SIZE) | rng.randrange(4), rng.getrandbits(32))


async def driver_devcfg_write(tb: CoreTB, rng: random.Random) -> None:
    """A driver write to the device-specific configuration (words 0 and 1 are read-only to the driver)."""
    await tb.write_strobed(c.BAR_DEVICE_CFG + rng.randrange(0, tb.params.DEV_CFG_SIZE, 4), rng.getrandbits(32),
                           rng.randrange(1, 16))


async def generation_check(tb: CoreTB) -> None:
    """config_generation, two device-config reads (the first one after a change steps it), config_generation."""
    await tb.read(c.CC_CONFIG_GENERATION, 1)
    await tb.read_devcfg()
    await tb.read_devcfg()
    await tb.read(c.CC_CONFIG_GENERATION, 1)


@seeded_test(**TIMEOUT)
async def test_config_change(dut, rng: random.Random) -> None:
    """Rule 8.10, SUS-08, SUS-09, SPEC 2.6, B6, B24, with MSI-X off and on: a device-side change is applied silently
    in INIT, applied and notified in RUNNING and SUSPENDING, latched in SUSPENDED, RESUMING and HALTED (two changes
    coalesce into one interrupt at resume, none at a reset or a mode-RFC resume to INIT); the first device-config
    read after an applied change steps config_generation, also in SUSPENDED and after a reset; reads past
    DEV_CFG_SIZE and driver writes do not count; driver writes are dropped outside INIT and RUNNING."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    for msix in (False, True):
        await tb.set_msix(msix)
        tb.config_vector = p.MSIX_VECTORS - 1 if msix else None  # queue 0 uses vector 0
        await tb.negotiate()
        await devcfg_change(tb, rng)  # INIT: applied, cfg_dirty, no interrupt
        await driver_devcfg_write(tb, rng)
        await generation_check(tb)
        await tb.select(0)
        await tb.write(c.CC_QUEUE_MSIX_VECTOR, 0, 2)
        await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
        await tb.write_status(0x0F)
        await devcfg_change(tb, rng, 2)  # RUNNING: two interrupts
        await driver_devcfg_write(tb, rng)
        await tb.read(c.BAR_DEVICE_CFG + p.DEV_CFG_SIZE)  # past the window: reads 0, does not count
        await generation_check(tb)
        tb.engine.hold_drain = True
        await tb.write_status(0x1F)
        await devcfg_change(tb, rng)  # SUSPENDING: applied and notified
        await driver_devcfg_write(tb, rng)  # dropped (SUS-09)
        tb.engine.hold_drain = False
        shown = await tb.poll_status(lambda s: s & c.S_SUSPEND)
        await generation_check(tb)  # the change made in SUSPENDING shows a new generation in SUSPENDED
        await devcfg_change(tb, rng, 2)  # SUSPENDED: latched, coalesced, registers unchanged
        await driver_devcfg_write(tb, rng)
        await generation_check(tb)
        tb.set_backpressure(False)
        await tb.write_status(shown | c.S_DRIVER_OK)
        if tb.resuming_cycles_left() > RESUMING_MARGIN:
            await devcfg_change(tb, rng)  # RESUMING: latched with the others
        tb.set_backpressure(True)
        await tb.settle()  # resume completion: one interrupt for all of them
        await tb.irq_quiet()
        await generation_check(tb)
        await tb.fault_inj()  # HALTED, with the NEEDS_RESET configuration interrupt
        await devcfg_change(tb, rng, 2)  # latched until the reset
        await driver_devcfg_write(tb, rng)
        await tb.irq_quiet()
        await tb.write_status(0)  # applied silently; the first read shows a new generation
        await generation_check(tb)
        if tb.mode == SuspendMode.RFC:
            await tb.to_suspended(before_driver_ok=True)
            await devcfg_change(tb, rng)
            await tb.write_status(0x0B)  # resume to INIT: applied with cfg_dirty, no interrupt
            await tb.settle()
            await generation_check(tb)
        await tb.irq_quiet()
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_suspended_silence(dut, rng: random.Random) -> None:
    """SUS-25, SUS-07, B24: ISR bits set before the suspend keep their level in SUSPENDED and INTx follows them and
    msix_enable; reading ISR still clears; no interrupt starts while SUSPENDED (the SUS-25 monitor), the deferred
    change is notified at resume."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.to_running()
    await devcfg_change(tb, rng)  # ISR bit 1, INTx
    await tb.write_status(0x1F)
    shown = await tb.poll_status(lambda s: s & c.S_SUSPEND)
    assert is_high(dut.intx)
    await tb.set_msix(True)
    await tb.set_msix(False)
    await devcfg_change(tb, rng)
    await tb.cycles(4)
    assert await tb.read_isr() == c.ISR_CONFIG
    await devcfg_change(tb, rng)
    assert await tb.read_isr() == 0 and not is_high(dut.intx)
    await tb.write_status(shown | c.S_DRIVER_OK)
    await tb.settle()
    await tb.finish()


async def used_notify(tb: CoreTB, queue: int) -> None:
    """The engine hands one used notification over; returns once the core has accepted it."""
    accepted = tb.engine.notified
    tb.engine.notify(queue)
    while tb.engine.notified == accepted:
        await tb.cycles(1)
    await tb.cycles(2)


@seeded_test(**TIMEOUT)
async def test_used_notify_routing(dut, rng: random.Random) -> None:
    """SPEC 5.1: a used notification in RUNNING sets ISR bit 0 and INTx with MSI-X disabled, and is one message
    {queue_msix_vector[q]} with MSI-X enabled (nothing for NO_VECTOR, nothing for a queue past num_queues);
    configuration messages waiting go before used ones. SUS-25: in INIT, SUSPENDED and RESUMING the core accepts
    and drops it (no message, no ISR bit)."""
    tb = CoreTB(dut, rng, scoreboard=False)
    tb.set_backpressure(False)
    await tb.reset()
    p = tb.params
    vectors = [q % p.MSIX_VECTORS for q in range(p.NUM_QUEUES)]
    await tb.negotiate()
    for q, vector in enumerate(vectors):
        await tb.select(q)
        await tb.write(c.CC_QUEUE_MSIX_VECTOR, vector, 2)
        await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
    config_vector = p.MSIX_VECTORS - 1
    await tb.write(c.CC_CONFIG_MSIX_VECTOR, config_vector, 2)

    await used_notify(tb, 0)  # INIT: dropped
    assert await tb.read_isr() == 0 and not tb.monitor.irqs
    await tb.write_status(0x0F)
    await used_notify(tb, p.NUM_QUEUES - 1)
    assert is_high(dut.intx) and await tb.read_isr() == c.ISR_QUEUE and not tb.monitor.irqs
    await used_notify(tb, p.NUM_QUEUES)  # past num_queues: dropped
    assert await tb.read_isr() == 0

    await tb.set_msix(True)
    for q, vector in enumerate(vectors):
        await used_notify(tb, q)
    await tb.irq_quiet()
    assert tb.monitor.irqs == vectors and await tb.read_isr() == 0
    await tb.negotiate()
    await tb.select(0)
    await tb.write(c.CC_QUEUE_ENABLE, 1, 2)  # queue_msix_vector is NO_VECTOR after the reset
    await tb.write(c.CC_CONFIG_MSIX_VECTOR, config_vector, 2)
    await tb.write_status(0x0F)
    tb.monitor.irqs.clear()
    await used_notify(tb, 0)
    await tb.irq_quiet()
    assert not tb.monitor.irqs and await tb.read_isr() == 0

    # Order: with irq_ready held low, a used message is offered, then a configuration change and a second used
    # notification wait; the configuration message goes first once the endpoint accepts again.
    await tb.select(0)
    await tb.write_status(0)
    await tb.negotiate()
    for q, vector in enumerate(vectors):
        await tb.select(q)
        await tb.write(c.CC_QUEUE_MSIX_VECTOR, vector, 2)
        await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
    await tb.write(c.CC_CONFIG_MSIX_VECTOR, config_vector, 2)
    await tb.write_status(0x0F)
    tb.monitor.irqs.clear()
    tb.hold_irq(True)
    await used_notify(tb, 0)
    await tb.devcfg_write(0, rng.getrandbits(32))
    tb.engine.notify(p.NUM_QUEUES - 1)
    await tb.cycles(rng.randint(2, 10))
    tb.hold_irq(False)
    await tb.irq_quiet()
    assert tb.monitor.irqs == [vectors[0], config_vector, vectors[-1]], f"message order {tb.monitor.irqs}"
    assert await tb.read_isr() == c.ISR_CONFIG  # set with MSI-X too (SPEC 5.1)

    await tb.write_status(0x1F)
    await tb.poll_status(lambda s: s & c.S_SUSPEND)
    tb.monitor.irqs.clear()
    for q in range(p.NUM_QUEUES):
        await used_notify(tb, q)  # SUSPENDED: dropped (the SUS-25 monitor watches too)
    if p.RESUME_LATENCY > 4 * RESUMING_MARGIN:
        await tb.write_status(0x1F)
        assert tb.state == St.RESUMING
        await used_notify(tb, 0)  # RESUMING: dropped
        await tb.wait_state(St.RUNNING, limit=p.RESUME_LATENCY + 8)
    await tb.set_msix(False)
    assert not tb.monitor.irqs and await tb.read_isr() == 0
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_aborted_drain_notifications(dut, rng: random.Random) -> None:
    """SUS-12, SUS-21: a drain aborted by NEEDS_RESET keeps `stop_req` high in HALTED until the engine reports
    `stopped`; the forced used notifications handed over meanwhile are delivered, and only then the single
    configuration interrupt; a drain aborted by FAILED drops `stop_req` and sends nothing."""
    tb = CoreTB(dut, rng, scoreboard=False)
    tb.set_backpressure(False)
    await tb.reset()
    p = tb.params
    config_vector = p.MSIX_VECTORS - 1
    for cause in ("fault", "failed"):
        await tb.set_msix(True)
        await tb.negotiate()
        for q in range(p.NUM_QUEUES):
            await tb.select(q)
            await tb.write(c.CC_QUEUE_MSIX_VECTOR, q % p.MSIX_VECTORS, 2)
            await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
        await tb.write(c.CC_CONFIG_MSIX_VECTOR, config_vector, 2)
        await tb.write_status(0x0F)
        tb.engine.hold_drain = True
        await tb.write_status(0x1F)
        tb.monitor.irqs.clear()
        if cause == "fault":
            await tb.fault_inj()
            await tb.cycles(2)
            assert tb.state == St.HALTED and is_high(dut.stop_req)
            await used_notify(tb, 0)  # the forced notification of a marked queue
            await tb.cycles(10)
            assert tb.monitor.irqs == [0], f"only the forced notification before `stopped`: {tb.monitor.irqs}"
            tb.engine.hold_drain = False
            await tb.irq_quiet()
            assert tb.monitor.irqs == [0, config_vector]
        else:
            await tb.write_status(0x8F)
            assert tb.state == St.HALTED and not is_high(dut.stop_req)
            tb.engine.hold_drain = False
            await tb.irq_quiet()
            assert not tb.monitor.irqs
    await tb.finish()
