"""Testbench of the device top `virtio_pci_dev` (rtl/virtio_pci_dev.sv): the reference driver, guest memory and a
device backend around the whole device, every observable event judged by the golden model.

    tb = DevTB(dut, rng)                   # clock, AxiLiteMaster, AxiRam guest memory, backend, monitors
    await tb.reset()
    driver = tb.driver()
    rings = await tb.start(driver, [(64, 0), (64, 1)])   # reset, init, queues (size, MSI-X vector), DRIVER_OK
    rings[0].add_chain([b"..."], [100]); await driver.kick(0)
    used = await driver.wait_used(rings[0], 1); tb.check_answers(rings[0], used)
    await tb.finish()                      # interrupts delivered, observer.finish(), speed logged

Pieces:
- `ErrorAxiRam`: cocotbext-axi's AxiRam (a sparse 2^48-byte memory) with error responses. AxiSlaveRead/Write
  answer SLVERR when `_read`/`_write` raise; the subclasses raise for an access that touches a region injected with
  `GuestMem.inject_error` (virtio_golden.memory) and turn the SLVERR into DECERR when the region asks for it, by
  wrapping `send` of their R / B channel. A read fails for any bus word it touches; a write only for strobed bytes.
- `RamGuestMem`: a `GuestMem` whose bytes are the AxiRam's memory, so the driver, the observer and the backend
  checks all read the one memory the device reads and writes (no copies).
- `Backend` (dev_backend.py), `DevMonitor` and `DmaSafety` (dev_monitors.py), `Scoreboard` (tb_common.py) as
  `CoveredScoreboard` (dev_coverage.py), which samples the device covergroups from the golden model's state.
- Seeded idle/backpressure on every channel: AXI-Lite (5), AXI4 (5), be_rd tready, be_wr tvalid, irq_ready; the
  backend adds be_req_ready stalls and be_cpl_valid idles.

Planted faults, selected by the environment variable DEV_TB_FAULT (tests/rtl/test_dev_checkers.py):
`wrong_data` (the backend flips a byte of one answer: the end-of-test comparison), `early_quiesce` (the monitor
reports be_quiesce high at the first backend request: the golden model), `corrupt_used` (the testbench corrupts
the len of the first used element in memory right after its write response: the end-of-test comparison),
`dma_state` (the DMA monitor forbids SUSPENDING too), `forget_chain` (the write monitor forgets the first chain
in flight), `lost_response` (the used.idx monitor never sees a write response retire a burst), `desc_write`
(`planted_chains` posts a chain whose writable buffer lies in its own descriptor table: the write monitor),
`irq_state` (the SUS-25 monitor counts SUSPENDING as suspended, so a drain's forced notification fires it),
`error_freeze` (the DMA monitor takes the first write response for an error response, so the next new offer
fires it).
"""

import logging
import os
import random
import time
from typing import Optional

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster
from cocotbext.axi.axi_ram import AxiRamRead, AxiRamWrite
from cocotbext.axi.constants import AxiResp
from cocotbext.axi.memory import Memory

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.driver import Driver, VirtQueue
from virtio_golden.memory import ADDRESS_SPACE, DmaError, GuestMem, MemAllocator
from virtio_golden.observer import Observer
from virtio_golden.params import Params

from .dev_backend import Backend, answer_pattern
from .dev_coverage import CoveredScoreboard
from .dev_monitors import DevMonitor, DmaSafety
from .identity import ENV_PARAMSET
from .tb_common import (AxilRegBus, CheckerFailure, CycleClock, Scoreboard, allocator_window, is_high,
                        random_pause)

TOPLEVEL = "virtio_pci_dev"
CLOCK_PERIOD_NS = 10
ENV_FAULT = "DEV_TB_FAULT"
FAULTS = ("wrong_data", "early_quiesce", "corrupt_used", "dma_state", "forget_chain", "lost_response",
          "desc_write", "irq_state", "error_freeze")
TIMEOUT = {"timeout_time": 20, "timeout_unit": "ms"}  # simulated time per cocotb test: a hang fails

# -- parameter sets (one build each): rule 8.8 names plus AXI_DATA_WIDTH ----------------------------------------------

PARAMSETS = {
    "default": {},
    "mode_rfc": {"SUSPEND_MODE": int(SuspendMode.RFC)},
    "wide": {"AXI_DATA_WIDTH": 128},
    # Small rings: index wrap and ring-slot wrap in few chains; batched used.idx writes (rule 8.3).
    "small": {"QUEUE_SIZE_MAX": 16, "FETCH_AHEAD": 2, "USED_BATCH": 4, "NUM_QUEUES": 3},
    # Drain watchdog (SUS-22), long enough that no drain with an answering backend reaches it.
    "watchdog": {"SUSPEND_DRAIN_TIMEOUT": 20000},
}


