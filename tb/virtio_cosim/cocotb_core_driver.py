"""The reference driver (models/virtio_golden/driver.py) against `virtio_core` over AxiLiteMaster.

Every register access of the driver is replayed into the golden model, which judges each read-back and each
interrupt (core_tb.Scoreboard); the driver's own checks (FEATURES_OK re-read, size and vector read-backs, polls) run
as they do against the model device. SPEC 2.3, 3.3, SUS-03, SUS-04, SUS-11 to SUS-16, Appendix B 1, 2, 8, 13-15.
"""

import random

import cocotb
import pytest
from cocotb.triggers import ClockCycles

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.driver import DeviceNeedsReset, Driver, DriverError, FeatureRefused, PollTimeout

from .core_tb import TIMEOUT, CoreTB
from .seeded import seeded_test

QUEUE_SIZE = 16


def queue_plan(tb: CoreTB) -> list:
    """(size, vector) per queue: sizes up to QUEUE_SIZE_MAX, vectors inside the MSI-X table."""
    p = tb.params
    return [(min(QUEUE_SIZE << q, p.QUEUE_SIZE_MAX), q % p.MSIX_VECTORS) for q in range(p.NUM_QUEUES)]


async def started(tb: CoreTB) -> Driver:
    """Reset the TB and bring the device up with the driver: every queue set up, DRIVER_OK."""
    await tb.reset()
    driver = tb.driver()
    await driver.start(queues=queue_plan(tb))
    return driver


