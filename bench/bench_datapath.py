"""cocotb side of `make bench` (bench/run_bench.py builds and runs it; docs/bench.md explains the figures).

One simulation of bench/virtio_bench_top.sv (virtio_pci_dev behind axi_delay, cocotbext-axi AxiRam as guest memory)
measures, in this order:
- throughput: for each buffer size S, chains of one readable buffer of S bytes and one writable buffer of S bytes
  (the backend answers S bytes) on every queue, the rings kept topped up by the reference driver; after a warm-up,
  a window of `measured` chains is timed with the top's bench_* counters, sampled when the driver reaps;
- suspend latency: for each N, N chains of 64 bytes posted over the queues while the backend holds every request
  (until be_quiesce tells it to answer), then the driver's SUSPEND write; cycles from the cycle the write executes
  (the later of its AXI-Lite AW and W handshakes) to the first cycle the core's state register shows SUSPENDED,
  and to the end of the driver's first device_status read that shows SUSPEND.

No golden-model observer and no monitors run (they cost more than the device); the backend answers at once,
in order, always ready. Correctness is checked instead on every reaped element: DevTB's end-of-test comparison
(each used len and every byte in the writable buffers against the backend's formula, dev_backend.answer_pattern,
recomputed from what the driver posted), and the driver's own reap checks (ids outstanding, len within capacity).
Figures go to the log and to bench.json / table.txt in the test folder.
"""

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster

from virtio_golden import constants as c
from virtio_golden.constants import EngineState
from virtio_golden.driver import Driver, VirtQueue
from virtio_golden.memory import MemAllocator
from virtio_golden.seeds import session_seed, test_rng
from virtio_cosim.coverage import ENV_TEST_DIR
from virtio_cosim.dev_backend import Backend
from virtio_cosim.dev_tb import CLOCK_PERIOD_NS, ErrorAxiRam, check_answers
from virtio_cosim.tb_common import AxilRegBus, CheckerFailure, CycleClock, is_high, value_of

ENV_CONFIG = "BENCH_CONFIG"          # JSON written by run_bench.py
COUNTERS = ("cycles", "ar_bursts", "r_beats", "aw_bursts", "w_beats", "rd_lat_sum", "rd_lat_count", "r_run_max",
            "w_run_max", "ar_stalls",
            "aw_stalls", "w_stalls")
ENV_PLANT = "BENCH_PLANT"            # "wrong_data": the backend flips one answer byte, and the bench must fail
QUEUE_SIZE = 64
REAP_INTERVAL = 8                    # cycles between the driver's reaps: the error of a window's ends
HOLD = 10 ** 9                       # backend latency that only be_quiesce cuts short
QUIET_CYCLES = 64                    # no AXI traffic for this long plus two memory round trips: the device is idle


@dataclass
class Throughput:
    size: int
    chains: int
    cycles: int
    ar_bursts: int
    r_beats: int
    aw_bursts: int
    w_beats: int
    stalls: tuple           # cycles the AxiRam held AR, AW, W: there the harness, not the device, was slow


@dataclass
class SuspendLatency:
    posted: int
    in_flight: int          # requests the backend held at the SUSPEND write
    to_state: int           # cycles from the write to the core state SUSPENDED
    to_read: int            # cycles from the write to the end of the first status read showing SUSPEND


