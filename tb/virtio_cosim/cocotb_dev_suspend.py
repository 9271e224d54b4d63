"""virtio_pci_dev around SUSPEND (SPEC SUS-05 to SUS-22, rule 8.4's SUSPENDING and RESUMING rows): drains with many
chains in flight and a late backend, a used.idx write response held across the latch and a decision read answered
around it (SUS-21), kicks and device-side configuration changes in SUSPENDING, SUSPENDED and RESUMING, reset / FAILED
/ faults in each of them, queue resets latched and immediate, the drain watchdog, the mode-RFC driver sequences, and
random suspend points under traffic.
Every event is judged by the golden model and the safety monitors (dev_monitors.py); the explicit checks below are
the ones the model does not make on its own (counts of messages per vector, register values, used elements)."""

import cocotb
from cocotb.triggers import Event, RisingEdge

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode

from .dev_tb import TIMEOUT, DevTB, random_chain, random_plan
from .seeded import seeded_test
from .tb_common import AxilHandshakes, CheckerFailure, is_high

NORMAL = (0, 40)
LATE = (300, 2000)
SILENT_COUNTS = ("dma_read", "dma_write", "request", "completion")


# -- helpers -----------------------------------------------------------------------------------------------------------

def config_vector(tb: DevTB) -> int:
    """The MSI-X vector after the queues' (MSIX_VECTORS = NUM_QUEUES + 1 in every parameter set)."""
    return tb.params.NUM_QUEUES


async def bring_up(tb: DevTB, driver, size: int = 16) -> list:
    """tb.start with vector q for queue q, then config_msix_vector = config_vector (read back)."""
    rings = await tb.start(driver, tb.queue_plan(size))
    await tb.bus.write(c.CC_CONFIG_MSIX_VECTOR, config_vector(tb), 2)
    assert await tb.bus.read(c.CC_CONFIG_MSIX_VECTOR, 2) == config_vector(tb), "config_msix_vector not accepted"
    return rings


def post(rng, rings: list, queues, count: int, **options) -> dict:
    """Up to `count` random chains on each queue of `queues`; returns {q: chains posted}."""
    posted = {}
    for q in queues:
        plan = random_plan(rng, rings[q], count, **options)
        for readable, writable, _ in plan:
            rings[q].add_chain(readable, writable)
        posted[q] = len(plan)
    return posted


async def request_suspend(tb: DevTB, driver) -> int:
    """The SUSPEND write alone (no poll); returns the value shown before it."""
    shown = await tb.status()
    await driver.write_status(shown | c.S_SUSPEND)
    return shown


async def wait_suspended(tb: DevTB, limit: int = 4000) -> int:
    """Poll device_status until it shows SUSPEND (shown only in SUSPENDED and RESUMING, in both modes)."""
    for _ in range(limit):
        status = await tb.status()
        if status & c.S_NEEDS_RESET:
            raise CheckerFailure(f"device_status {status:#04x}: NEEDS_RESET while waiting for SUSPEND")
        if status & c.S_SUSPEND:
            return status
        await tb.cycles(4)
    raise CheckerFailure(f"device_status still {status:#04x}: never suspended")


async def start_resume(tb: DevTB, driver) -> None:
    """The resume write alone: RESUMING lasts RESUME_LATENCY cycles after it (rule 8.4)."""
    shown = await tb.status()
    rfc = tb.params.mode == SuspendMode.RFC
    await driver.write_status(shown & ~c.S_SUSPEND if rfc else shown | c.S_DRIVER_OK)


async def device_config_change(tb: DevTB, word: int, value: int) -> None:
    """One cycle of devcfg_wr_valid (rule 8.10), driven like tb.fault_inj."""
    dut = tb.dut
    await RisingEdge(dut.clk)
    dut.devcfg_wr_addr.value = 4 * word
    dut.devcfg_wr_data.value = value
    dut.devcfg_wr_valid.value = 1
    await RisingEdge(dut.clk)
    dut.devcfg_wr_valid.value = 0


