"""The device status machine of `virtio_core` (rule 8.4 in this build's SUSPEND_MODE, SUS-03, SUS-04, SUS-11 to
SUS-16, SUS-23; Appendix B 2, 14, 15, 16, 23).

Each state is reached deterministically: SUSPENDING by the engine model holding `stopped` low, RESUMING inside
RESUME_LATENCY (long in the slow_resume build; with the bus backpressure off for the default 16 cycles), HALTED by
FAILED, fault_inj or Q14. The golden model judges every read-back of P and every interrupt; the monitor records the
engine state each write met, which proves the cell was hit, and feeds the `status` covergroup.
"""

import random
from dataclasses import dataclass
from typing import Callable

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode

from .core_tb import TIMEOUT, CoreTB, is_high
from .seeded import seeded_test

INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING, HALTED = (St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED,
                                                          St.RESUMING, St.HALTED)
RESUMING_MIN_LATENCY = 8  # a status write lands 3 to 5 cycles after the resume write without backpressure


@dataclass(frozen=True)
class Row:
    """A state with a presented value, how to reach it, and the W values written there (one cell each)."""

    name: str
    state: St
    reach: Callable
    writes: tuple
    modes: tuple = (SuspendMode.V14, SuspendMode.RFC)


async def init_with(tb: CoreTB, *values: int, features: int = None) -> None:
    """A reset, then the status values in order, with `features` stored first (default: the offered set)."""
    await tb.negotiate(features, features_ok=False)
    await tb.write_status(0)
    for value in values:
        await tb.write_status(value)


def rows(tb: CoreTB) -> list:
    unneg = tb.features_without_suspend()
    refused = tb.params.DEVICE_FEATURES | 1 << tb.params.F_QUEUE_STATE_BIT
    rfc = (SuspendMode.RFC,)
    return [
        Row("INIT 0x00", INIT, lambda: init_with(tb), (0x00, 0x01, 0x07, 0x80, 0x60)),
        Row("INIT 0x01", INIT, lambda: init_with(tb, 0x01), (0x03, 0x05, 0x10, 0x40)),
        Row("INIT 0x03", INIT, lambda: init_with(tb, 0x01, 0x03),
            (0x0B, 0x4B, 0x2B, 0x08, 0x1B, 0x13, 0x07, 0x0F, 0x1F, 0x01, 0x40, 0x60, 0x83)),
        Row("INIT 0x03 refused", INIT, lambda: init_with(tb, 0x01, 0x03, features=refused), (0x0B, 0x0F)),
        Row("INIT 0x0B", INIT, lambda: tb.negotiate(),
            (0x00, 0x80, 0x8F, 0xFF, 0x0F, 0x04, 0x4F, 0x2F, 0x1F, 0x7F, 0x1B, 0x10, 0x5B, 0x3B, 0x0B, 0x4B, 0x20,
             0x08)),
        Row("INIT 0x0B unnegotiated", INIT, lambda: tb.negotiate(unneg), (0x1F, 0x1B, 0x10)),
        Row("RUNNING", RUNNING, tb.to_running,
            (0x00, 0x80, 0x9F, 0x0F, 0x04, 0x4F, 0x2F, 0x1F, 0x14, 0x1B, 0x10, 0x5B, 0x3B, 0x0B, 0x2B, 0x40, 0x20,
             0x01, 0x08)),
        Row("RUNNING unnegotiated", RUNNING, lambda: tb.to_running(unneg), (0x1F, 0x1B, 0x10)),
        Row("SUSPENDING", SUSPENDING, tb.to_suspending,
            (0x00, 0x80, 0x9F, 0x0F, 0x1F, 0x1B, 0x10, 0x0B, 0x4F, 0x20, 0x08, 0x01)),
        Row("SUSPENDED", SUSPENDED, tb.to_suspended,
            (0x00, 0x80, 0x9B, 0x9F, 0x0F, 0x1F, 0x04, 0x5F, 0x2F, 0x1B, 0x10, 0x5B, 0x3B, 0x0B, 0x40, 0x20, 0x01,
             0x08)),
        Row("SUSPENDED before DRIVER_OK", SUSPENDED, lambda: tb.to_suspended(before_driver_ok=True),
            (0x0B, 0x03, 0x1B, 0x0F, 0x80, 0x00, 0x4B, 0x1F), rfc),
        Row("RESUMING", RESUMING, tb.to_resuming, (0x00, 0x80, 0x0F, 0x1F, 0x1B, 0x0B, 0x40, 0x08)),
        Row("RESUMING to INIT", RESUMING, lambda: tb.to_resuming(0x0B, before_driver_ok=True), (0x0F, 0x80, 0x0B),
            rfc),
        Row("HALTED by FAILED", HALTED, lambda: tb.to_halted("failed"), (0x00, 0x80, 0x0F, 0x1F, 0x1B, 0x0B, 0x40)),
        Row("HALTED by a fault", HALTED, lambda: tb.to_halted("fault"), (0x80, 0x0F, 0x1F, 0x00)),
        Row("HALTED by Q14", HALTED, lambda: tb.to_halted("q14"), (0x08, 0x0B, 0x0F, 0x1B, 0x80)),
    ]


