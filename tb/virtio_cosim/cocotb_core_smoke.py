"""Smoke tests of rtl/virtio_core_tb_top.sv: the register block and status machine driven over AXI4-Lite, with
a trivial engine played by the testbench (nothing in flight, every request answered at once).

A monitor hands every register access, device-side change, `fault_inj` pulse, `msix_enable` change, accepted
interrupt message and INTx level to the golden model (virtio_golden.core.DeviceCore) in clock order; the model
raises Mismatch on anything it does not allow, so these tests check against the model rather than against numbers
written here. They are a smoke set for the RTL author;
the register-level testbench proper lives elsewhere.
"""

import random

from cocotb import start_soon
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.core import DeviceCore
from virtio_golden.memory import GuestMem
from virtio_golden.params import Params

from .seeded import seeded_test

CLOCK_PERIOD_NS = 10
QUEUE_AREAS = (0x1000, 0x2000, 0x3000)  # desc, driver, device
CONFIG_VECTOR = 0


def params_of(dut) -> Params:
    """The model's parameters, read from the DUT's own parameter values."""
    return Params(
        NUM_QUEUES=int(dut.NUM_QUEUES.value),
        SUSPEND_MODE=int(dut.SUSPEND_MODE.value),
        RESUME_LATENCY=int(dut.RESUME_LATENCY.value),
        SUSPEND_DRAIN_TIMEOUT=int(dut.SUSPEND_DRAIN_TIMEOUT.value),
        MSIX_VECTORS=int(dut.MSIX_VECTORS.value),
    )


# Order of events that share a clock edge (rule 8.12): a register access first, then the testbench-driven inputs,
# then interrupt handshakes; output changes seen at a clock edge were caused by the previous one and follow it.
ACCESS, INPUT, HANDSHAKE, OUTPUT = range(4)