async def check_drained(tb: DevTB, driver, rings: list) -> None:
    """SUS-06 at SUSPENDED: every taken chain published (avail_state == used_state == used.idx in memory, no state
    was ever written), every backend request answered and be_quiesce low (SUS-07)."""
    for vq in rings:
        avail_state, used_state = await driver.read_vq_state(vq.index)
        in_memory = tb.mem.read_u16(vq.layout.used_idx_addr)
        assert avail_state == used_state == in_memory, \
            f"queue {vq.index}: avail_state {avail_state}, used_state {used_state}, used.idx {in_memory} at SUSPENDED"
    assert tb.backend.outstanding == 0, "a backend request still unanswered at SUSPENDED"
    assert not is_high(tb.dut.be_quiesce), "be_quiesce high in SUSPENDED"


async def check_silent(tb: DevTB, cycles: int, action=None) -> None:
    """SUS-07: no guest-memory transaction, backend handshake or interrupt for `cycles` cycles (the monitors also
    fail any m_axi_ offer decided in SUSPENDED); `action` (e.g. kicks) runs meanwhile."""
    before = ({name: tb.monitor.counts[name] for name in SILENT_COUNTS}, len(tb.monitor.irqs))
    if action is not None:
        await action()
    await tb.cycles(cycles)
    after = ({name: tb.monitor.counts[name] for name in SILENT_COUNTS}, len(tb.monitor.irqs))
    assert after == before, f"activity while suspended: {before} -> {after}"


async def serve(tb: DevTB, driver, rings: list, owed: dict) -> None:
    """Wait for `owed[q]` more used elements on each queue and compare them with the backend's answers."""
    for q, count in owed.items():
        tb.check_answers(rings[q], await driver.wait_used(rings[q], count))


def reap_checked(tb: DevTB, rings: list) -> None:
    """Whatever was published before the device stopped is still a correct answer."""
    for vq in rings:
        tb.check_answers(vq, vq.reap())


async def between_completions(tb: DevTB) -> None:
    """Stop the backend's answers and wait until no completion's be_wr packet is arriving. DevMonitor reports a
    completion at the end of its packet, or early at an error response or at be_flush, which comes a cycle after a
    fault_inj pulse or a FAILED / 0 status write: a halt during a packet would reach the model before the completion
    and the scatter writes issued before it, which the model then rejects (reported to the lead; dev_monitors.py is
    not this module's)."""
    tb.backend.never_complete = True
    await tb.wait_for(lambda: tb.monitor.completion is None and not is_high(tb.dut.be_cpl_valid)
                      and not is_high(tb.dut.be_wr_tvalid), "no completion in progress")


class ResponseHold:
    """Holds back the response to the next access to one address: a write there (a queue's used.idx) is stored, then
    the AxiRam's write process waits for `release()` before it sends B; a read burst starting there (a queue's
    avail.flags) waits in the read process before any of its data is read, so its R comes after `release()`. The
    process takes no further access meanwhile."""

    def __init__(self, tb: DevTB, read: bool = False):
        self.addr = None
        self.held = False
        self._release = Event()
        if read:
            channel = tb.ram.read_if.ar_channel
            receive = channel.recv

            async def next_burst():
                ar = await receive()
                await self._hold_if(int(ar.araddr) == self.addr)
                return ar

            channel.recv = next_burst
        else:
            original = tb.ram.write_if._write

            async def write(address: int, data: bytes) -> None:
                await original(address, data)
                await self._hold_if(self.addr is not None and address <= self.addr < address + len(data))

            tb.ram.write_if._write = write

    async def _hold_if(self, armed_access: bool) -> None:
        if armed_access:
            self.addr, self.held = None, True
            await self._release.wait()
            self._release.clear()
            self.held = False

    def arm(self, addr: int) -> None:
        self.addr = addr

    def release(self) -> None:
        self._release.set()


# -- tests -------------------------------------------------------------------------------------------------------------