class BenchTB:
    """The device with a fast backend and the reference driver; no observer, no monitors, no backpressure."""

    def __init__(self, dut, rng, num_queues: int, latency: int):
        self.dut = dut
        self.latency = latency
        dut.rst.value = 1
        for name in ("msix_enable", "devcfg_wr_valid", "devcfg_wr_addr", "devcfg_wr_data", "fault_inj"):
            getattr(dut, name).value = 0
        dut.irq_ready.value = 1
        Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start()
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.ram = ErrorAxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst)
        self.mem = self.ram.guest
        self.bus_bytes = len(dut.m_axi_rdata) // 8   # the limit per direction, from the build itself
        self.backend = Backend(dut, rng, self.bus_bytes)
        self.backend.latency = (0, 0)
        self.backend.reorder = False
        self.backend.req_stall = 0.0
        self.backend.cpl_idle = 0.0
        for log in (self.axil.write_if.log, self.axil.read_if.log, self.ram.write_if.log, self.ram.read_if.log):
            log.setLevel("WARNING")
        self.driver = Driver(AxilRegBus(self.axil), self.mem, CycleClock(dut.clk), MemAllocator(0x10_0000, 0x1000_0000),
                             num_queues=num_queues, poll_limit=200_000, poll_wait=1)
        self.backend.corrupt_data = os.environ.get(ENV_PLANT, "") == "wrong_data"
        self.core_state = dut.dev.core.state
        self.rng = rng
        self.checked_elements = 0
        self.checked_bytes = 0

    def counters(self) -> dict:
        return {name: value_of(getattr(self.dut, f"bench_{name}")) for name in COUNTERS}

    async def reset(self) -> None:
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        self.backend.start()

    def check(self, vq: VirtQueue, used: list) -> int:
        check_answers(self.backend, vq, used)  # the device TB's end-of-test comparison
        self.checked_elements += len(used)
        self.checked_bytes += sum(u.len for u in used)
        return len(used)

    async def wait_quiet(self, limit: int = 100_000) -> None:
        """Until no AXI burst or beat moved for two memory round trips plus QUIET_CYCLES cycles."""
        quiet = 2 * self.latency + QUIET_CYCLES
        last, still = None, 0
        for _ in range(limit):
            now = self.counters()
            now.pop("cycles")
            still = still + 1 if now == last else 0
            if still >= quiet:
                return
            last = now
            await RisingEdge(self.dut.clk)
        raise CheckerFailure(f"the device never went quiet in {limit} cycles")

    # -- throughput
    async def throughput(self, rings: list, size: int, warmup: int, measured: int, depth: int) -> Throughput:
        """Keep `depth` chains of S-byte buffers posted per queue; time `measured` chains after `warmup`."""
        posted = [0] * len(rings)
        done, start = 0, None
        payload = self.rng.randbytes(size)

        async def top_up(q: int) -> None:
            vq = rings[q]
            while vq.outstanding < depth and vq.num_free >= 2:
                vq.add_chain([payload[posted[q] % size:] + payload[:posted[q] % size]], [size])
                posted[q] += 1
            await self.driver.kick(q)

        for q in range(len(rings)):
            await top_up(q)
        while True:
            await ClockCycles(self.dut.clk, REAP_INTERVAL)
            for q, vq in enumerate(rings):
                done += self.check(vq, vq.reap())
            if start is None and done >= warmup:
                start = (self.counters(), done)
            elif start is not None and done >= start[1] + measured:
                end = (self.counters(), done)
                break
            for q in range(len(rings)):
                await top_up(q)
        for vq in rings:  # the rest, checked too
            self.check(vq, await self.driver.wait_used(vq, vq.outstanding))
        delta = {name: end[0][name] - start[0][name] for name in COUNTERS}
        return Throughput(size, end[1] - start[1], delta["cycles"], delta["ar_bursts"], delta["r_beats"],
                          delta["aw_bursts"], delta["w_beats"],
                          (delta["ar_stalls"], delta["aw_stalls"], delta["w_stalls"]))

    # -- suspend latency
    async def suspend_latency(self, rings: list, n: int, fetch_ahead: int) -> SuspendLatency:
        queues = len(rings)
        per_queue = [n // queues + (q < n % queues) for q in range(queues)]
        self.backend.latency = (HOLD, HOLD)
        for q, count in enumerate(per_queue):
            for i in range(count):
                rings[q].add_chain([bytes([i]) * 64], [64])
            if count:
                await self.driver.kick(q)
        held = sum(min(count, fetch_ahead) for count in per_queue)
        await self.wait_quiet()
        if self.backend.outstanding != held:
            raise CheckerFailure(f"{n} chains posted: the backend holds {self.backend.outstanding} requests, "
                                 f"expected {held} (FETCH_AHEAD {fetch_ahead} per queue)")

        marks: dict = {}
        watcher = cocotb.start_soon(self._watch_suspend(marks))
        status = await self.driver.suspend()
        marks["read"] = value_of(self.dut.bench_cycles)
        watcher.cancel()
        if "write" not in marks or "state" not in marks:
            raise CheckerFailure(f"suspend with {n} in flight: saw {sorted(marks)} (status {status:#04x})")
        self.backend.latency = (0, 0)
        drained = sum(self.check(vq, vq.reap()) for vq in rings)  # chains not taken run after the resume
        if drained != held:
            raise CheckerFailure(f"suspended with {held} chains in flight, but {drained} were published (SUS-05)")
        await self.driver.resume()
        for vq in rings:
            self.check(vq, await self.driver.wait_used(vq, vq.outstanding))
        return SuspendLatency(n, held, marks["state"] - marks["write"], marks["read"] - marks["write"])

    async def _watch_suspend(self, marks: dict) -> None:
        """Cycle numbers (bench_cycles) of the first AXI-Lite write's execution and of the first SUSPENDED cycle."""
        d = self.dut
        aw = w = False
        while "state" not in marks:
            await RisingEdge(d.clk)
            cycle = value_of(d.bench_cycles)
            if "write" not in marks:
                aw = aw or (is_high(d.s_axil_awvalid) and is_high(d.s_axil_awready))
                w = w or (is_high(d.s_axil_wvalid) and is_high(d.s_axil_wready))
                if aw and w:
                    marks["write"] = cycle
            elif value_of(self.core_state) == EngineState.SUSPENDED:
                marks["state"] = cycle


def format_table(config: dict, bus_bytes: int, counters: dict, checked: tuple, throughput: list,
                 suspend: list) -> str:
    read_latency = counters["rd_lat_sum"] / max(counters["rd_lat_count"], 1)
    lines = [f"virtio_pci_dev bench: AXI_DATA_WIDTH {8 * bus_bytes} (bus limit {bus_bytes} B/cycle per direction), "
             f"LATENCY {config['latency']} on R and B, NUM_QUEUES {config['num_queues']}, "
             f"FETCH_AHEAD {config['fetch_ahead']}",
             f"measured read round trip (AR into an idle bus to its first R beat): {read_latency:.1f} cycles",
             f"harness at the bus limit: longest runs of beats in consecutive cycles, R {counters['r_run_max']}, "
             f"W {counters['w_run_max']}",
             f"checked against the backend formula: {checked[0]} used elements, {checked[1]} payload bytes",
             "",
             "buffer  chains  cycles  cycles/  chains/   payload B/cycle  of bus  R beats/  W beats/  AR bursts/  "
             "AW bursts/  RAM stalls",
             "(bytes)                 chain    cycle     (each direction) limit   cycle     cycle     chain       "
             "chain       AR/AW/W cycles"]
    for t in throughput:
        payload = t.chains * t.size / t.cycles
        lines.append(f"{t.size:>6}  {t.chains:>6}  {t.cycles:>6}  {t.cycles / t.chains:>7.1f}  "
                     f"{t.chains / t.cycles:>7.5f}  {payload:>16.3f}  {payload / bus_bytes:>6.1%}  "
                     f"{t.r_beats / t.cycles:>8.3f}  {t.w_beats / t.cycles:>8.3f}  {t.ar_bursts / t.chains:>10.2f}  "
                     f"{t.aw_bursts / t.chains:>10.2f}  {'/'.join(map(str, t.stalls))}")
    lines += ["", "chains posted  in flight at SUSPEND  cycles to state SUSPENDED  cycles to status read showing SUSPEND"]
    for s in suspend:
        lines.append(f"{s.posted:>13}  {s.in_flight:>19}  {s.to_state:>25}  {s.to_read:>37}")
    return "\n".join(lines)


@cocotb.test(timeout_time=2000, timeout_unit="ms")
async def measure(dut):
    config = json.loads(os.environ[ENV_CONFIG])
    rng = test_rng(session_seed(), "bench_datapath.measure")
    tb = BenchTB(dut, rng, config["num_queues"], config["latency"])
    started = time.perf_counter()
    await tb.reset()
    rings = await tb.driver.start(queues=[(QUEUE_SIZE, c.NO_VECTOR)] * config["num_queues"])
    if not tb.driver.has_feature(tb.driver.f_suspend_bit):
        raise CheckerFailure("VIRTIO_F_SUSPEND was not negotiated")

    throughput = []
    for size, (warmup, measured) in config["sizes"].items():
        result = await tb.throughput(rings, int(size), warmup, measured, depth=2 * config["fetch_ahead"])
        dut._log.info("throughput %s", result)
        throughput.append(result)
    suspend = []
    for n in config["in_flight"]:
        result = await tb.suspend_latency(rings, n, config["fetch_ahead"])
        dut._log.info("suspend %s", result)
        suspend.append(result)

    counters = tb.counters()
    checked = (tb.checked_elements, tb.checked_bytes)
    table = format_table(config, tb.bus_bytes, counters, checked, throughput, suspend)
    dut._log.info("%d cycles in %.1f s\n%s", counters["cycles"], time.perf_counter() - started, table)
    folder = Path(os.environ.get(ENV_TEST_DIR, "."))
    (folder / "table.txt").write_text(table + "\n")
    (folder / "bench.json").write_text(json.dumps({
        "config": config, "bus_bytes": tb.bus_bytes, "counters": counters, "checked": checked,
        "throughput": [asdict(t) for t in throughput], "suspend": [asdict(s) for s in suspend]}, indent=1))