class CoreTB:
    """Clock, reset, the AXI4-Lite master, a trivial engine, and a monitor that hands every observable event to the
    golden model in clock order (register accesses at the edge that accepted them)."""

    def __init__(self, dut) -> None:
        self.dut = dut
        self.params = params_of(dut)
        self.model = DeviceCore(self.params, GuestMem())
        self.halts = 0
        self.resumes = 0
        self.scans = [0] * self.params.NUM_QUEUES
        self.irqs: list[int] = []
        self.states_seen: set = set()
        self.hold_drain = False  # the engine keeps `stopped` low while SUSPENDING
        self.cycle = 0
        self.events: list = []   # (cycle, order, sequence, event), handed to the model in that order
        for name in ("msix_enable", "irq_ready", "devcfg_wr_valid", "devcfg_wr_addr", "devcfg_wr_data", "fault_inj",
                     "stopped", "eng_error", "kick_clear", "qreset_done", "avail_take", "used_publish",
                     "used_publish_idx", "used_notify_valid", "used_notify_queue"):
            getattr(dut, name).value = 0
        dut.eng_idle.value = 1
        dut.irq_ready.value = 1
        Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start()
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)

    async def reset(self) -> None:
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        start_soon(self._engine_and_monitor())  # after reset: the outputs are X before it on Icarus

    def _event(self, cycle: int, order: int, event) -> None:
        self.events.append((cycle, order, len(self.events), event))

    def flush_events(self) -> None:
        for _, _, _, event in sorted(self.events):
            self.model.observe(event)
        self.events.clear()

    async def _engine_and_monitor(self) -> None:
        """The engine has nothing in flight: drained at once, queue resets done at once. The monitor reports what a
        real engine would show on its backend ports too: `be_flush` at every `halt` pulse and queue reset, and
        `be_quiesce` = `draining`."""
        dut = self.dut
        draining = False
        intx = False
        msix = False
        qreset_req = 0
        aw = w = None
        read_addr = read_cycle = None
        while True:
            await RisingEdge(dut.clk)
            self.cycle += 1
            k = self.cycle
            # Values seen now are those of the cycle that ends at this edge: handshakes and inputs happen at edge k,
            # and registered outputs show what edge k-1 did.
            if int(dut.s_axil_awvalid.value) and int(dut.s_axil_awready.value):
                aw = int(dut.s_axil_awaddr.value)
            if int(dut.s_axil_wvalid.value) and int(dut.s_axil_wready.value):
                w = (int(dut.s_axil_wdata.value), int(dut.s_axil_wstrb.value))
            if aw is not None and w is not None:
                self._event(k, ACCESS, ev.RegWrite(aw & ~3, w[0], w[1]))
                aw = w = None
            if int(dut.s_axil_arvalid.value) and int(dut.s_axil_arready.value):
                read_addr, read_cycle = int(dut.s_axil_araddr.value), k
            if int(dut.s_axil_rvalid.value) and int(dut.s_axil_rready.value):
                self._event(read_cycle, ACCESS, ev.RegRead(read_addr & ~3, int(dut.s_axil_rdata.value)))
                read_addr = None
            if int(dut.devcfg_wr_valid.value):
                self._event(k, INPUT, ev.DevCfgWrite(int(dut.devcfg_wr_addr.value), int(dut.devcfg_wr_data.value)))
            if int(dut.fault_inj.value):
                self._event(k, INPUT, ev.FaultInj())
            if bool(int(dut.msix_enable.value)) != msix:
                msix = not msix
                self._event(k - 1, INPUT, ev.MsixEnable(msix))  # set after the last edge; INTx follows at once
            if int(dut.irq_valid.value) and int(dut.irq_ready.value):
                self.irqs.append(int(dut.irq_vector.value))
                self._event(k, HANDSHAKE, ev.Irq(int(dut.irq_vector.value)))
            if int(dut.halt.value):
                self._event(k - 1, OUTPUT, ev.BeFlush())
            new_requests = int(dut.qreset_req.value) & ~qreset_req
            qreset_req = int(dut.qreset_req.value)
            for _ in range(bin(new_requests).count("1")):
                self._event(k - 1, OUTPUT, ev.BeFlush())
            if bool(int(dut.draining.value)) != draining:
                draining = not draining
                self._event(k - 1, OUTPUT, ev.Quiesce(draining))
            if bool(int(dut.intx.value)) != intx:
                intx = not intx
                self._event(k - 1, OUTPUT, ev.Intx(intx))
            if read_addr is None:  # every access up to now is known
                self.flush_events()

            holding = self.hold_drain and int(dut.state.value) == c.EngineState.SUSPENDING
            dut.stopped.value = int(dut.stop_req.value) and not holding
            dut.qreset_done.value = int(dut.qreset_req.value)
            self.states_seen.add(c.EngineState(int(dut.state.value)).name)
            self.halts += int(dut.halt.value)
            self.resumes += int(dut.resume.value)
            scan = int(dut.scan.value)
            for q in range(self.params.NUM_QUEUES):
                self.scans[q] += scan >> q & 1

    # -- driver accesses and device-side inputs; the monitor reports them to the model
    async def write(self, addr: int, value: int, size: int) -> None:
        await self.axil.write(addr, value.to_bytes(size, "little"))

    async def read(self, addr: int, size: int) -> int:
        word = int.from_bytes((await self.axil.read(addr & ~3, 4)).data, "little")
        return word >> 8 * (addr & 3) & ((1 << 8 * size) - 1)

    async def status(self) -> int:
        return await self.read(c.CC_DEVICE_STATUS, 1)

    async def poll_status(self, expected: int, limit: int = 100) -> None:
        for _ in range(limit):
            if await self.status() == expected:
                return
        raise AssertionError(f"device_status never read {expected:#04x}")

    async def devcfg_change(self, addr: int, data: int) -> None:
        self.dut._log.info("devcfg_wr %#x = %#010x in %s", addr, data, c.EngineState(int(self.dut.state.value)).name)
        self.dut.devcfg_wr_addr.value = addr
        self.dut.devcfg_wr_data.value = data
        self.dut.devcfg_wr_valid.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.devcfg_wr_valid.value = 0

    async def fault(self) -> None:
        self.dut._log.info("fault_inj in %s", c.EngineState(int(self.dut.state.value)).name)
        self.dut.fault_inj.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.fault_inj.value = 0

    async def set_msix(self, value: bool) -> None:
        self.dut.msix_enable.value = int(value)
        await RisingEdge(self.dut.clk)

    async def settle(self) -> None:
        """Let the last events reach the model, then check that it owes nothing. The final ISR read shows the model
        the ISR bits it still owes: one set again while already set changes no level it could observe."""
        await ClockCycles(self.dut.clk, 8)
        await self.read(c.BAR_ISR, 1)
        await ClockCycles(self.dut.clk, 2)
        self.flush_events()
        model = self.model
        assert not model.owed(), f"model owes: messages {model.owed_irqs}, flushes {model.flush_owed}, " \
                                 f"ISR {model.owed_isr:#x}"

    # -- driver sequences
    async def negotiate(self, features: int = c.DEFAULT_DEVICE_FEATURES) -> int:
        await self.write(c.CC_DEVICE_STATUS, c.S_ACKNOWLEDGE, 1)
        await self.write(c.CC_DEVICE_STATUS, c.S_ACKNOWLEDGE | c.S_DRIVER, 1)
        for select in (0, 1):
            await self.write(c.CC_DRIVER_FEATURE_SELECT, select, 4)
            await self.write(c.CC_DRIVER_FEATURE, features >> 32 * select & 0xFFFF_FFFF, 4)
        await self.write(c.CC_DEVICE_STATUS, 0x0B, 1)
        return await self.status()

    async def setup_queue(self, q: int, size: int, vector: int) -> None:
        await self.write(c.CC_QUEUE_SELECT, q, 2)
        await self.write(c.CC_QUEUE_SIZE, size, 2)
        await self.write(c.CC_QUEUE_MSIX_VECTOR, vector, 2)
        for offset, base in zip((c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DRIVER_LO, c.CC_QUEUE_DEVICE_LO), QUEUE_AREAS):
            await self.write(offset, base + 0x10000 * q, 4)
            await self.write(offset + 4, 0, 4)
        await self.write(c.CC_QUEUE_ENABLE, 1, 2)
        await self.read(c.CC_QUEUE_ENABLE, 2)  # the model judges it

    async def bring_up(self) -> None:
        assert await self.negotiate() == 0x0B
        await self.write(c.CC_CONFIG_MSIX_VECTOR, CONFIG_VECTOR, 2)
        for q in range(self.params.NUM_QUEUES):
            await self.setup_queue(q, 64, q + 1)
        await self.write(c.CC_DEVICE_STATUS, 0x0F, 1)
        assert await self.status() == 0x0F