async def settle_cell(tb: CoreTB) -> None:
    """End a cell: let a held drain or a resume finish, read P (so the model sees any flip), and compare the engine
    state port with the model's state."""
    tb.engine.hold_drain = False
    tb.set_backpressure(True)
    await tb.wait_state(INIT, RUNNING, SUSPENDED, HALTED, limit=tb.params.RESUME_LATENCY + 200)
    await tb.status()
    assert tb.state == tb.observer.state, f"state port {tb.state.name}, golden model {tb.observer.state.name}"


@seeded_test(**TIMEOUT)
async def test_table(dut, rng: random.Random) -> None:
    """Rule 8.4, B16: every cell of the status-write table in this build's mode, including writes that set 0x20 or
    0x40; each cell from a fresh reset, P read back twice and once more after the state has settled."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    hit = set()
    for row in rows(tb):
        if tb.mode not in row.modes:
            continue
        if row.state == RESUMING and tb.params.RESUME_LATENCY < RESUMING_MIN_LATENCY:
            dut._log.info("row %s: RESUME_LATENCY %d is too short to write inside RESUMING", row.name,
                          tb.params.RESUME_LATENCY)
            continue
        for w in row.writes:
            tb.set_backpressure(row.state != RESUMING)
            await row.reach()
            await tb.write_status(w)
            edge, written, before = tb.monitor.status_writes[-1]
            assert (written, before) == (w, row.state), f"row {row.name}: W={w:#04x} met {St(before).name}"
            hit.add((row.state, w))
            await tb.status()
            await tb.status()
            await settle_cell(tb)
    dut._log.info("%d cells of rule 8.4 written", len(hit))
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_fault_inj(dut, rng: random.Random) -> None:
    """Rule 8.4 test hook, B23 (and B9/B15 for the aborted suspend and resume): fault_inj (MSI-X off) and eng_error
    (MSI-X on) in INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING (when RESUME_LATENCY leaves room) and HALTED; the
    model judges P (NEEDS_RESET, SUS-12 encodings) and the single configuration interrupt when DRIVER_OK is shown.
    RESET_PENDING: test_reset_pending_fault."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    tb.config_vector = rng.randrange(p.MSIX_VECTORS)  # programmed after every FEATURES_OK
    reach = [("INIT", tb.negotiate), ("RUNNING", tb.to_running), ("SUSPENDING", tb.to_suspending),
             ("SUSPENDED", tb.to_suspended), ("HALTED", lambda: tb.to_halted("failed"))]
    if p.RESUME_LATENCY >= RESUMING_MIN_LATENCY:
        reach.append(("RESUMING", tb.to_resuming))
    if tb.mode == SuspendMode.RFC:
        reach.append(("SUSPENDED before DRIVER_OK", lambda: tb.to_suspended(before_driver_ok=True)))
    for name, bring in reach:
        for use_engine_error in (False, True):
            await tb.set_msix(use_engine_error)  # fault_inj with INTx, eng_error with MSI-X messages
            tb.set_backpressure(name != "RESUMING")
            await bring()
            assert tb.state.name == name.split()[0], f"{name}: reached {tb.state.name}"
            if use_engine_error:
                await tb.eng_error()
            else:
                await tb.fault_inj()
            await tb.status()
            await settle_cell(tb)
            await tb.irq_quiet()
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_reset_pending_fault(dut, rng: random.Random) -> None:
    """SUS-13, SUS-15, B8: while a write of 0 waits for the engine (eng_idle low), fault_inj and eng_error are
    ignored; the reset completes when the engine is idle; a driver that writes ACKNOWLEDGE right after the write of 0
    without polling (Linux virtio-mmio) has that write take effect."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.to_running()
    tb.engine.hold_busy = True
    task = cocotb.start_soon(tb.write_status(0))
    await tb.wait_state(St.RESET_PENDING, limit=100)
    await tb.fault_inj()
    await tb.eng_error()
    await tb.cycles(rng.randint(1, 20))
    assert tb.state == St.RESET_PENDING
    tb.engine.hold_busy = False
    await task
    await tb.write_status(c.S_ACKNOWLEDGE)
    assert await tb.status() == c.S_ACKNOWLEDGE
    await tb.finish()


async def access_with(tb: CoreTB, access, handshake: tuple, side_input) -> int:
    """A register access with a one-cycle side input (fault_inj, devcfg_wr_valid) high in the cycle whose edge takes
    the access (rule 8.12 same-cycle order); without backpressure, AW and W go in the same cycle."""
    dut = tb.dut
    task = cocotb.start_soon(access)
    while True:
        await FallingEdge(dut.clk)
        if all(is_high(getattr(dut, f"s_axil_{name}")) for name in handshake):
            break
    side_input.value = 1
    await RisingEdge(dut.clk)
    side_input.value = 0
    return await task


def write_with(tb: CoreTB, addr: int, value: int, size: int, side_input):
    return access_with(tb, tb.write(addr, value, size), ("awvalid", "awready", "wvalid", "wready"), side_input)


def read_with(tb: CoreTB, addr: int, side_input):
    return access_with(tb, tb.read(addr), ("arvalid", "arready"), side_input)


@seeded_test(**TIMEOUT)
async def test_same_cycle_order(dut, rng: random.Random) -> None:
    """Rule 8.12, rule 8.10: a register access takes effect before a fault or a device-side change in the same cycle:
    W = 0x80 with a fault shows 0x8F and sends nothing; a write of 0 with a fault or a change is a reset (the change
    applied silently after it); for a driver write and a device-side write of the same byte, the device wins; a
    driver read returns the value before a same-cycle device-side write."""
    tb = CoreTB(dut, rng)
    tb.set_backpressure(False)
    await tb.reset()
    await tb.to_running()
    await write_with(tb, c.CC_DEVICE_STATUS, 0x80, 1, dut.fault_inj)
    assert await tb.status() == 0x8F
    await tb.to_running()
    await write_with(tb, c.CC_DEVICE_STATUS, 0, 1, dut.fault_inj)
    assert await tb.status() == 0 and tb.state == St.INIT
    await tb.to_running()
    dut.devcfg_wr_addr.value = 0
    dut.devcfg_wr_data.value = 0x1234_5678
    await write_with(tb, c.CC_DEVICE_STATUS, 0, 1, dut.devcfg_wr_valid)
    await tb.read_devcfg()  # the change applied at the reset, with a new generation on this first read
    await tb.to_running()
    before = await tb.read(c.BAR_DEVICE_CFG)
    dut.devcfg_wr_data.value = before ^ 0xFFFF_FFFF
    assert await read_with(tb, c.BAR_DEVICE_CFG, dut.devcfg_wr_valid) == before
    assert await tb.read(c.BAR_DEVICE_CFG) == before ^ 0xFFFF_FFFF
    if tb.params.DEV_CFG_SIZE > 8:  # words 2 and up are writable by the driver
        dut.devcfg_wr_addr.value = 8
        dut.devcfg_wr_data.value = 0xAAAA_AAAA
        await write_with(tb, c.BAR_DEVICE_CFG + 8, 0x5555_5555, 4, dut.devcfg_wr_valid)
        assert await tb.read(c.BAR_DEVICE_CFG + 8) == 0xAAAA_AAAA
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_resume_latency(dut, rng: random.Random) -> None:
    """Rule 8.4 / 8.8, SUS-11, B23: resume completes exactly RESUME_LATENCY cycles after the edge that accepted the
    resume write, with one `resume` pulse and one scan per enabled queue (rule 8.7); mode RFC's resume to INIT has
    neither."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    targets = [None] + ([0x0B] if tb.mode == SuspendMode.RFC else [])
    for resume_value in targets:
        before_driver_ok = resume_value is not None
        if before_driver_ok:
            await tb.negotiate()
        else:
            await tb.negotiate()
            await tb.write(c.CC_QUEUE_DESC_LO, 0)  # queue 0 at address 0 (address 0 is not special)
            await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
            await tb.write_status(0x0F)
        await tb.write_status(0x1B if before_driver_ok else 0x1F)
        shown = await tb.poll_status(lambda s: s & c.S_SUSPEND)
        scans, resumes = list(tb.engine.scans), tb.engine.resumes
        await tb.write_status(shown | c.S_DRIVER_OK if resume_value is None else resume_value)
        accepted = tb.monitor.status_writes[-1][0]
        await tb.wait_state(St.RUNNING, St.INIT, limit=p.RESUME_LATENCY + 4)
        await tb.cycles(2)
        edge, before, after = tb.monitor.transitions[-1]
        assert before == St.RESUMING and edge - accepted == p.RESUME_LATENCY, \
            f"RESUMING lasted {edge - accepted} cycles, RESUME_LATENCY is {p.RESUME_LATENCY}"
        if before_driver_ok:
            assert after == St.INIT and tb.engine.resumes == resumes and tb.engine.scans == scans
        else:
            assert after == St.RUNNING and tb.engine.resumes == resumes + 1
            assert tb.engine.scans[0] == scans[0] + 1
        await tb.status()
    await tb.finish()