@seeded_test(**TIMEOUT)
async def test_drain_many_in_flight(dut, rng):
    """SUSPEND with up to FETCH_AHEAD chains in flight on every queue and a backend that answers late: every taken
    chain is published before SUSPEND shows (SUS-05, SUS-06), nothing moves while suspended, kicks included (SUS-07,
    SUS-10), and resume serves the chains left in the rings (SUS-11)."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(rng.random() < 0.7)
    driver = tb.driver()
    rings = await bring_up(tb, driver)
    for _ in range(3):
        tb.backend.latency = LATE
        owed = post(rng, rings, range(len(rings)), rng.randint(tb.params.FETCH_AHEAD, 2 * tb.params.FETCH_AHEAD + 2))
        for q in owed:
            await driver.kick(q)
        await tb.wait_for(lambda: tb.backend.outstanding >= min(2, sum(owed.values())), "chains in flight")
        await tb.cycles(rng.randint(0, 200))
        assert tb.backend.outstanding, "no chain in flight at the SUSPEND write"
        await driver.suspend()
        await check_drained(tb, driver, rings)

        async def kicks() -> None:
            for vq in rings:
                await driver.kick_always(vq.index)

        await check_silent(tb, rng.randint(100, 400), kicks)
        tb.backend.latency = NORMAL
        await driver.resume()
        await serve(tb, driver, rings, owed)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_used_idx_response_at_latch(dut, rng):
    """A used.idx write issued in RUNNING whose write response is held until after the SUSPEND latch (SUS-21): its
    notification decision is dropped and its queue gets exactly one forced notification; a queue that publishes
    during the drain gets one, a queue that does not gets none."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await bring_up(tb, driver)
    hold = ResponseHold(tb)
    others = [vq.index for vq in rings[1:2]]  # queues 0 and 1 own vectors 0 and 1 alone
    for _ in range(3):
        await tb.quiet()
        first = rings[0].layout.used_idx_addr
        hold.arm(first)
        owed = post(rng, rings, [0], rng.randint(1, 4))
        await driver.kick_always(0)
        await tb.wait_for(lambda: hold.held, "queue 0's used.idx write response held")
        owed.update(post(rng, rings, others, rng.randint(0, 3)))  # nothing of theirs can publish before the latch
        for q in others:
            await driver.kick_always(q)
        published_at_latch = {vq.index: tb.mem.read_u16(vq.layout.used_idx_addr) for vq in rings}
        irqs_before = len(tb.monitor.irqs)
        await request_suspend(tb, driver)
        assert tb.state == St.SUSPENDING, f"state {tb.state.name} with a used.idx response outstanding"
        await tb.cycles(rng.randint(0, 60))
        hold.release()
        await wait_suspended(tb)
        await check_drained(tb, driver, rings)
        sent = tb.monitor.irqs[irqs_before:]
        for vq in rings[:2]:
            drained = tb.mem.read_u16(vq.layout.used_idx_addr) != published_at_latch[vq.index] or vq.index == 0
            assert sent.count(vq.index) == int(drained), \
                f"queue {vq.index}: {sent.count(vq.index)} forced notifications, expected {int(drained)} ({sent})"
        await driver.resume()
        await serve(tb, driver, rings, owed)
    await tb.finish()


async def latch_offset(tb: DevTB, released: Event) -> int:
    """Edges from the status write that starts now (the edge at which its AW and W have both been taken, where it
    takes effect) to the edge at which the bus takes the first port-0 rlast beat after `released` is set; negative
    when that beat comes first."""
    d = tb.dut
    handshakes = AxilHandshakes(d)  # the monitors' rule for the edge at which a write takes effect
    edge = beat_edge = write_edge = 0
    while not (beat_edge and write_edge):
        await RisingEdge(d.clk)
        edge += 1
        if not beat_edge and released.is_set() and is_high(d.m_axi_rvalid) and is_high(d.m_axi_rready) \
                and is_high(d.m_axi_rlast) and int(d.m_axi_rid.value) == 0:
            beat_edge = edge
        write, _, _ = handshakes.step()
        if write is not None and not write_edge:
            write_edge = edge
    return beat_edge - write_edge


