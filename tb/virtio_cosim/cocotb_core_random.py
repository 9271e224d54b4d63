"""Constrained-random stimulus of `virtio_core` against the golden-model scoreboard (rule 8.12), in this build's mode.

Status writes (biased towards the driver's own sequences), queue and feature register writes with random strobes,
kicks, register reads anywhere in the BAR, device-side configuration changes, fault_inj, eng_error, msix_enable
toggles and engine-side events (the drain held open for a random time, abstract chains in flight) are drawn from
the test's seeded generator; seeded_test prints the seed and the command that reruns it alone with waves.

The stimulus never races a timed transition it cannot see (rule 8.12 set 10): near the end of RESUMING it waits for
the flip and reads device_status first, and, like a driver, it writes no register of a queue whose reset is latched
or still running (the end of a queue reset is such a transition: SPEC 4.8 keeps the queue's registers, queue_reset
reading 1, until the engine's outstanding transactions have retired). Reads may land anywhere, at any time.
"""

import random

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St

from .core_tb import TIMEOUT, CoreTB, is_high, value_of
from .seeded import seeded_test

OPERATIONS = 1500
RESUMING_MARGIN = 24  # cycles an access may take with backpressure


def status_value(tb: CoreTB, rng: random.Random) -> int:
    """A device_status value: mostly the driver's own steps (from the shown value), sometimes any byte."""
    if rng.random() < 0.15:
        return rng.getrandbits(8)
    if rng.random() < 0.03:
        return 0
    p = tb.observer.core.presented
    return rng.choice([p | c.S_ACKNOWLEDGE, p | c.S_DRIVER, p | c.S_FEATURES_OK | 0x03, p | c.S_DRIVER_OK | 0x0B,
                       p | c.S_SUSPEND, p | c.S_SUSPEND | c.S_DRIVER_OK, p & ~c.S_SUSPEND, p | c.S_DRIVER_OK,
                       p | c.S_FAILED, p | c.S_NEEDS_RESET, 0x0F, 0x1F, 0x0B, 0x1B])


async def sync(tb: CoreTB) -> None:
    """Rule 8.12 set 10: let the model see a resume completion before the next stimulus could race it."""
    if tb.state == St.RESUMING and tb.resuming_cycles_left() <= RESUMING_MARGIN:
        await tb.settle()
    elif tb.observer.state == St.RESUMING and tb.state != St.RESUMING:
        await tb.status()


def selected_queue_resetting(tb: CoreTB) -> bool:
    """A reset of the selected queue is latched (SUS-17) or the engine still works on it (qreset_req high)."""
    selected = tb.observer.core.queue_select
    if selected >= tb.params.NUM_QUEUES:
        return False
    return tb.observer.core.queues[selected].reset_latched or bool(value_of(tb.dut.qreset_req) >> selected & 1)


async def queue_register_write(tb: CoreTB, rng: random.Random) -> None:
    p = tb.params
    word = rng.choice([c.CC_QUEUE_SELECT & ~3, c.CC_QUEUE_SIZE, c.CC_QUEUE_ENABLE, c.CC_QUEUE_DESC_LO,
                       c.CC_QUEUE_DESC_HI, c.CC_QUEUE_DRIVER_LO, c.CC_QUEUE_DEVICE_LO, c.CC_QUEUE_AVAIL_STATE,
                       c.CC_QUEUE_RESET & ~3])
    data = rng.getrandbits(32)
    strb = 0xF if rng.random() < 0.6 else rng.randrange(1, 16)
    if word == c.CC_QUEUE_SELECT & ~3:
        data, strb = rng.randrange(p.NUM_QUEUES + 1) << 16, 0xC
    elif word == c.CC_QUEUE_SIZE:
        vector = rng.choice([rng.randrange(p.MSIX_VECTORS), c.NO_VECTOR, rng.getrandbits(16)])
        data = vector << 16 | rng.choice([1 << rng.randrange(16), rng.getrandbits(16)])
    elif word == c.CC_QUEUE_ENABLE:
        data = rng.choice([1, 1, 0, 2])
    elif word in (c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DRIVER_LO, c.CC_QUEUE_DEVICE_LO):
        data &= rng.choice([~0xF, ~0x1, ~0x3, ~0x0])
    elif word == c.CC_QUEUE_RESET & ~3:
        data, strb = rng.choice([1, 1, 2]) << 16, 0xC
    if word != c.CC_QUEUE_SELECT & ~3 and selected_queue_resetting(tb):
        return  # like a driver, wait until queue_reset reads 0 before touching the queue again
    await tb.write_strobed(word, data, strb)