@seeded_test()
async def test_init_and_negotiation(dut, rng: random.Random) -> None:
    """Reset values, feature windows, a refused and an accepted FEATURES_OK, queue setup, DRIVER_OK and scans."""
    tb = CoreTB(dut)
    await tb.reset()
    for offset, size in ((c.CC_DEVICE_STATUS, 1), (c.CC_NUM_QUEUES, 2), (c.CC_CONFIG_MSIX_VECTOR, 2),
                         (c.CC_QUEUE_SIZE, 2), (c.CC_QUEUE_MSIX_VECTOR, 2), (c.CC_QUEUE_AVAIL_STATE, 2)):
        await tb.read(offset, size)  # the model judges each value
    for select in (0, 1, 2):
        await tb.write(c.CC_DEVICE_FEATURE_SELECT, select, 4)
        await tb.read(c.CC_DEVICE_FEATURE, 4)
    # Accepting an unoffered bit is refused: FEATURES_OK stays clear (SPEC 3.3).
    assert await tb.negotiate(c.DEFAULT_DEVICE_FEATURES | 1 << rng.choice((0, 5, 33, 44))) == 0x03
    await tb.write(c.CC_DEVICE_STATUS, 0, 1)
    assert await tb.status() == 0
    await tb.bring_up()
    await ClockCycles(dut.clk, 2)
    assert tb.scans == [1] * tb.params.NUM_QUEUES, f"one scan per enabled queue at DRIVER_OK, got {tb.scans}"
    await tb.write(c.BAR_NOTIFY + 4 * 1, 1, 2)
    assert int(dut.kick_pending.value) == 0b10
    # Out-of-range vectors are stored as NO_VECTOR; queue fields of an enabled queue ignore writes (rule 8.6).
    await tb.write(c.CC_CONFIG_MSIX_VECTOR, 0x1234, 2)
    assert await tb.read(c.CC_CONFIG_MSIX_VECTOR, 2) == c.NO_VECTOR
    await tb.write(c.CC_QUEUE_SIZE, 16, 2)
    await tb.read(c.CC_QUEUE_SIZE, 2)
    await tb.write(c.CC_QUEUE_SELECT, 7, 2)
    await tb.read(c.CC_QUEUE_SIZE, 4)
    await tb.settle()


