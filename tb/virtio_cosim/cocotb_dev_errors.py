"""virtio_pci_dev against broken input: every malformed class of SPEC 4.7 written by the driver side, and an SLVERR
or DECERR on each kind of guest-memory access (rule 8.9). Each case must end in NEEDS_RESET and HALTED with a clean
stop: no further DMA (DMA monitor), the be_flush pulse and the configuration notification (golden model), nothing
published for the broken chain; then a device reset and a good chain show the device works again."""

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.ring import Descriptor, u16

from .dev_tb import TIMEOUT, DevTB, random_plan
from .seeded import seeded_test

NEXT, WRITE, INDIRECT = c.VIRTQ_DESC_F_NEXT, c.VIRTQ_DESC_F_WRITE, c.VIRTQ_DESC_F_INDIRECT
SIZE = 16  # ring size of the broken queue


def publish(tb: DevTB, vq, heads: list) -> None:
    """Put raw heads in the avail ring and move avail.idx past them (the driver's bookkeeping is left behind: each
    case ends with a device reset and fresh rings)."""
    lay = vq.layout
    for head in heads:
        tb.mem.write_u16(lay.avail_ring_addr(vq.avail_idx), head)
        vq.avail_idx = u16(vq.avail_idx + 1)
    tb.mem.write_u16(lay.avail_idx_addr, vq.avail_idx)


def write_descs(tb: DevTB, base: int, descs: dict) -> None:
    for index, desc in descs.items():
        tb.mem.write(base + c.DESC_SIZE * index, desc.pack())


def table(tb: DevTB, entries: list) -> int:
    """An indirect table holding `entries` (Descriptor objects), 16-byte aligned."""
    addr = tb.alloc.alloc(c.DESC_SIZE * max(len(entries), 1), 16)
    write_descs(tb, addr, dict(enumerate(entries)))
    return addr


def buffer(tb: DevTB, n: int = 32) -> int:
    return tb.alloc.alloc(n, 8)


def malformed_cases(tb: DevTB) -> dict:
    """name -> function(vq) that writes one broken chain (or avail index) into queue vq and makes it available."""
    max_chain = tb.params.MAX_CHAIN_LEN

    def direct(descs: dict):
        return lambda vq: (write_descs(tb, vq.layout.desc, descs), publish(tb, vq, [0]))

    def indirect_chain(entries: list, pointer_len=None, pointer_flags=INDIRECT):
        def make(vq):
            addr = table(tb, entries)
            length = c.DESC_SIZE * len(entries) if pointer_len is None else pointer_len
            write_descs(tb, vq.layout.desc, {0: Descriptor(addr, length, pointer_flags, 0)})
            publish(tb, vq, [0])
        return make

    def pending_gt_q(vq):
        vq.avail_idx = u16(vq.avail_idx + SIZE + 1)
        tb.mem.write_u16(vq.layout.avail_idx_addr, vq.avail_idx)

    data = Descriptor(buffer(tb), 8, 0, 0)
    out = Descriptor(buffer(tb), 8, WRITE, 0)
    return {
        "PENDING_GT_Q": pending_gt_q,
        "HEAD_GE_Q": lambda vq: publish(tb, vq, [SIZE]),
        "NEXT_GE_Q": direct({0: Descriptor(data.addr, 8, NEXT, SIZE)}),
        "NEXT_GE_TABLE": indirect_chain([Descriptor(data.addr, 8, NEXT, 2), Descriptor(out.addr, 8, WRITE, 0)]),
        "CHAIN_TOO_LONG": indirect_chain([Descriptor(0, 0, NEXT, i + 1) for i in range(max_chain)]
                                         + [Descriptor(0, 0, 0, 0)]),
        "READ_AFTER_WRITE": direct({0: Descriptor(out.addr, 8, WRITE | NEXT, 1), 1: Descriptor(data.addr, 8, 0, 0)}),
        "READ_AFTER_WRITE_TABLE": lambda vq: (
            write_descs(tb, vq.layout.desc, {0: Descriptor(out.addr, 8, WRITE | NEXT, 1),
                                             1: Descriptor(table(tb, [Descriptor(data.addr, 8, 0, 0)]), 16,
                                                           INDIRECT, 0)}),
            publish(tb, vq, [0])),
        "INDIRECT_WITH_NEXT": indirect_chain([data], pointer_flags=INDIRECT | NEXT),
        "NESTED_INDIRECT": indirect_chain([Descriptor(table(tb, [data]), 16, INDIRECT, 0)]),
        "INDIRECT_LEN_0": indirect_chain([data], pointer_len=0),
        "INDIRECT_LEN_24": indirect_chain([data, out], pointer_len=24),
        "TOTAL_LEN_OVERFLOW": direct({0: Descriptor(out.addr, 0x8000_0000, WRITE | NEXT, 1),
                                      1: Descriptor(out.addr, 0x8000_0001, WRITE, 0)}),
        "ADDR_OVERFLOW": direct({0: Descriptor((1 << 64) - 4, 8, WRITE, 0)}),
        "TABLE_ADDR_OVERFLOW": lambda vq: (
            write_descs(tb, vq.layout.desc, {0: Descriptor((1 << 64) - 16, 32, INDIRECT, 0)}),
            publish(tb, vq, [0])),
        "LOOP": direct({0: Descriptor(data.addr, 8, NEXT, 1), 1: Descriptor(data.addr, 8, NEXT, 0)}),
        "TABLE_LOOP": indirect_chain([Descriptor(data.addr, 8, NEXT, 1), Descriptor(data.addr, 8, NEXT, 0)]),
    }