@seeded_test(**TIMEOUT)
async def test_decision_read_at_latch(dut, rng):
    """A decision read (avail.flags, NO_INTERRUPT set) whose data the bus delivers around the SUSPEND latch (SUS-21,
    rule 8.12 set 6). Data taken before the latching status write makes the decision then: no message, and the queue
    stays unmarked, so the drain sends nothing. Data taken at the latch or after it is a decision not yet made: it is
    dropped and the queue gets exactly one forced notification. Each round releases the data one cycle later relative
    to the status write, so one round has the bus take it at the edge before the latch, when it is still inside the
    DMA read buffer (docs/rtl-dma.md "Timing")."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan(16), features=tb.params.DEVICE_FEATURES & ~(1 << c.F_EVENT_IDX))
    vq = rings[0]
    tb.mem.write(vq.layout.avail_flags_addr, c.VIRTQ_AVAIL_F_NO_INTERRUPT.to_bytes(2, "little"))
    hold = ResponseHold(tb, read=True)
    tb.backpressure = False  # the release cycle alone decides where the data lands
    offsets = []
    for shift in range(-3, 4):  # cycles from the start of the status write to the release (negative: release first)
        await tb.quiet()
        hold.arm(vq.layout.avail_flags_addr)
        owed = post(rng, rings, [0], 1)
        await driver.kick_always(0)
        await tb.wait_for(lambda: hold.held, "the decision read of queue 0 held")
        shown = await tb.status()
        irqs_before = len(tb.monitor.irqs)
        released = Event()
        offset = cocotb.start_soon(latch_offset(tb, released))

        def release() -> None:
            released.set()
            hold.release()

        if shift < 0:
            release()
            await tb.cycles(-shift)
        write = cocotb.start_soon(driver.write_status(shown | c.S_SUSPEND))
        if shift >= 0:
            await tb.cycles(shift)
            release()
        await write
        offsets.append(await offset)
        await wait_suspended(tb)
        await check_drained(tb, driver, rings)
        sent = tb.monitor.irqs[irqs_before:]
        expected = int(offsets[-1] >= 0)  # SUS-21: forced iff the decision was not made before the latch
        assert sent.count(vq.index) == expected, \
            f"data taken {offsets[-1]} edges from the latch: {sent.count(vq.index)} messages, expected {expected}"
        await driver.resume()
        await serve(tb, driver, rings, owed)
    assert -1 in offsets and max(offsets) >= 0, f"the data never landed just before and after the latch: {offsets}"
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_kicks_and_config_changes(dut, rng):
    """Kicks in SUSPENDING, SUSPENDED and RESUMING are latched and served at resume (SUS-10); a device-side
    configuration change in SUSPENDING is applied and notified at once, changes in SUSPENDED and RESUMING are
    deferred and give one notification after resume (SUS-08); driver writes to the device configuration while
    suspended are dropped (SUS-09)."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await bring_up(tb, driver)
    words = tb.params.DEV_CFG_SIZE // 4
    config_irqs = lambda: tb.monitor.irqs.count(config_vector(tb))  # noqa: E731
    writable = 2 + rng.randrange(words - 2)  # words 0 and 1 are read-only to the driver (the golden model)
    value = rng.getrandbits(32)
    await tb.bus.write(c.BAR_DEVICE_CFG + 4 * writable, value, 4)
    assert await tb.bus.read(c.BAR_DEVICE_CFG + 4 * writable, 4) == value, "a driver write in RUNNING is taken"

    # SUSPENDING, held there by a backend that answers nothing
    tb.backend.never_complete = True
    owed = post(rng, rings, [0], 1)
    await driver.kick_always(0)
    await tb.wait_for(lambda: tb.backend.outstanding == 1, "one chain in flight")
    await request_suspend(tb, driver)
    assert tb.state == St.SUSPENDING
    for q, n in post(rng, rings, range(len(rings)), 2).items():
        owed[q] = owed.get(q, 0) + n
        await driver.kick_always(q)
    before = config_irqs()
    await device_config_change(tb, rng.randrange(words), rng.getrandbits(32))
    await tb.wait_for(lambda: config_irqs() == before + 1, "the configuration message of a change in SUSPENDING")
    assert tb.state == St.SUSPENDING
    tb.backend.never_complete = False
    await wait_suspended(tb)
    await check_drained(tb, driver, rings)

    # SUSPENDED: changes latched, driver writes dropped, kicks latched
    shown_config = await driver.read_device_config(tb.params.DEV_CFG_SIZE)
    word = rng.randrange(words)
    latest = 0

    async def suspended_traffic() -> None:
        nonlocal latest
        for _ in range(2):
            latest = rng.getrandbits(32)
            await device_config_change(tb, word, latest)
        await tb.bus.write(c.BAR_DEVICE_CFG + 4 * writable, value ^ 0xFFFF_FFFF, 4)
        for vq in rings:
            await driver.kick_always(vq.index)

    before = config_irqs()
    await check_silent(tb, rng.randint(50, 200), suspended_traffic)
    assert await driver.read_device_config(tb.params.DEV_CFG_SIZE) == shown_config, \
        "device configuration changed while suspended (SUS-08, SUS-09)"

    # RESUMING: one more change and a kick, within RESUME_LATENCY (no bus stalls; rule 8.12 set 10: no race)
    tb.backpressure = False
    await start_resume(tb, driver)
    latest = rng.getrandbits(32)
    await device_config_change(tb, word, latest)
    await driver.kick_always(0)
    assert tb.state == St.RESUMING, "the change and the kick came after RESUMING"
    await tb.wait_state(St.RUNNING)
    tb.backpressure = True
    await serve(tb, driver, rings, owed)
    await tb.quiet()
    assert config_irqs() == before + 1, f"{config_irqs() - before} configuration messages after resume, expected 1"
    expected = bytearray(shown_config)
    expected[4 * word:4 * word + 4] = latest.to_bytes(4, "little")
    assert await driver.read_device_config(tb.params.DEV_CFG_SIZE) == bytes(expected), \
        "the latest latched change is not the one applied at resume"
    await tb.finish()