def golden_params(paramset: str) -> Params:
    return Params().with_(**PARAMSETS[paramset])


def rtl_parameters(paramset: str) -> dict:
    """The build's parameters; DEVICE_FEATURES as a 64-bit literal (Verilator truncates a decimal -G to 32 bits)."""
    return {name: f"64'h{value:016x}" if name == "DEVICE_FEATURES" else value
            for name, value in PARAMSETS[paramset].items()}


def random_chain(rng: random.Random, max_bufs: int = 3, max_len: int = 300) -> tuple:
    """Readable payloads and writable lengths of one chain (zero lengths included), at least one buffer."""
    readable = [rng.randbytes(rng.randint(0, max_len)) for _ in range(rng.randint(0, max_bufs))]
    writable = [rng.randint(0, max_len) for _ in range(rng.randint(0 if readable else 1, max_bufs))]
    return readable, writable


def held_chain_bufs(params: Params, chains: int) -> int:
    """`max_bufs` for random_chain when `chains` chains must all be walked and held at once: their buffers (up to
    2 * max_bufs each) must fit the engine's buffer pool together, which is sure to hold MAX_CHAIN_LEN. A walk that
    finds the pool full waits for a chain to be freed (docs/rtl-engine.md "Storage"; rule 8.1 makes FETCH_AHEAD a
    bound, not a promise)."""
    return max(1, min(2, params.MAX_CHAIN_LEN // (2 * max(chains, 1))))


def random_plan(rng: random.Random, vq: VirtQueue, count: int, **options) -> list:
    """Up to `count` random direct chains (random_chain(rng, **options)) that fit in the ring's free descriptors,
    as run_chains plans: [(readable, writable, {}), ...]."""
    plan, free = [], vq.num_free
    for _ in range(count):
        readable, writable = random_chain(rng, **options)
        if len(readable) + len(writable) > free:
            break
        free -= len(readable) + len(writable)
        plan.append((readable, writable, {}))
    return plan


# -- guest memory ----------------------------------------------------------------------------------------------------

class RamGuestMem(GuestMem):
    """`GuestMem` over an AxiRam's memory: raw reads and writes go to the RAM the device accesses, at the same
    offset the RAM's bus side uses (address modulo its size); error regions injected here make the RAM answer with
    SLVERR / DECERR."""

    def __init__(self, ram: Memory):
        super().__init__()
        self.ram = ram

    def read(self, addr: int, n: int) -> bytes:
        if addr < 0 or n < 0 or addr + n > ADDRESS_SPACE:
            raise ValueError(f"raw access of {n} bytes at {addr:#x} lies outside the 64-bit address space")
        return bytes(self.ram.read(addr % self.ram.size, n))

    def _store(self, addr: int, data: bytes) -> None:
        self.ram.write(addr % self.ram.size, bytes(data))


class _ErrorRead(AxiRamRead):
    def __init__(self, *args, guest: GuestMem, **kwargs):
        super().__init__(*args, **kwargs)
        self.guest = guest
        self._decerr = False
        send = self.r_channel.send

        async def send_with_decerr(r):
            if self._decerr and r.rresp == AxiResp.SLVERR:
                r.rresp = AxiResp.DECERR
            self._decerr = False
            await send(r)

        self.r_channel.send = send_with_decerr

    async def _read(self, address, length):
        try:
            self.guest.check(address, length, is_write=False)
        except DmaError as error:
            self._decerr = error.resp == ev.DECERR
            raise
        return await super()._read(address, length)


class _ErrorWrite(AxiRamWrite):
    def __init__(self, *args, guest: GuestMem, **kwargs):
        super().__init__(*args, **kwargs)
        self.guest = guest
        self._decerr = False
        send = self.b_channel.send

        async def send_with_decerr(b):
            if self._decerr and b.bresp == AxiResp.SLVERR:
                b.bresp = AxiResp.DECERR
            self._decerr = False
            await send(b)

        self.b_channel.send = send_with_decerr

    async def _write(self, address, data):
        try:
            self.guest.check(address, len(data), is_write=True)
        except DmaError as error:
            self._decerr = self._decerr or error.resp == ev.DECERR
            raise
        await super()._write(address, data)


class ErrorAxiRam(Memory):
    """cocotbext-axi's AxiRam, built from the two error-answering halves above. SIZE: the sparse memory's `len()`
    must fit a C ssize_t, so not all of 2^64. The RAM answers address % SIZE (cocotbext-axi's own rule), so the 2^16
    aliases of each offset are one memory: the testbench's allocator puts its blocks at high addresses that way."""

    SIZE = 1 << 48

    def __init__(self, bus, clock, reset, mem=None):
        super().__init__(self.SIZE, mem)  # mem: another RAM's sparse memory, to share it (cocotbext-axi `mem=`)
        self.guest = RamGuestMem(self)
        self.write_if = _ErrorWrite(bus.write, clock, reset, mem=self.mem, guest=self.guest)
        self.read_if = _ErrorRead(bus.read, clock, reset, mem=self.mem, guest=self.guest)


# -- the testbench -----------------------------------------------------------------------------------------------------

def check_answers(backend: Backend, vq: VirtQueue, used: list) -> None:
    """The end-of-test comparison, independent of the golden model: each used element's len and the bytes the
    driver finds in its writable buffers are the backend's answer to that chain, recomputed from the bytes the
    driver posted (not from what the device gathered), cut as rule 8.11 cuts it."""
    for u in used:
        answer = backend.answers.get((vq.index, u.head))
        if answer is None:
            raise CheckerFailure(f"queue {vq.index} head {u.head} came back used; the backend never answered it")
        n = min(answer.length, len(answer.data), u.capacity)
        expected = answer_pattern(answer.request.tag, u.readable, n)
        if u.len != n or u.data != expected:
            raise CheckerFailure(f"queue {vq.index} head {u.head}: used len {u.len} and data {u.data[:32].hex()}, "
                                 f"expected len {n} and data {expected[:32].hex()} (tag {answer.request.tag})")


class DevTB:
    BACKPRESSURE = 0.3      # probability that a channel pauses in a cycle
    IRQ_STALL = 0.5         # probability that irq_ready is low in a cycle

    def __init__(self, dut, rng: random.Random, *, scoreboard: bool = True, mem=None, start_clock: bool = True):
        """`mem` and `start_clock` serve two devices on one top (migration_tb.py): the second shares the first one's
        RAM memory (`tb.ram.mem`) and clock."""
        self.dut = dut
        self.rng = rng
        self.paramset = os.environ.get(ENV_PARAMSET, "default")
        self.params = golden_params(self.paramset)
        self.fault = os.environ.get(ENV_FAULT, "")
        if self.fault and self.fault not in FAULTS:
            raise ValueError(f"{ENV_FAULT} must be one of {FAULTS}, not {self.fault!r}")
        self.bus_bytes = self.params.AXI_DATA_WIDTH // 8
        self.use_scoreboard = scoreboard
        self.scoreboard: Optional[Scoreboard] = None

        dut.rst.value = 1
        for name in ("msix_enable", "devcfg_wr_valid", "devcfg_wr_addr", "devcfg_wr_data", "fault_inj", "irq_ready"):
            getattr(dut, name).value = 0
        if start_clock:
            Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start()
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.ram = ErrorAxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, mem)
        self.mem = self.ram.guest
        self.backend = Backend(dut, rng, self.bus_bytes)
        for log in (self.axil.write_if.log, self.axil.read_if.log, self.ram.write_if.log, self.ram.read_if.log):
            log.setLevel(logging.WARNING)  # one INFO line per access costs more than the access
        self.bus = AxilRegBus(self.axil)
        self.clock = CycleClock(dut.clk)
        self.alloc = MemAllocator(*allocator_window(rng))
        self.safety = DmaSafety(self.mem)
        self.monitor: Optional[DevMonitor] = None
        self.backend.corrupt_data = self.fault == "wrong_data"
        self._channels = (self.axil.write_if.aw_channel, self.axil.write_if.w_channel, self.axil.write_if.b_channel,
                          self.axil.read_if.ar_channel, self.axil.read_if.r_channel,
                          self.ram.write_if.aw_channel, self.ram.write_if.w_channel, self.ram.write_if.b_channel,
                          self.ram.read_if.ar_channel, self.ram.read_if.r_channel,
                          self.backend.sink, self.backend.source)
        self.backpressure = True
        self._started = time.perf_counter()
        cocotb.start_soon(self._drive_backpressure())

    async def _drive_backpressure(self) -> None:
        """One coroutine for every pause pattern: each cycle each channel pauses with probability BACKPRESSURE and
        irq_ready is low with probability IRQ_STALL (none at all with `backpressure` False)."""
        probabilities = (self.BACKPRESSURE,) * len(self._channels) + (self.IRQ_STALL,)
        patterns = [random_pause(random.Random(self.rng.random()), p) for p in probabilities]
        irq_ready = None
        while True:
            pauses = [next(pattern) and self.backpressure for pattern in patterns]
            for channel, pause in zip(self._channels, pauses):
                channel.pause = pause
            ready = not pauses[-1]
            if ready != irq_ready:
                self.dut.irq_ready.value = irq_ready = ready
            await RisingEdge(self.dut.clk)

    async def reset(self) -> None:
        """`rst` for a few cycles; a fresh golden model, monitors and backend."""
        if self.monitor is not None:
            self.monitor.stop()
        self.backend.stop()
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        self.safety.forget_all()
        if self.use_scoreboard:
            self.scoreboard = CoveredScoreboard(self.params, self.dut._log, mem=self.mem, bus_bytes=self.bus_bytes)
            if is_high(self.dut.msix_enable):
                self.scoreboard.observer.observe(ev.MsixEnable(True))
        self.monitor = DevMonitor(self)
        self.monitor.writes.keep_answered = self.fault == "lost_response"
        self.safety.forget_first_request = self.fault == "forget_chain"
        self.monitor.start()
        self.backend.start()
        if self.fault == "early_quiesce":
            cocotb.start_soon(self._planted_early_quiesce())
        if self.fault == "corrupt_used":
            cocotb.start_soon(self._planted_corrupt_used())

    # -- views
    @property
    def state(self) -> St:
        return self.monitor.state

    @property
    def observer(self) -> Optional[Observer]:
        return self.scoreboard.observer if self.scoreboard is not None else None

    def driver(self, **options) -> Driver:
        p = self.params
        return Driver(self.bus, self.mem, self.clock, self.alloc, num_queues=p.NUM_QUEUES, mode=p.mode,
                      f_suspend_bit=p.F_SUSPEND_BIT, **{"poll_limit": 4000, "poll_wait": 4, **options})

    # -- bring-up
    async def set_msix(self, enabled: bool) -> None:
        await RisingEdge(self.dut.clk)
        self.dut.msix_enable.value = int(enabled)
        await RisingEdge(self.dut.clk)

    async def start(self, driver: Driver, queues: list, features: Optional[int] = None,
                    states: Optional[dict] = None) -> list:
        """Reset, init, every queue of `queues` = [(size, vector), ...] set up and tracked by the monitors (with
        `states[q]` = (avail_state, used_state) written before its enable, SUS-19), then DRIVER_OK."""
        await driver.reset()
        await self.quiet()  # the backend answers the now void requests before new chains reuse their heads
        await driver.init(features)
        rings = [await self.setup_queue(driver, q, size, vector, (states or {}).get(q))
                 for q, (size, vector) in enumerate(queues)]
        await driver.driver_ok()
        return rings

    async def setup_queue(self, driver: Driver, q: int, size: int, vector: int,
                          state: Optional[tuple] = None) -> VirtQueue:
        """driver.setup_queue, with the ring told to the write monitors before queue_enable (an enable in RUNNING
        is an entry into RUNNING: the engine may write avail_event at once, rule 8.2)."""
        avail_idx, used_idx = state or (0, 0)
        vq = VirtQueue.allocate(self.mem, self.alloc, q, size, event_idx=driver.has_feature(c.F_EVENT_IDX),
                                indirect_ok=driver.has_feature(c.F_INDIRECT_DESC), vector=vector,
                                avail_idx=avail_idx, used_idx=used_idx)
        self.track(vq)
        return await driver.adopt_queue(vq, state=state)

    def queue_plan(self, size: int = 0) -> list:
        """(size, MSI-X vector) for every queue: at most 64 entries, vector q for queue q."""
        size = size or min(self.params.QUEUE_SIZE_MAX, 64)
        return [(size, q) for q in range(self.params.NUM_QUEUES)]

    async def run_chains(self, driver: Driver, rings: list, chains: dict, kick: bool = True) -> dict:
        """Post `chains[q]` = [(readable, writable, add_chain options), ...] on each queue, kick, wait for every
        one of them and compare them with the backend's answers (check_answers)."""
        for q, plan in chains.items():
            for readable, writable, options in plan:
                rings[q].add_chain(readable, writable, **options)
            if kick:
                await driver.kick(q)
        used = {}
        for q, plan in chains.items():
            used[q] = await driver.wait_used(rings[q], len(plan))
            self.check_answers(rings[q], used[q])
        return used

    def track(self, vq: VirtQueue) -> None:
        """Tell the write monitors about a ring the driver set up (before the device may use it)."""
        self.safety.track(vq.index, vq.layout, self.mem.read_u16(vq.layout.used_idx_addr))

    # -- register access
    async def status(self) -> int:
        return await self.bus.read(c.CC_DEVICE_STATUS, 1)

    async def fault_inj(self) -> None:
        await RisingEdge(self.dut.clk)
        self.dut.fault_inj.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.fault_inj.value = 0
        await Timer(1, "ns")

    # -- waiting
    async def cycles(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    async def wait_state(self, *states: St, limit: int = 20000) -> St:
        for _ in range(limit):
            if self.state in states:
                return self.state
            await RisingEdge(self.dut.clk)
        raise CheckerFailure(f"state {self.state.name} after {limit} cycles; expected {[s.name for s in states]}")

    async def wait_for(self, condition, what: str, limit: int = 20000) -> None:
        """Wait until `condition()` holds, checked once per cycle."""
        for _ in range(limit):
            if condition():
                return
            await RisingEdge(self.dut.clk)
        raise CheckerFailure(f"{what}: not reached after {limit} cycles")

    async def wait_halted(self, limit: int = 20000) -> int:
        """Wait for HALTED, then poll device_status until it shows NEEDS_RESET (every read judged); returns it."""
        await self.wait_state(St.HALTED, limit=limit)
        for _ in range(100):
            status = await self.status()
            if status & c.S_NEEDS_RESET:
                return status
        raise CheckerFailure(f"HALTED, but device_status reads {status:#04x}")

    async def quiet(self, cycles: int = 16, limit: int = 50000) -> None:
        """Wait until nothing moves: no interrupt offered, no backend work, no guest-memory transaction open, no
        backend request or completion in transit, for `cycles` cycles in a row."""
        quiet = 0
        d = self.dut
        for _ in range(limit):
            m = self.monitor
            busy = (is_high(d.irq_valid) or self.backend.outstanding or m.reads.outstanding or m.writes.outstanding
                    or m.requests or m.completion is not None or is_high(d.be_req_valid)
                    or is_high(d.m_axi_arvalid) or is_high(d.m_axi_awvalid))
            quiet = 0 if busy else quiet + 1
            if quiet >= cycles:
                return
            await RisingEdge(d.clk)
        raise CheckerFailure("the device never went quiet")

    # -- checks
    def check_answers(self, vq: VirtQueue, used: list) -> None:
        """The end-of-test comparison of this TB's backend (check_answers below)."""
        check_answers(self.backend, vq, used)

    async def finish(self) -> None:
        """Let owed interrupts be delivered, run observer.finish(), log the speed."""
        self.backpressure = False
        await self.quiet()
        if self.scoreboard is not None:
            if not is_high(self.dut.msix_enable):
                await self.bus.read(c.BAR_ISR, 1)  # owed ISR bits must show now
            self.scoreboard.finish()
        elapsed = time.perf_counter() - self._started
        cycles = get_sim_time("ns") // CLOCK_PERIOD_NS
        counts = dict(self.monitor.counts)
        self.dut._log.info("%d cycles in %.2f s (%.0f cycles/s); monitor counts %s; %d events judged by the model",
                           cycles, elapsed, cycles / max(elapsed, 1e-9), counts,
                           self.scoreboard.events if self.scoreboard is not None else 0)

    # -- planted faults
    def planted_chains(self, rings: list) -> int:
        """Planted fault `desc_write`: one chain whose writable buffer is the last descriptor slot of queue 0's own
        table (a driver bug the device obeys, which the write monitor must report). Returns the chains posted."""
        if self.fault != "desc_write":
            return 0
        vq = rings[0]
        last_slot = vq.layout.desc + c.DESC_SIZE * (vq.size - 1)
        head = vq.add_chain([b"into the table"], [16])
        writable = self.mem.read_u16(vq.layout.desc + c.DESC_SIZE * head + 14)  # the head's `next`
        self.mem.write_u64(vq.layout.desc + c.DESC_SIZE * writable, last_slot)
        return 1

    async def _planted_early_quiesce(self) -> None:
        while self.monitor.counts["request"] == 0:
            await RisingEdge(self.dut.clk)
        self.scoreboard.push((ev.Quiesce(True), St.RUNNING))

    async def _planted_corrupt_used(self) -> None:
        """Flip the len of the first used element once its write is visible."""
        while True:
            await RisingEdge(self.dut.clk)
            for layout in self.safety.layouts.values():
                element = layout.used_elem_addr(0)
                length = self.mem.read_u32(element + 4)
                if length and self.mem.read_u16(layout.used_idx_addr):
                    self.mem.write_u32(element + 4, length ^ 1)
                    return