async def expect_halt(tb: DevTB, driver, vq, used_before: int) -> None:
    """NEEDS_RESET shown, HALTED, nothing more published on vq, the device quiet."""
    await tb.wait_halted()
    await tb.quiet()
    published = tb.mem.read_u16(vq.layout.used_idx_addr)
    assert published == used_before, f"used.idx moved {used_before:#x} -> {published:#x} after the fault"


async def good_chain_after_reset(tb: DevTB, driver) -> None:
    rings = await tb.start(driver, tb.queue_plan(SIZE))
    await tb.run_chains(driver, rings, {0: [([b"after the reset"], [32], {})]})


@seeded_test(**TIMEOUT)
async def test_malformed(dut, rng):
    """Every SPEC 4.7 class, one device run each, plus INDIRECT without the feature negotiated."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    for name, make in malformed_cases(tb).items():
        dut._log.info("malformed case %s", name)
        rings = await tb.start(driver, tb.queue_plan(SIZE))
        await tb.run_chains(driver, rings, {0: [([b"good"], [8], {})]})  # a good chain first
        make(rings[0])
        await driver.notify(0)
        await expect_halt(tb, driver, rings[0], 1)
    features = tb.params.DEVICE_FEATURES & ~(1 << c.F_INDIRECT_DESC)
    rings = await tb.start(driver, tb.queue_plan(SIZE), features=features)
    data = Descriptor(buffer(tb), 8, 0, 0)
    write_descs(tb, rings[0].layout.desc, {0: Descriptor(table(tb, [data]), 16, INDIRECT, 0)})
    publish(tb, rings[0], [0])
    await driver.notify(0)
    await expect_halt(tb, driver, rings[0], 0)
    await good_chain_after_reset(tb, driver)
    await tb.finish()


def dma_cases(tb: DevTB, vq) -> dict:
    """access kind -> (inject(head, table) for the chain about to be posted, what to post)."""
    lay = vq.layout
    return {
        "avail": lambda chain: tb.mem.inject_error(lay.avail_idx_addr, 2, chain["resp"], on="read"),
        "avail ring": lambda chain: tb.mem.inject_error(lay.avail_ring_addr(u16(vq.avail_idx - 1)), 2, chain["resp"],
                                                        on="read"),
        "descriptor": lambda chain: tb.mem.inject_error(lay.desc + c.DESC_SIZE * chain["head"], 16, chain["resp"],
                                                        on="read"),
        "indirect table": lambda chain: tb.mem.inject_error(chain["table"], 16, chain["resp"], on="read"),
        "gather read": lambda chain: tb.mem.inject_error(chain["readable"][0], chain["readable"][1], chain["resp"],
                                                         on="read"),
        "scatter write": lambda chain: tb.mem.inject_error(chain["writable"][0], chain["writable"][1],
                                                           chain["resp"], on="write"),
        "used element": lambda chain: tb.mem.inject_error(lay.used_elem_addr(vq.last_used), 8, chain["resp"],
                                                          on="write"),
        "used.idx": lambda chain: tb.mem.inject_error(lay.used_idx_addr, 2, chain["resp"], on="write"),
        "avail_event": lambda chain: tb.mem.inject_error(lay.avail_event_addr, 2, chain["resp"], on="write"),
    }


@seeded_test(**TIMEOUT)
async def test_dma_errors(dut, rng):
    """SLVERR and DECERR on each kind of access: avail, avail ring, descriptor, indirect table, gather read, scatter
    write, used element, used.idx, avail_event (rule 8.9)."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    for resp in (ev.SLVERR, ev.DECERR):
        for kind in ("avail", "avail ring", "descriptor", "indirect table", "gather read", "scatter write",
                     "used element", "used.idx", "avail_event"):
            dut._log.info("DMA error case: %s on %s", resp, kind)
            rings = await tb.start(driver, tb.queue_plan(SIZE))
            # Good chains first; for the avail ring, enough that the broken chain's slot shares no bus word with
            # avail.idx (whose read would fail first: a read fails for any bus word it touches).
            good = tb.bus_bytes // 2 if kind == "avail ring" else 1
            await tb.run_chains(driver, rings, {0: [([b"good"], [8], {})] * good})
            vq = rings[0]
            tb.alloc.alloc(64, 64)  # a gap: the chain's buffers share no bus word with older blocks
            head = vq.add_chain([rng.randbytes(40)], [48], indirect=True, indirect_split=0)
            pointer = Descriptor.unpack(tb.mem.read(vq.layout.desc + c.DESC_SIZE * head, 16))
            posted = vq._posted[head]
            table_entry = Descriptor.unpack(tb.mem.read(pointer.addr, 16))
            chain = {"resp": resp, "head": head, "table": pointer.addr,
                     "readable": (table_entry.addr, table_entry.len), "writable": posted.writable[0]}
            dma_cases(tb, vq)[kind](chain)
            await driver.notify(0)
            await expect_halt(tb, driver, vq, good)
            tb.mem.clear_errors()
    await good_chain_after_reset(tb, driver)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_fault_during_traffic(dut, rng):
    """fault_inj (an internal fault, rule 8.4) while chains are in flight on every queue: HALTED at once, no DMA
    after it, in-flight chains abandoned (void tags answered and dropped), then a reset and a working device."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan(SIZE))
    tb.backend.latency = (20, 300)
    for q, vq in enumerate(rings):
        for readable, writable, _ in random_plan(rng, vq, 4):
            vq.add_chain(readable, writable)
        await driver.kick(q)
    await tb.cycles(rng.randint(30, 300))
    await tb.fault_inj()
    await tb.wait_halted()
    published = [tb.mem.read_u16(vq.layout.used_idx_addr) for vq in rings]
    await tb.quiet()
    assert [tb.mem.read_u16(vq.layout.used_idx_addr) for vq in rings] == published, "used.idx moved in HALTED"
    tb.backend.latency = (0, 40)
    await good_chain_after_reset(tb, driver)
    await tb.finish()