async def reach(tb: DevTB, driver, rings: list, rng, state: St) -> int:
    """Traffic on every queue, then the device in `state` (SUSPENDING is held by a backend that answers nothing);
    returns the value shown there, known without a read (RESUMING lasts only RESUME_LATENCY cycles)."""
    owed = post(rng, rings, range(len(rings)), rng.randint(1, 4))
    tb.backend.never_complete = state == St.SUSPENDING
    tb.backend.latency = LATE
    for q in owed:
        await driver.kick_always(q)
    await tb.wait_for(lambda: tb.backend.outstanding > 0, "chains in flight")
    shown = await request_suspend(tb, driver)
    if state != St.SUSPENDING:
        shown = await wait_suspended(tb)
    if state == St.RESUMING:
        tb.backpressure = False  # the next write must land within RESUME_LATENCY cycles
        await start_resume(tb, driver)
    assert tb.state == state, f"in {tb.state.name}, expected {state.name}"
    return shown


@seeded_test(**TIMEOUT)
async def test_reset_failed_fault_in_suspend_states(dut, rng):
    """A write of 0, a write that sets FAILED and a fault_inj pulse in SUSPENDING, SUSPENDED and RESUMING with chains
    in flight (SUS-12, SUS-13, SUS-15, rule 8.4): reset reads 0; FAILED shows P | 0x80 with no notification; a fault
    shows P | 0x40 with one configuration message exactly when DRIVER_OK is shown. The device works afterwards."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    cases = [(state, action) for state in (St.SUSPENDING, St.SUSPENDED, St.RESUMING)
             for action in ("reset", "failed", "fault")]
    rng.shuffle(cases)
    for state, action in cases:
        dut._log.info("%s in %s", action, state.name)
        rings = await bring_up(tb, driver)
        await tb.quiet()
        shown = await reach(tb, driver, rings, rng, state)
        irqs_before = len(tb.monitor.irqs)
        if action == "reset":
            await driver.reset()
            assert await tb.status() == 0
        elif action == "failed":
            await driver.write_status(shown | c.S_FAILED)
            assert await tb.status() == shown | c.S_FAILED
            assert tb.state == St.HALTED
        else:
            await tb.fault_inj()
            assert await tb.wait_halted() == shown | c.S_NEEDS_RESET
        tb.backpressure = True
        tb.backend.never_complete = False
        tb.backend.latency = NORMAL
        await tb.quiet()
        sent = tb.monitor.irqs[irqs_before:]
        config_messages = int(action == "fault" and bool(shown & c.S_DRIVER_OK))
        assert sent == [config_vector(tb)] * config_messages, f"{action} in {state.name}: messages {sent}"
        reap_checked(tb, rings)
    rings = await bring_up(tb, driver)
    await tb.run_chains(driver, rings, {q: random_plan(rng, rings[q], 3) for q in range(len(rings))})
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_fault_during_drain(dut, rng):
    """A fault_inj pulse in SUSPENDING after the drain has published (SUS-12, SUS-21): NEEDS_RESET, SUSPEND never
    shown, one forced notification for each queue that published since the request, then one NEEDS_RESET
    configuration message last."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    for _ in range(2):
        rings = await bring_up(tb, driver)
        await tb.quiet()
        tb.backend.latency = (10**7, 10**7)  # only be_quiesce gets an answer
        owed = post(rng, rings, range(len(rings)), tb.params.FETCH_AHEAD, max_len=600)
        for q in owed:
            await driver.kick_always(q)
        await tb.wait_for(lambda: tb.backend.outstanding >= 2, "chains in flight")
        at_latch = {vq.index: tb.mem.read_u16(vq.layout.used_idx_addr) for vq in rings}
        irqs_before = len(tb.monitor.irqs)
        await request_suspend(tb, driver)
        published = lambda: {vq.index for vq in rings  # noqa: E731
                             if tb.mem.read_u16(vq.layout.used_idx_addr) != at_latch[vq.index]}
        await tb.wait_for(lambda: published() or tb.state != St.SUSPENDING, "a publication during the drain")
        marked = published()
        await tb.cycles(20)  # their used.idx write responses have arrived: those queues are marked (SUS-21)
        await between_completions(tb)
        assert tb.state == St.SUSPENDING, f"the drain ended ({tb.state.name}) before the fault could be injected"
        await tb.fault_inj()
        tb.backend.never_complete = False
        assert await tb.wait_halted() == 0x4F, "SUS-12: P | NEEDS_RESET, SUSPEND never shown"
        tb.backend.latency = NORMAL
        await tb.quiet()
        sent = tb.monitor.irqs[irqs_before:]
        assert sent and sent[-1] == config_vector(tb) and sent.count(config_vector(tb)) == 1, \
            f"one NEEDS_RESET configuration message, last: {sent}"
        forced = sent[:-1]
        # a used.idx response that arrives after HALTED entry marks nothing (the queues "marked by then", SUS-21)
        assert len(set(forced)) == len(forced) and marked <= set(forced) <= published(), \
            f"forced notifications {forced}: marked before the fault {marked}, published by the end {published()}"
        reap_checked(tb, rings)
    await tb.finish()