@seeded_test()
async def test_suspend_resume_reset(dut, rng: random.Random) -> None:
    """SUSPEND, vq-state write while suspended, a latched config change notified once at resume, then reset."""
    tb = CoreTB(dut)
    await tb.reset()
    await tb.set_msix(True)
    await tb.bring_up()
    await tb.write(c.CC_DEVICE_STATUS, 0x1F, 1)
    suspended = 0x1F if tb.params.SUSPEND_MODE == c.SuspendMode.RFC else 0x1B
    await tb.poll_status(suspended)
    await tb.write(c.CC_QUEUE_SELECT, 1, 2)
    value = rng.randrange(1 << 16)
    await tb.write(c.CC_QUEUE_AVAIL_STATE, value, 2)
    await tb.write(c.CC_QUEUE_USED_STATE, value, 2)
    assert int(dut.last_avail_idx.value) >> 16 == value
    await tb.devcfg_change(0, 0x1111_1111)
    await tb.devcfg_change(4, 0x2222_2222)
    await tb.write(c.BAR_NOTIFY, 0, 2)  # latched without DMA (SUS-10)
    await ClockCycles(dut.clk, 4)
    assert tb.irqs == [], "no interrupt while suspended (SUS-25)"
    await tb.write(c.CC_DEVICE_STATUS, 0x0F, 1)
    await tb.poll_status(0x0F)
    await ClockCycles(dut.clk, 4)
    assert tb.irqs == [CONFIG_VECTOR], f"one configuration message at resume (SUS-08), got {tb.irqs}"
    assert tb.resumes == 1
    await tb.read(c.BAR_DEVICE_CFG, 4)
    assert await tb.read(c.CC_CONFIG_GENERATION, 1) == 1
    await tb.write(c.CC_DEVICE_STATUS, 0, 1)
    assert await tb.status() == 0
    await tb.read(c.CC_QUEUE_AVAIL_STATE, 4)
    await tb.settle()


@seeded_test()
async def test_failures(dut, rng: random.Random) -> None:
    """NEEDS_RESET in SUSPENDED (a notification only in mode RFC), FAILED, Q14, and a reset out of HALTED."""
    tb = CoreTB(dut)
    await tb.reset()
    await tb.set_msix(True)
    await tb.bring_up()
    await tb.write(c.CC_DEVICE_STATUS, 0x1F, 1)
    await tb.poll_status(0x1F if tb.params.SUSPEND_MODE == c.SuspendMode.RFC else 0x1B)
    await tb.fault()
    await tb.status()
    await ClockCycles(dut.clk, 4)
    expected = [CONFIG_VECTOR] if tb.params.SUSPEND_MODE == c.SuspendMode.RFC else []
    assert tb.irqs == expected, f"SUS-12: {expected}, got {tb.irqs}"
    await tb.write(c.CC_DEVICE_STATUS, 0x80, 1)
    await tb.status()
    await tb.write(c.CC_DEVICE_STATUS, 0, 1)
    assert await tb.status() == 0
    # Q14: DRIVER_OK without FEATURES_OK.
    await tb.write(c.CC_DEVICE_STATUS, 0x07, 1)
    assert await tb.status() == 0x43
    await tb.write(c.CC_DEVICE_STATUS, 0, 1)
    assert tb.halts == 4, f"halt pulses: HALTED twice, reset twice; got {tb.halts}"
    await tb.settle()


@seeded_test()
async def test_drain_watchdog(dut, rng: random.Random) -> None:
    """An engine that does not finish its drain: without a watchdog the device stays SUSPENDING until it does; with
    SUSPEND_DRAIN_TIMEOUT it enters HALTED (0x4F) and sends one configuration message once the engine has handed
    over its forced notifications (`stopped`), SUS-12, SUS-22."""
    tb = CoreTB(dut)
    await tb.reset()
    await tb.set_msix(True)
    await tb.bring_up()
    tb.hold_drain = True
    await tb.write(c.CC_DEVICE_STATUS, 0x1F, 1)
    timeout = tb.params.SUSPEND_DRAIN_TIMEOUT
    await ClockCycles(dut.clk, timeout + 10 if timeout else 200)
    if timeout:
        assert int(dut.state.value) == c.EngineState.HALTED
        assert await tb.status() == 0x4F
        assert tb.irqs == [CONFIG_VECTOR], f"one configuration message, got {tb.irqs}"
        assert not int(dut.stop_req.value), "stop_req falls once the aborted drain is finished"
    else:
        assert int(dut.state.value) == c.EngineState.SUSPENDING
        assert await tb.status() == 0x0F
        tb.hold_drain = False
        await tb.poll_status(0x1F if tb.params.SUSPEND_MODE == c.SuspendMode.RFC else 0x1B)
        assert tb.irqs == []
    await tb.settle()