@seeded_test(**TIMEOUT)
async def test_full_init(dut, rng: random.Random) -> None:
    """SPEC 2.3 through the driver: features, every queue, device configuration, DRIVER_OK (B1)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    driver = tb.driver()
    await driver.reset()
    negotiated = await driver.init()
    assert negotiated == tb.params.DEVICE_FEATURES & driver.supported_features
    assert await driver.read_device_features() == tb.params.DEVICE_FEATURES
    for q, (size, vector) in enumerate(queue_plan(tb)):
        await driver.setup_queue(q, size, vector)
    await driver.read_device_config(tb.params.DEV_CFG_SIZE)
    await driver.driver_ok()
    assert await driver.status() == 0x0F
    for q in range(tb.params.NUM_QUEUES):
        assert await driver.read_vq_state(q) == (0, 0)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_feature_refusal(dut, rng: random.Random) -> None:
    """FEATURES_OK is refused for an unoffered bit (the QUEUE_STATE bit) and without VERSION_1 (SPEC 3.3, B1)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    driver = tb.driver()
    offered = tb.params.DEVICE_FEATURES
    for refused in (offered | 1 << tb.params.F_QUEUE_STATE_BIT, offered & ~(1 << c.F_VERSION_1)):
        await driver.reset()
        with pytest.raises(FeatureRefused):
            await driver.init(refused)
        assert await driver.status() == c.S_ACKNOWLEDGE | c.S_DRIVER
    await driver.reset()
    await driver.init()  # the same device accepts a valid set after the reset (SPEC 2.3)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_queue_setup(dut, rng: random.Random) -> None:
    """The driver's queue setup: size and vector read-backs catch refused values (rule 8.6); queues enabled after
    DRIVER_OK are an entry into RUNNING for that queue (rule 8.7)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    driver = tb.driver()
    await driver.reset()
    await driver.init()
    p = tb.params
    with pytest.raises(DriverError, match="size"):
        await driver.setup_queue(0, p.QUEUE_SIZE_MAX * 2)
    with pytest.raises(DriverError, match="MSI-X vector"):
        await driver.setup_queue(0, QUEUE_SIZE, vector=p.MSIX_VECTORS)
    late = p.NUM_QUEUES - 1
    for q, (size, vector) in enumerate(queue_plan(tb)):
        if q != late or p.NUM_QUEUES == 1:
            await driver.setup_queue(q, size, vector)
    await driver.driver_ok()
    if p.NUM_QUEUES > 1:
        scans = tb.engine.scans[late]
        await driver.setup_queue(late, QUEUE_SIZE, c.NO_VECTOR)
        await tb.cycles(2)
        assert tb.engine.scans[late] == scans + 1, "queue_enable 0->1 in RUNNING scans that queue once"
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_suspend_resume(dut, rng: random.Random) -> None:
    """Suspend with chains in flight and resume, twice, with the sequences of this build's mode: V14 (SUS-04, SUS-11)
    or the 2024 prototype and the RFC1 re-write of DRIVER_OK (mode RFC, B13). The engine checker watches that
    SUSPENDED never shows while a chain is in flight."""
    tb = CoreTB(dut, rng)
    driver = await started(tb)
    for _ in range(2):
        for q in range(tb.params.NUM_QUEUES):
            await driver.notify(q)  # the engine takes chains; the drain must finish them
        shown = await driver.suspend()
        if tb.mode == SuspendMode.V14:
            assert shown == 0x1B
        else:
            assert shown == 0x1F
        assert tb.state == St.SUSPENDED and tb.engine.in_flight == 0
        for q in range(tb.params.NUM_QUEUES):
            await driver.read_vq_state(q)
            await driver.notify(q)  # latched, no DMA (SUS-10)
        await driver.read_device_config(tb.params.DEV_CFG_SIZE)
        assert await driver.resume() == 0x0F
        assert tb.state == St.RUNNING
    if tb.mode == SuspendMode.RFC:
        await driver.suspend()
        shown = await driver.resume_rfc1()  # re-write 0x1F, poll until SUSPEND reads 0
        assert shown == 0x0F
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_suspend_before_driver_ok(dut, rng: random.Random) -> None:
    """SUS-03, B2, B13: mode RFC honours SUSPEND after FEATURES_OK at once (0x0B, W=0x1B -> 0x1B), resumes to INIT
    with W=0x0B and later reaches RUNNING with W=0x0F; mode V14 ignores it (the prototype's poll times out)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    driver = tb.driver(poll_limit=20)
    await driver.reset()
    await driver.init()
    if tb.mode == SuspendMode.RFC:
        assert await driver.suspend() == 0x1B
        assert tb.state == St.SUSPENDED
        assert await driver.resume() == 0x0B
        assert tb.state == St.INIT
        await driver.driver_ok()
        assert tb.state == St.RUNNING
    else:
        with pytest.raises(PollTimeout) as timeout:
            await driver.suspend(reset_on_timeout=False)
        assert timeout.value.status == 0x0B
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_reset_from_every_state(dut, rng: random.Random) -> None:
    """SUS-13, B8: the driver's reset (write 0, poll for 0) from INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING and
    HALTED, with the engine retiring for a while: the write's response waits, an access offered meanwhile is taken
    only after it (the SUS-13 monitor), a fault meanwhile is ignored, and every register reads its reset value."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    driver = tb.driver()
    reach = {St.INIT: lambda: tb.negotiate(), St.RUNNING: tb.to_running, St.SUSPENDING: tb.to_suspending,
             St.SUSPENDED: tb.to_suspended, St.RESUMING: tb.to_resuming,
             St.HALTED: lambda: tb.to_halted(rng.choice(["failed", "fault", "q14"]))}
    for state, bring in reach.items():
        tb.set_backpressure(state != St.RESUMING)  # the write of 0 must land inside a short RESUMING
        await bring()
        await tb.write(c.CC_QUEUE_SELECT, tb.params.NUM_QUEUES - 1, 2)
        tb.engine.hold_busy = True
        reset = cocotb.start_soon(driver.reset())
        await tb.wait_state(St.RESET_PENDING, limit=200)
        tb.set_backpressure(True)
        await tb.planted_bus_during_reset()
        offered = cocotb.start_soon(tb.read(c.CC_DEVICE_STATUS, 1))  # must wait for the reset
        await ClockCycles(dut.clk, rng.randint(2, 30))
        await tb.fault_inj()  # ignored in RESET_PENDING (SUS-15)
        await ClockCycles(dut.clk, rng.randint(0, 10))
        tb.engine.hold_busy = False
        tb.engine.hold_drain = False
        await reset
        assert await offered == 0
        written, before = tb.monitor.status_writes[-1][1:]
        held = state != St.RESUMING or tb.params.RESUME_LATENCY >= 8  # RESUMING needs a few cycles for the write
        assert written == 0 and (before == state or not held), f"the write of 0 met {St(before).name}"
        await tb.check_reset_values()
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_failed(dut, rng: random.Random) -> None:
    """SUS-15, B14: the driver gives up (FAILED) while running or suspended; no resume, only a reset leaves."""
    tb = CoreTB(dut, rng)
    driver = await started(tb)
    await driver.fail()
    assert await driver.status() == 0x8F
    await driver.write_status(0x0F)
    assert await driver.status() == 0x8F and tb.state == St.HALTED
    driver = await started(tb)
    shown = await driver.suspend()
    await driver.fail()
    assert await driver.status() == shown | c.S_FAILED
    await driver.write_status(shown | c.S_DRIVER_OK)  # the resume write of both modes
    assert await driver.status() == shown | c.S_FAILED and tb.state == St.HALTED
    await driver.reset()
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_needs_reset(dut, rng: random.Random) -> None:
    """SUS-12, SUS-16, B9/B15: a fault while the driver suspends aborts the suspend (0x4F, one configuration
    interrupt), an engine error in RUNNING halts (0x4F), a fault in SUSPENDED halts with 0x5B (V14, no interrupt) or
    0x5F (RFC, one interrupt); the driver's polls abort on NEEDS_RESET."""
    tb = CoreTB(dut, rng)
    driver = await started(tb)
    await tb.set_msix(rng.random() < 0.5)
    await tb.write(c.CC_CONFIG_MSIX_VECTOR, tb.params.MSIX_VECTORS - 1, 2)
    tb.engine.hold_drain = True
    suspend = cocotb.start_soon(driver.suspend())
    await tb.wait_state(St.SUSPENDING, limit=200)
    await tb.fault_inj()
    tb.engine.hold_drain = False  # the engine retires; the aborted drain's interrupt follows (SUS-12)
    with pytest.raises(DeviceNeedsReset) as failure:
        await suspend
    assert failure.value.status == 0x4F
    await tb.irq_quiet()

    driver = await started(tb)
    await tb.eng_error()
    assert await driver.status() == 0x4F

    driver = await started(tb)
    shown = await driver.suspend()
    await tb.fault_inj()
    assert await driver.status() == shown | c.S_NEEDS_RESET
    await driver.write_status(shown | c.S_DRIVER_OK)  # a resume write has no effect in HALTED
    assert tb.state == St.HALTED
    await tb.finish()