async def queue_reset_write(tb: DevTB, q: int) -> None:
    await tb.bus.write(c.CC_QUEUE_SELECT, q, 2)
    await tb.bus.write(c.CC_QUEUE_RESET, 1, 2)


async def queue_registers(tb: DevTB, driver, q: int) -> tuple:
    """(queue_reset, queue_enable, avail_state, used_state) of queue q."""
    await tb.bus.write(c.CC_QUEUE_SELECT, q, 2)
    return (await tb.bus.read(c.CC_QUEUE_RESET, 2), await tb.bus.read(c.CC_QUEUE_ENABLE, 2),
            *await driver.read_vq_state(q))


@seeded_test(**TIMEOUT)
async def test_queue_reset_while_suspended(dut, rng):
    """SUS-17 with traffic on the other queues: a queue reset written in SUSPENDING is latched (reads 1), the queue's
    chains still drain, and the reset is performed at SUSPENDED; one written in SUSPENDED is performed at once. The
    other queues resume normally; the reset queue set up again works."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await bring_up(tb, driver)
    victim = 0
    for latched in (True, False):
        owed = post(rng, rings, range(len(rings)), rng.randint(1, 3))
        tb.backend.never_complete = latched
        tb.backend.latency = LATE
        for q in owed:
            await driver.kick_always(q)
        await tb.wait_for(lambda: tb.backend.outstanding > 0, "chains in flight")
        await request_suspend(tb, driver)
        if latched:
            assert tb.state == St.SUSPENDING
            await queue_reset_write(tb, victim)
            assert (await queue_registers(tb, driver, victim))[:2] == (1, 1), "queue_reset latched in SUSPENDING"
            tb.backend.never_complete = False
        await wait_suspended(tb)
        published = tb.mem.read_u16(rings[victim].layout.used_idx_addr)
        if not latched:
            await check_drained(tb, driver, rings)
            await queue_reset_write(tb, victim)
        assert await queue_registers(tb, driver, victim) == (0, 0, 0, 0), "queue reset performed by SUSPENDED"
        tb.backend.latency = NORMAL
        await driver.resume()
        await serve(tb, driver, rings, {q: n for q, n in owed.items() if q != victim})
        reap_checked(tb, [rings[victim]])
        await tb.quiet()
        assert tb.mem.read_u16(rings[victim].layout.used_idx_addr) == published, "the reset queue published again"
        rings[victim] = await tb.setup_queue(driver, victim, 16, victim)
        await tb.run_chains(driver, rings, {victim: random_plan(rng, rings[victim], 3)})
        victim = (victim + 1) % len(rings)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_drain_watchdog(dut, rng):
    """A backend that never completes (SUS-22): with SUSPEND_DRAIN_TIMEOUT = T the device shows NEEDS_RESET (0x4F)
    T cycles after the latch, sends the one configuration message and stops cleanly; with T = 0 it stays SUSPENDING
    until the driver resets it. The device works after a reset."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await bring_up(tb, driver)
    timeout = tb.params.SUSPEND_DRAIN_TIMEOUT
    tb.backend.never_complete = True
    post(rng, rings, range(len(rings)), 2)
    for vq in rings:
        await driver.kick_always(vq.index)
    await tb.wait_for(lambda: tb.backend.outstanding > 0, "chains in flight")
    irqs_before = len(tb.monitor.irqs)
    await request_suspend(tb, driver)
    latched = tb.monitor.edge
    if timeout:
        await tb.wait_state(St.HALTED, limit=timeout + 1000)
        waited = tb.monitor.edge - latched
        assert timeout - 20 <= waited <= timeout + 2, f"HALTED {waited} cycles after the latch, watchdog {timeout}"
        assert await tb.wait_halted() == 0x4F
        tb.backend.never_complete = False  # it may now answer the void tags
        await tb.quiet()
        assert tb.monitor.irqs[irqs_before:] == [config_vector(tb)], "one NEEDS_RESET configuration message"
        await check_silent(tb, 300)
    else:
        await tb.cycles(3000)
        assert tb.state == St.SUSPENDING and await tb.status() == 0x0F, "without a watchdog the drain waits"
    await driver.reset()
    tb.backend.never_complete = False
    rings = await bring_up(tb, driver)
    await tb.run_chains(driver, rings, {0: [random_chain(rng) + ({},)]})
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_rfc_driver_sequences(dut, rng):
    """Mode RFC: the 2024 Linux prototype (suspend before DRIVER_OK 0x0B -> 0x1B -> 0x0B back to INIT; suspend with
    traffic 0x0F -> 0x1F -> 0x0F), the combined write 0x1F from INIT, and the RFC1 re-write of 0x1F that resumes
    (SUS-03, SUS-11). Mode V14: the same re-write of the shown 0x1B and the prototype's 0x0B are ignored (SUS-14,
    SUS-23) until the driver sets DRIVER_OK."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    p = tb.params
    init_shown = c.S_ACKNOWLEDGE | c.S_DRIVER | c.S_FEATURES_OK

    async def queues_in_init() -> list:
        await driver.reset()
        await tb.quiet()
        await driver.init()
        return [await tb.setup_queue(driver, q, 16, q) for q in range(p.NUM_QUEUES)]

    if p.mode == SuspendMode.RFC:
        rings = await queues_in_init()
        owed = post(rng, rings, range(len(rings)), 2)
        assert await driver.suspend() == init_shown | c.S_SUSPEND
        await check_silent(tb, 100)
        assert await driver.resume() == init_shown and tb.state == St.INIT
        await driver.driver_ok()  # entry into RUNNING: the scan finds the chains (SUS-10)
        await serve(tb, driver, rings, owed)
        for resume in (driver.resume, driver.resume_rfc1):
            tb.backend.latency = LATE
            owed = post(rng, rings, range(len(rings)), 3)
            for q in owed:
                await driver.kick_always(q)
            assert await driver.suspend() == 0x1F
            await check_drained(tb, driver, rings)
            tb.backend.latency = NORMAL
            assert await resume() == 0x0F
            await serve(tb, driver, rings, owed)
        rings = await queues_in_init()
        owed = post(rng, rings, range(len(rings)), 2)
        await driver.write_status(0x1F)
        assert await tb.status() == 0x1F and tb.state == St.SUSPENDED, "0x1F from INIT: suspended with DRIVER_OK"
        await check_silent(tb, 100)
        assert await driver.resume_rfc1() == 0x0F
        await serve(tb, driver, rings, owed)
    else:
        rings = await bring_up(tb, driver)
        owed = post(rng, rings, range(len(rings)), 3)
        for q in owed:
            await driver.kick_always(q)
        assert await driver.suspend() == 0x1B
        for ignored in (0x1B, 0x0B):
            await driver.write_status(ignored)
            await tb.cycles(4 * p.RESUME_LATENCY)
            assert await tb.status() == 0x1B and tb.state == St.SUSPENDED, f"{ignored:#04x} resumed a V14 device"
        assert await driver.resume() == 0x0F
        await serve(tb, driver, rings, owed)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_random_suspend_points(dut, rng):
    """Constrained random: traffic on random queues with random backend latency and order, then a SUSPEND and, at a
    random point of SUSPENDING, SUSPENDED or RESUMING, a resume, a reset, a FAILED write or a fault. Rule 8.12 set 10:
    no action races a timed transition (a SUSPENDING that is acted on is held by a backend that stops answering, a
    RESUMING action comes within RESUME_LATENCY with the register bus unstalled). Every element published is checked
    against the backend's answer; after a resume every chain is served."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(rng.random() < 0.7)
    driver = tb.driver()
    rings = await bring_up(tb, driver)
    owed = {vq.index: 0 for vq in rings}
    for episode in range(12):
        tb.backend.latency = rng.choice([NORMAL, (0, 300), LATE])
        tb.backend.reorder = rng.random() < 0.7
        for q, n in post(rng, rings, rng.sample(range(len(rings)), rng.randint(1, len(rings))),
                         rng.randint(1, 6)).items():
            owed[q] += n
            await driver.kick_always(q)
        await tb.cycles(rng.randint(0, 300))
        point = rng.choice((St.SUSPENDING, St.SUSPENDED, St.RESUMING))
        action = rng.choice(("resume", "resume", "reset", "failed", "fault"))
        if point == St.SUSPENDING and action != "resume" and not tb.backend.outstanding:
            point = St.SUSPENDED  # nothing to hold the drain open
        dut._log.info("episode %d: %s in %s", episode, action, point.name)
        tb.backend.never_complete = point == St.SUSPENDING and action != "resume"
        shown = await request_suspend(tb, driver)
        if point == St.SUSPENDING:
            await tb.cycles(rng.randint(0, 80))
        else:
            shown = await wait_suspended(tb)
            if point == St.RESUMING:
                tb.backpressure = False
                await start_resume(tb, driver)
                await tb.cycles(rng.randint(0, tb.params.RESUME_LATENCY // 4))
        if action == "resume":
            if tb.state == St.SUSPENDING:
                await wait_suspended(tb)
            if tb.state == St.SUSPENDED:
                await check_drained(tb, driver, rings)
                await driver.resume()
            await tb.wait_state(St.RUNNING)
            tb.backpressure = True
            for vq in rings:
                used = vq.reap()
                tb.check_answers(vq, used)
                owed[vq.index] -= len(used)
            continue
        if point == St.SUSPENDING:
            await between_completions(tb)
        assert tb.state == point, f"{action} meant for {point.name} would meet {tb.state.name}"
        if action == "reset":
            await driver.reset()
        elif action == "failed":
            await driver.write_status(shown | c.S_FAILED)
            assert await tb.status() == shown | c.S_FAILED and tb.state == St.HALTED
        else:
            await tb.fault_inj()
            assert await tb.wait_halted() == shown | c.S_NEEDS_RESET
        tb.backpressure = True
        tb.backend.never_complete = False
        tb.backend.latency = NORMAL
        await tb.quiet()
        reap_checked(tb, rings)
        rings = await bring_up(tb, driver)
        owed = {vq.index: 0 for vq in rings}
    tb.backend.latency = NORMAL
    await serve(tb, driver, rings, owed)
    await tb.finish()