STATUS_VALUES = (0x00, 0x01, 0x03, 0x0B, 0x0F, 0x07, 0x1B, 0x1F, 0x13, 0x5F, 0x80, 0x8F, 0x20, 0x4B)
COMMON_WORDS = tuple(range(0, c.COMMON_CFG_LEN_VQ_STATE + 4, 4))
EPISODES = 6
OPERATIONS_PER_EPISODE = 80
TIMED_STATES = (c.EngineState.SUSPENDING, c.EngineState.RESUMING)


async def random_status_write(tb: CoreTB, rng: random.Random) -> None:
    """A status write that moves the machine along most of the time (suspend, resume), and anything else rarely;
    then, as rule 8.12 set 10 asks, polls until a drain or resume it started has ended."""
    state = int(tb.dut.state.value)
    if rng.random() < 0.2:
        value = rng.choice(STATUS_VALUES)
    elif state == c.EngineState.RUNNING:
        value = rng.choice((0x1F, 0x1B, 0x0F))
    elif state == c.EngineState.SUSPENDED:
        value = rng.choice((0x0F, 0x1F, 0x0B, 0x1B))
    else:
        value = rng.choice((0x0F, 0x00))
    await tb.write(c.CC_DEVICE_STATUS, value, 1)
    while int(tb.dut.state.value) in TIMED_STATES:
        await tb.status()
    await tb.status()  # the model observes the end of the drain or resume


async def random_access(tb: CoreTB, rng: random.Random) -> None:
    """One driver access anywhere in the BAR except device_status, or one device-side event."""
    nq = tb.params.NUM_QUEUES
    op = rng.random()
    if op < 0.35:
        size = rng.choice((1, 2, 4))
        addr = rng.choice(COMMON_WORDS) + rng.randrange(0, 4, size)
        if addr == c.CC_DEVICE_STATUS or (addr == c.CC_DEVICE_STATUS - 0 and size == 4):
            return
        if (addr & ~3) == c.CC_DEVICE_STATUS and size == 4:
            return
        value = rng.choice((0, 1, rng.randrange(nq + 2), rng.getrandbits(8 * size), 0x1000 * rng.randrange(4) + 8))
        await tb.write(addr, value & ((1 << 8 * size) - 1), size)
    elif op < 0.65:
        await tb.read(rng.choice(COMMON_WORDS + (c.BAR_ISR, c.BAR_DEVICE_CFG, c.BAR_DEVICE_CFG + 8, c.BAR_NOTIFY)), 4)
    elif op < 0.75:
        await tb.write(c.BAR_NOTIFY + 4 * rng.randrange(nq + 1), 0, 2)
    elif op < 0.82:
        await tb.write(c.BAR_DEVICE_CFG + 4 * rng.randrange(4), rng.getrandbits(32), 4)
    elif op < 0.90:
        await tb.devcfg_change(4 * rng.randrange(4), rng.getrandbits(32))
    elif op < 0.93:
        await tb.fault()
    elif op < 0.96:
        await tb.set_msix(not int(tb.dut.msix_enable.value))
    else:
        await tb.write(c.CC_QUEUE_SELECT, rng.randrange(nq + 1), 2)
        await tb.write(c.CC_QUEUE_RESET, 1, 2)


@seeded_test()
async def test_random_register_traffic(dut, rng: random.Random) -> None:
    """Episodes of reset, negotiation, queue setup and DRIVER_OK, then random driver accesses (sizes 1/2/4, every
    common-config word, ISR, notify, device config), status writes, device-side changes, faults, queue resets and
    msix_enable toggles; the model judges every read and every interrupt message."""
    tb = CoreTB(dut)
    await tb.reset()
    nq = tb.params.NUM_QUEUES
    for _ in range(EPISODES):
        await tb.write(c.CC_DEVICE_STATUS, 0, 1)
        await tb.set_msix(rng.random() < 0.5)
        features = c.DEFAULT_DEVICE_FEATURES if rng.random() < 0.9 else rng.getrandbits(64)
        await tb.negotiate(features)
        await tb.write(c.CC_CONFIG_MSIX_VECTOR, rng.randrange(nq + 2), 2)
        for q in range(nq):
            if rng.random() < 0.8:
                await tb.setup_queue(q, rng.choice((1, 64, 256, 100)), rng.randrange(nq + 2))
        if rng.random() < 0.9:
            await tb.write(c.CC_DEVICE_STATUS, 0x0F, 1)
        for _ in range(OPERATIONS_PER_EPISODE):
            if rng.random() < 0.12:
                await random_status_write(tb, rng)
            else:
                await random_access(tb, rng)
    dut._log.info("states visited: %s; messages: %d", sorted(tb.states_seen), len(tb.irqs))
    await tb.settle()
