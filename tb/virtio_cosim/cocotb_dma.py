"""cocotb tests of the DMA block `virtio_dma` (testbench tb/virtio_cosim/dma_tb.py, reference docs/rtl-dma.md).

Every test runs with seeded idle and backpressure on all five AXI channels, both read streams, the write stream and
the command ports; the monitors of DmaTB judge every bus beat, and `finish` every packet, completion and byte of
the 64 KiB guest RAM (filled with random bytes first, so a write outside its range shows).
"""

import random

from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiResp

from .dma_tb import TIMEOUT, CheckerFailure, DmaTB
from .seeded import seeded_test
from .tb_common import random_pause

READ_AREA = 0x0000   # reads come from RAM offsets below WRITE_AREA, writes go above: no read sees a write
WRITE_AREA = 0x8000


def high_bits(rng: random.Random) -> int:
    """Random address bits above the RAM's 64 KiB, so every test runs at 64-bit addresses."""
    return rng.getrandbits(48) << 16


@seeded_test(**TIMEOUT)
async def test_read_alignments(dut, rng):
    """Every start lane 0..KW-1 x every length 1..3*KW+1, one packet each, on both read ports."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    cases = [(lane, length) for lane in range(kw) for length in range(1, 3 * kw + 2)]
    for index, (lane, length) in enumerate(cases):
        base = READ_AREA + (index * 4 * kw) % (WRITE_AREA - 8 * kw)
        tb.read(index % 2, [(high + base + lane, length)])
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_write_alignments(dut, rng):
    """Every start lane x every length 1..3*KW+1 from the stream, and immediate writes of 1..8 bytes at every lane;
    the whole RAM is compared afterwards."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    slot = 4 * kw + 8  # apart, with untouched bytes between the writes
    index = 0
    for lane in range(kw):
        for length in range(1, 3 * kw + 2):
            tb.write_stream(high + WRITE_AREA + index * slot + lane, length)
            index += 1
        for length in range(1, 9):
            tb.write_imm(high + WRITE_AREA + index * slot + lane, rng.randbytes(length))
            index += 1
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_multi_command_packets(dut, rng):
    """Packets of 1..5 commands (rdN_cmd_last = 0 before the last) at any alignment come out byte-contiguous."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    for _ in range(60):
        commands = []
        for _ in range(rng.randint(1, 5)):
            length = rng.choice([1, 2, 3, kw - 1, kw, kw + 1, rng.randint(1, 5 * kw)])
            commands.append((high + READ_AREA + rng.randrange(WRITE_AREA - length), length))
        tb.read(rng.randint(0, 1), commands)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_4k_crossings(dut, rng):
    """Reads and writes across 4 KiB boundaries and MAX_BURST_BEATS limits, long ones across several boundaries,
    and one ending at the top of the 64-bit address space."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    lengths = [1, kw, 2 * kw + 3, 200, tb.max_burst * kw + 5]
    for page in range(1, 7):
        for before in (1, kw - 1, kw, kw + 3, 2 * kw + 1, 100):
            length = rng.choice(lengths) + before
            tb.read(rng.randint(0, 1), [(high + READ_AREA + page * 0x1000 - before, length)])
    tb.read(1, [(high + READ_AREA + 0x0F00, 0x2345)])  # several boundaries in one command
    for page in range(1, 6):
        for before in (1, kw - 1, kw + 3, 50):
            length = rng.choice(lengths) + before
            tb.write_stream(high + WRITE_AREA + page * 0x1000 - before, length)
    tb.write_stream(high + WRITE_AREA + 0x5F00, 0x1234)
    for before in range(1, 8):  # immediate data split over two bursts
        tb.write_imm(high + WRITE_AREA + 0x1000 * before - before, rng.randbytes(8))
    tb.read(0, [(high + READ_AREA + 0x4800 - 20, 40)])  # across a 2 KiB line: one burst, legal
    tb.write_stream(high + WRITE_AREA + 0x7800 - 20, 40)
    tb.read(0, [((1 << 64) - 45, 45)])  # ends at exactly 2**64 (RAM offsets in the write area: read them first)
    await tb.drain()
    tb.write_stream((1 << 64) - 45, 45)
    tb.write_imm((1 << 64) - 3, b"\x11\x22\x33")
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_stream_split_across_commands(dut, rng):
    """One stream beat feeds several small commands and one command takes many small beats."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    addr = high + WRITE_AREA
    for _ in range(40):  # 1..3-byte commands, each beat of the stream feeds several
        length = rng.randint(1, 3)
        tb.write_stream(addr, length)
        addr += length + rng.randint(0, 2)
    for _ in range(6):  # long commands over the source's frames of 1 .. 3 words
        length = rng.randint(4 * kw, 9 * kw)
        addr += rng.randint(0, kw)
        tb.write_stream(addr, length)
        addr += length
    tb.write_imm(addr + 3, b"\xaa")  # an immediate write between stream writes takes no stream bytes
    tb.write_stream(addr + 9, 2 * kw + 1)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_read_errors(dut, rng):
    """SLVERR and DECERR on read bursts: terr on the tlast beat of exactly the packets that touched an error, and
    those packets keep their full length. Each packet is followed by a dma_freeze pulse (an error freezes the block,
    the pulse is the device's reset), so each meets only its own errors."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    tb.errors.add(READ_AREA + 0x1000, 3, AxiResp.SLVERR)
    tb.errors.add(READ_AREA + 0x2000 + 5, 1, AxiResp.DECERR)
    for area in (0x1000, 0x2000):
        for start in (-3 * kw, -kw - 1, -1, 0, 1, kw + 1):
            tb.read(rng.randint(0, 1), [(high + READ_AREA + area + start, rng.randint(1, 3 * kw))])
            await tb.freeze_pulse()
        tb.read(1, [(high + READ_AREA + area - 40, 10), (high + READ_AREA + area + 1, 7),
                    (high + READ_AREA + area + 0x300, 20)])
        await tb.freeze_pulse()
    tb.read(0, [(high + READ_AREA + 0x3000, 100)])  # clean packets after the failed ones
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_write_errors(dut, rng):
    """SLVERR and DECERR on write bursts: wr_done_err on exactly the commands whose bytes touched an error, every
    completion in order, and no byte outside the commands changed. A dma_freeze pulse after each command."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    tb.errors.add(WRITE_AREA + 0x1000, 2, AxiResp.SLVERR)
    tb.errors.add(WRITE_AREA + 0x2000 + 7, 1, AxiResp.DECERR)
    for area in (0x1000, 0x2000):
        for start in (-2 * kw, -kw - 1, -2, 0, 1, 6, 8, kw + 9):
            addr = high + WRITE_AREA + area + start
            if rng.random() < 0.5:
                tb.write_stream(addr, rng.randint(1, 3 * kw))
            else:
                tb.write_imm(addr, rng.randbytes(rng.randint(1, 8)))
            await tb.freeze_pulse()  # as in test_read_errors
    tb.write_stream(high + WRITE_AREA + 0x3000, 100)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_stalled_rd1(dut, rng):
    """rd1's sink stops taking beats with long packets owed; rd0's packets still all come out."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    tb.sinks[1].pause = True
    tb.sinks[1].set_pause_generator(None)
    tb.sinks[1].pause = True
    if tb.fault == "stall_rd0":
        tb.sinks[0].set_pause_generator(None)
        tb.sinks[0].pause = True
    for index in range(8):
        tb.read(1, [(high + READ_AREA + 0x1000 * index + 3, 0x700)])
    await ClockCycles(dut.clk, 200)
    for index in range(30):
        tb.read(0, [(high + READ_AREA + rng.randrange(WRITE_AREA - 64), rng.randint(1, 64))])
    for _ in range(20_000):
        if tb.checkers[0].done:
            break
        await RisingEdge(dut.clk)
    else:
        raise CheckerFailure(f"rd1 stalled: rd0 still owes {len(tb.checkers[0].expected)} packets")
    if tb.checkers[1].received == 8:
        raise CheckerFailure("rd1 stalled: its packets came out although its sink never took a beat")
    tb.sinks[1].pause = False
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_random(dut, rng):
    """Constrained-random traffic on all three ports at once: packets of 1..4 commands (on rd0 mostly shaped like
    control reads: avail.idx, ring entries across 4 KiB, descriptors, odd ranges), stream and immediate writes,
    error regions (after an error response the rest is dropped until the next dma_freeze pulse, which comes once the
    work in flight has finished), and at least two read bursts of one port in flight seen at some point."""
    tb = DmaTB(dut, rng, pause=rng.choice([0.0, 0.2, 0.5]), cmd_idle=rng.choice([0.0, 0.3]))
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    for _ in range(rng.randint(0, 4)):
        area = rng.choice([READ_AREA, WRITE_AREA])
        tb.errors.add(area + rng.randrange(0x8000 - 64), rng.randint(1, 64), rng.choice([AxiResp.SLVERR,
                                                                                      AxiResp.DECERR]))

    def length() -> int:
        return rng.choice([1, kw, rng.randint(1, 2 * kw), rng.randint(1, 8 * kw), rng.randint(1, 600)])

    def control_read() -> tuple:
        """A read shaped like the engine's rd0 reads: avail.idx, ring entries (near 4 KiB), descriptors and
        tables, used_event; or an odd range (often across 4 KiB)."""
        shape = rng.random()
        if shape < 0.25:
            return high + READ_AREA + 2 * rng.randrange(0x3FFF), 2
        if shape < 0.5:
            n = 2 * rng.randint(1, 3 * tb.max_burst)
            page = READ_AREA + 0x1000 * rng.randint(1, 7)
            return high + page - 2 * rng.randint(1, n // 2), n
        if shape < 0.75:
            n = 16 * rng.choice([1, 1, 2, rng.randint(1, 64)])
            return high + READ_AREA + 16 * rng.randrange((0x8000 - n) // 16), n
        n = rng.randint(1, 3 * kw)
        if rng.random() < 0.5:  # an odd start just below a 4 KiB boundary
            return high + READ_AREA + 0x1000 * rng.randint(1, 7) - 2 * rng.randint(0, n // 2) - 1, n
        return high + READ_AREA + rng.randrange(0x8000 - n) | 1, n

    def start(area: int, n: int) -> int:
        """A start in `area` with room for n bytes, at the first or last lane of a word half the time."""
        addr = area + rng.randrange(0x8000 - n - kw)
        return high + (addr - addr % kw + rng.choice([0, kw - 1]) if rng.random() < 0.5 else addr)

    for index in range(150):
        if index % 10 == 0:  # once the commands so far are taken: after an error, pulse dma_freeze
            await tb.commands_taken()
            if tb.monitor.frozen:
                await tb.freeze_pulse()
        kind = rng.random()
        if kind < 0.45:
            port = 1 if kind < 0.3 else 0
            commands = []
            for _ in range(rng.randint(1, 4)):
                if port == 0 and rng.random() < 0.6:
                    commands.append(control_read())
                else:
                    n = length()
                    commands.append((start(READ_AREA, n), n))
            tb.read(port, commands)
        elif kind < 0.85:
            n = length()
            tb.write_stream(start(WRITE_AREA, n), n)
        else:
            n = rng.randint(1, 8)
            tb.write_imm(start(WRITE_AREA, n), rng.randbytes(n))
    await tb.finish()
    floor = tb.rd_outstanding + 1 if tb.fault == "outstanding_floor" else 2
    if max(tb.monitor.max_seen) < floor:
        raise CheckerFailure(f"outstanding floor: at most {tb.monitor.max_seen} read bursts in flight per port "
                             f"were seen, fewer than {floor}")
    dut._log.info("bursts AR %d AW %d, most read bursts in flight per port %s, commands dropped %d",
                  tb.monitor.bursts["ar"], tb.monitor.bursts["aw"], tb.monitor.max_seen, tb.monitor.dropped)


def rd0_bursts_by_rule(addr: int, length: int, kw: int) -> list:
    """The (araddr, arlen, arsize) the rd0 rule gives for a read that needs no cut but at 4 KiB boundaries (each
    piece within MAX_BURST_BEATS beats): per piece, the largest 2^s <= KW dividing its address and its length."""
    bursts = []
    while length:
        piece = min(length, 4096 - addr % 4096)
        unit = (addr | piece | kw) & -(addr | piece | kw)
        bursts.append((addr, piece // unit - 1, unit.bit_length() - 1))
        addr, length = addr + piece, length - piece
    return bursts


@seeded_test(**TIMEOUT)
async def test_rd0_exact_ranges(dut, rng):
    """Read port 0 puts exactly the asked bytes on the bus (the rd0 range monitor judges every AR): 2-byte reads
    at every even offset (avail.idx), 2n-byte ring reads across 4 KiB, odd lengths and addresses, 16-byte
    descriptors and 16-byte aligned tables, each compared with the bursts the size rule gives; then one read per
    beat size x reason a burst ends. The same shapes on rd1 stay full-word."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw, max_burst = tb.kw, tb.max_burst
    base = high + READ_AREA
    checked = [(base + 0x100 + 2 * kw * lane + lane, 2) for lane in range(0, kw, 2)]  # avail.idx at each lane
    checked += [(base + 0x1000 - 2, 2), (base + 0x2000 - 2 * kw, 2)]
    for page in (3, 4):                                                           # ring entries across 4 KiB
        for before in range(1, min(max_burst, 2 * kw) + 1):
            after = rng.randint(1, max_burst)
            checked.append((base + page * 0x1000 - 2 * before, 2 * (before + after)))
    odd = [min(n, max_burst - 1) | 1 for n in (3, 5, 7)]                         # odd lengths within one burst
    checked += [(base + 0x5101, 1), (base + 0x5203, odd[0]), (base + 0x5300, odd[1]), (base + 0x5402, odd[2]),
                (base + 0x5501, min(max_burst, 2 * kw + 1))]
    checked += [(base + 0x6000 + 16 * i, 16) for i in range(4)]                  # descriptors
    checked += [(base + 0x6100, 16 * (max_burst * kw // 16 if max_burst * kw >= 32 else 1))]  # an indirect table
    for addr, length in checked:
        tb.read(0, [(addr, length)])
        tb.read(1, [(addr, length)])
    await tb.drain()
    want = [burst for addr, length in checked for burst in rd0_bursts_by_rule(addr, length, kw)]
    got = tb.monitor.rd0_bursts
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        raise CheckerFailure(f"rd0 bursts: {len(got)} ARs, expected {len(want)}; first difference at AR {first}: "
                             f"{got[first:first + 2]} against (araddr, arlen, arsize) {want[first:first + 2]}")

    # one read for each beat size (exact alignment 1, 2, 4 or KW bytes) x reason its first burst ends
    for unit in (1, 2, 4, kw):
        odd_unit = unit if unit == kw else 3 * unit  # an address aligned to exactly `unit` (KW: any word)
        mid = base + 0x6200 + 0x100 * odd_unit.bit_length()
        tb.read(0, [(mid + odd_unit, 3 * unit)])                            # ends with the command
        tb.read(0, [(base + 0x7000 - unit, 3 * unit)])                      # cut at 4 KiB
        tb.read(0, [(mid + 0x40 + odd_unit, unit * (max_burst + 1))])      # cut at MAX_BURST_BEATS
        if unit > 1 and max_burst > 1:                                      # a head of whole beats, then the tail
            tb.read(0, [(mid + 0x80 + odd_unit, unit * (max_burst // 2) + 1)])
    await tb.finish()


async def _first_edges(dut, names: dict, cycles: int) -> dict:
    """The first rising edge (counted from the call) at which each named condition holds, as the edge sees it."""
    seen = {}
    for edge in range(1, cycles + 1):
        await RisingEdge(dut.clk)
        for label, condition in names.items():
            if label not in seen and all(getattr(dut, name).value for name in condition):
                seen[label] = edge
    return seen


@seeded_test(**TIMEOUT)
async def test_latency(dut, rng):
    """The cycle counts of docs/rtl-dma.md "Timing", with no pauses anywhere."""
    tb = DmaTB(dut, rng, pause=0.0, cmd_idle=0.0)
    await tb.reset()
    high = high_bits(rng)
    tb.read(0, [(high + READ_AREA + 0x100, tb.kw)])
    read = await _first_edges(dut, {
        "cmd": ("rd0_cmd_valid", "rd0_cmd_ready"), "ar": ("m_axi_arvalid",),
        "r": ("m_axi_rvalid", "m_axi_rready"), "end": ("rd0_bus_end",), "out": ("rd0_tvalid",)}, 40)
    tb.write_imm(high + WRITE_AREA + 0x100, b"\x01\x02")
    write = await _first_edges(dut, {
        "cmd": ("wr_cmd_valid", "wr_cmd_ready"), "aw": ("m_axi_awvalid",), "w": ("m_axi_wvalid",),
        "b": ("m_axi_bvalid", "m_axi_bready"), "done": ("wr_done_valid",)}, 40)
    dut._log.info("read edges %s, write edges %s", read, write)
    measured = {"read cmd > ARVALID": read["ar"] - read["cmd"], "R beat > rd0_tvalid": read["out"] - read["r"],
                "last R beat > rd0_bus_end": read["end"] - read["r"],
                "write cmd > AWVALID": write["aw"] - write["cmd"], "write cmd > WVALID": write["w"] - write["cmd"],
                "B > wr_done_valid": write["done"] - write["b"]}
    documented = {"read cmd > ARVALID": 2, "R beat > rd0_tvalid": 2, "last R beat > rd0_bus_end": 0,
                  "write cmd > AWVALID": 2,
                  "write cmd > WVALID": 3, "B > wr_done_valid": 1}
    assert measured == documented, f"measured {measured}, docs/rtl-dma.md says {documented}"
    await tb.finish()


async def _cycles_for_beats(dut, prefix: str, beats: int) -> int:
    """Cycles from the first to the `beats`-th handshake on `<prefix>valid` / `<prefix>ready`, both counted."""
    valid, ready = getattr(dut, f"{prefix}valid"), getattr(dut, f"{prefix}ready")
    seen = cycles = 0
    for _ in range(20 * beats):
        await RisingEdge(dut.clk)
        cycles += 1 if seen else 0
        if valid.value and ready.value:
            seen += 1
            cycles = cycles or 1
            if seen == beats:
                return cycles
    raise CheckerFailure(f"throughput: {seen} of {beats} beats on {prefix}valid within {20 * beats} cycles")


@seeded_test(**TIMEOUT)
async def test_throughput(dut, rng):
    """With no pauses, a long read packet leaves rd1 at one beat per cycle once started, and a long stream write
    goes out on W at one beat per cycle: the buffers and the AR/AW issue keep ahead of the data."""
    tb = DmaTB(dut, rng, pause=0.0, cmd_idle=0.0)
    await tb.reset()
    high = high_bits(rng)
    words = 8 * tb.max_burst if tb.max_burst <= 16 else 64
    tb.read(1, [(high + READ_AREA + 0x1000 + 3, words * tb.kw)])
    read_cycles = await _cycles_for_beats(dut, "rd1_t", words)
    await tb.drain()
    tb.stream_frame_bytes = (words * tb.kw, words * tb.kw)  # one frame: full stream beats
    tb.write_stream(high + WRITE_AREA + 0x1000 + 5, words * tb.kw)
    write_cycles = await _cycles_for_beats(dut, "m_axi_w", words + 1)
    dut._log.info("%d words read in %d cycles, %d written in %d", words, read_cycles, words + 1, write_cycles)
    assert read_cycles == words, f"a read packet of {words} beats took {read_cycles} cycles"
    assert write_cycles == words + 1, f"{words + 1} W beats took {write_cycles} cycles"
    await tb.finish()


# -- freeze after an error response, dma_freeze (SPEC 4.7, rule 8.9; docs/rtl-dma.md "Freeze") ------------------------

def long_command(tb: DmaTB) -> tuple:
    """(bytes per burst, burst count) of a full-word command with more bursts than RD_OUTSTANDING + 2."""
    burst = min(tb.max_burst * tb.kw, 4096)
    return burst, min(12, 0x7000 // burst)


async def until(dut, condition, cycles: int, what: str) -> None:
    for _ in range(cycles):
        if condition():
            return
        await RisingEdge(dut.clk)
    raise CheckerFailure(f"not within {cycles} cycles: {what}")


async def traffic_after_freeze(tb: DmaTB, rng: random.Random, high: int) -> None:
    """After a dma_freeze pulse: reads on both ports and stream and immediate writes all reach the bus (none is
    dropped), and the stream write gets its own bytes (the memory checker)."""
    await tb.freeze_pulse()
    dropped = tb.monitor.dropped
    kw = tb.kw
    tb.read(0, [(high + READ_AREA + 0x7000 + 2, 2), (high + READ_AREA + 0x7010, 16)])
    tb.read(1, [(high + READ_AREA + 0x7100 + 3, 5 * kw)])
    tb.write_stream(high + WRITE_AREA + 0x7C00 + 1, 4 * kw + 3)
    tb.write_imm(high + WRITE_AREA + 0x7E00 + 5, rng.randbytes(3))
    await tb.finish()
    if tb.monitor.dropped != dropped:
        raise CheckerFailure(f"after the dma_freeze pulse {tb.monitor.dropped - dropped} command(s) were dropped")


@seeded_test(**TIMEOUT)
async def test_freeze_after_write_error(dut, rng):
    """A SLVERR in the second burst of a long stream write, with B held back until several bursts await their B:
    from the error response on no AW is offered (freeze monitor); the write and the commands behind it
    complete with wr_done_err or terr, the dropped writes still take their stream bytes; after a dma_freeze pulse
    normal traffic works and the next stream write gets its own bytes."""
    tb = DmaTB(dut, rng, pause=0.2)
    await tb.reset()
    high = high_bits(rng)
    burst, count = long_command(tb)
    addr = high + WRITE_AREA + 0x800
    tb.errors.add(WRITE_AREA + 0x800 + burst + 3, 1, AxiResp.SLVERR)
    b_channel = tb.ram.write_if.b_channel
    b_channel.set_pause_generator(None)
    b_channel.pause = True
    tb.write_stream(addr, burst * count)
    for index in range(3):  # waiting behind: dropped, each still takes its stream bytes
        tb.write_stream(addr + burst * count + 100 * index + 1, rng.randint(1, 3 * tb.kw))
    tb.write_imm(addr + burst * count + 400, rng.randbytes(4))
    tb.read(1, [(high + READ_AREA + 0x100, 3 * burst)])
    # AxiRam stops taking AW with two B queued: at least three bursts (or RD_OUTSTANDING) then await their B
    await until(dut, lambda: tb.monitor.bursts["aw"] >= min(tb.rd_outstanding, 3), 20_000, "bursts awaiting B")
    await ClockCycles(dut.clk, 50)
    b_channel.set_pause_generator(random_pause(random.Random(rng.random()), 0.2))
    await tb.drain()
    writes = tb.monitor.history["wr"]
    if not all(span.dropped for span in writes[1:]):
        raise CheckerFailure("the writes behind the failed one were not dropped")
    await traffic_after_freeze(tb, rng, high)


@seeded_test(**TIMEOUT)
async def test_freeze_after_read_error(dut, rng):
    """A DECERR in the second burst of a long rd1 read whose sink is stalled, so RD_OUTSTANDING bursts are
    outstanding: from the failed burst's rlast on no AR or AW is offered (freeze monitor); the read delivers its whole
    packet with terr, the commands behind it on both read ports and the write port complete (terr, wr_done_err
    where dropped); after a dma_freeze pulse normal traffic works."""
    tb = DmaTB(dut, rng, pause=0.2)
    await tb.reset()
    high = high_bits(rng)
    burst, count = long_command(tb)
    addr = high + READ_AREA + 0x800
    tb.errors.add(READ_AREA + 0x800 + burst + 3, 1, AxiResp.DECERR)
    tb.sinks[1].set_pause_generator(None)
    tb.sinks[1].pause = True
    tb.read(1, [(addr, burst * count)])
    tb.read(1, [(high + READ_AREA + 0x20 + 5, 2 * burst), (high + READ_AREA + 0x10, 7)])
    await until(dut, lambda: tb.monitor.frozen, 20_000, "the DECERR response")
    for _ in range(4):  # accepted while frozen: dropped
        tb.read(0, [(high + READ_AREA + 16 * rng.randrange(0x100), 16)])
        tb.write_stream(high + WRITE_AREA + 0x100 * rng.randrange(0x40) + 1, rng.randint(1, 3 * tb.kw))
    tb.sinks[1].set_pause_generator(random_pause(random.Random(rng.random()), 0.2))
    await tb.drain()
    reads = tb.monitor.history["rd1"]
    if not reads[0].dropped or not tb.monitor.history["rd0"][-1].dropped:
        raise CheckerFailure("the failed read's last bursts or the rd0 reads after it were not dropped")
    await traffic_after_freeze(tb, rng, high)


@seeded_test(**TIMEOUT)
async def test_freeze_held(dut, rng):
    """With dma_freeze held high, multi-burst and multi-command reads on both ports and stream and immediate writes
    all complete (terr, wr_done_err) with no AR or AW at all, the writes taking their stream bytes; once it falls,
    normal traffic works and the stream is still in step."""
    tb = DmaTB(dut, rng)
    await tb.reset()
    high = high_bits(rng)
    kw = tb.kw
    await tb.set_freeze(True)
    bursts = dict(tb.monitor.bursts)
    for _ in range(6):
        tb.read(rng.randint(0, 1), [(high + READ_AREA + rng.randrange(0x7000), rng.randint(1, 40 * kw))
                                    for _ in range(rng.randint(1, 3))])
        tb.write_stream(high + WRITE_AREA + rng.randrange(0x7000), rng.randint(1, 40 * kw))
        tb.write_imm(high + WRITE_AREA + rng.randrange(0x7000), rng.randbytes(rng.randint(1, 8)))
    await tb.drain()
    if tb.monitor.bursts != bursts:
        raise CheckerFailure(f"bursts under dma_freeze: {bursts} before, {tb.monitor.bursts} after")
    await traffic_after_freeze(tb, rng, high)