async def other_register_write(tb: CoreTB, rng: random.Random) -> None:
    p = tb.params
    choice = rng.randrange(5)
    if choice == 0:
        await tb.write(c.CC_DRIVER_FEATURE_SELECT, rng.choice([0, 1, 2]))
        value = p.DEVICE_FEATURES >> 32 * tb.observer.core.driver_feature_select & 0xFFFF_FFFF
        await tb.write(c.CC_DRIVER_FEATURE, value if rng.random() < 0.8 else rng.getrandbits(32))
    elif choice == 1:
        await tb.write(c.CC_DEVICE_FEATURE_SELECT, rng.choice([0, 1, 2, rng.getrandbits(32)]))
    elif choice == 2:
        await tb.write(c.CC_CONFIG_MSIX_VECTOR, rng.choice([rng.randrange(p.MSIX_VECTORS), c.NO_VECTOR]), 2)
    elif choice == 3:
        await tb.write_strobed(c.BAR_DEVICE_CFG + rng.randrange(0, p.DEV_CFG_SIZE + 4, 4), rng.getrandbits(32),
                               rng.randrange(1, 16))
    else:  # anywhere, lanes 1 to 3 (the status byte and kicks have their own operations)
        word = rng.randrange(0, 0x1000, 4)
        queue_word = c.CC_QUEUE_SIZE <= word < c.COMMON_CFG_LEN_VQ_STATE
        if word != c.CC_QUEUE_RESET & ~3 and not (queue_word and selected_queue_resetting(tb)):
            await tb.write_strobed(word, rng.getrandbits(32), 0xE)


async def register_read(tb: CoreTB, rng: random.Random) -> None:
    p = tb.params
    addr = rng.choice([rng.randrange(0, c.COMMON_CFG_LEN_VQ_STATE, 4), c.CC_DEVICE_STATUS, c.BAR_ISR,
                       c.BAR_DEVICE_CFG + rng.randrange(0, p.DEV_CFG_SIZE + 8, 4),
                       c.BAR_NOTIFY + 4 * rng.randrange(p.NUM_QUEUES + 1), rng.randrange(0, 0x1000, 4)])
    await tb.read(addr)


@seeded_test(**TIMEOUT)
async def test_random(dut, rng: random.Random) -> None:
    """Constrained-random register, device-side and engine-side stimulus; the golden model judges every read-back,
    interrupt and INTx edge, the monitors watch the bus hold, drain and interrupt rules, and the engine checker the
    drain (SUS-03 to SUS-25, rules 8.4 to 8.10)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    weights = {"status": 10, "queue": 14, "other": 6, "read": 14, "status_read": 8, "kick": 5, "devcfg": 5,
               "fault": 1, "eng_error": 1, "msix": 3, "hold": 3, "wait": 4, "bring_up": 3}
    names, counts = list(weights), list(weights.values())
    done = {name: 0 for name in names}
    for _ in range(OPERATIONS):
        op = rng.choices(names, counts)[0]
        await sync(tb)
        if op == "status":
            value = status_value(tb, rng)
            await tb.write_status(value)
        elif op == "queue":
            await queue_register_write(tb, rng)
        elif op == "other":
            await other_register_write(tb, rng)
        elif op == "read":
            await register_read(tb, rng)
        elif op == "status_read":
            await tb.status()
        elif op == "kick":
            await tb.kick(rng.randrange(p.NUM_QUEUES + 1))
        elif op == "devcfg":
            await tb.devcfg_write(rng.randrange(p.DEV_CFG_SIZE + 8), rng.getrandbits(32))
        elif op == "fault":
            await tb.fault_inj()
        elif op == "eng_error":
            await tb.eng_error()
        elif op == "msix":
            await tb.set_msix(not is_high(dut.msix_enable))
        elif op == "hold":
            tb.engine.hold_drain = not tb.engine.hold_drain
        elif op == "wait":
            await tb.cycles(rng.randint(1, 40))
        else:  # the usual way up, so that RUNNING and the suspend states come often
            await (tb.to_running() if rng.random() < 0.7 else tb.negotiate())
        done[op] += 1
    tb.engine.hold_drain = False
    await sync(tb)
    dut._log.info("operations: %s", ", ".join(f"{name} {n}" for name, n in done.items()))
    await tb.finish()
