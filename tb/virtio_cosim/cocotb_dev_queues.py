"""virtio_pci_dev queue mechanics: EVENT_IDX edge cases (SPEC 4.6, rule 8.2), 16-bit index wrap from counters
restored near 0xFFF0 through the vq-state registers (SUS-19), and queue reset with chains in flight (SPEC 4.8).
The golden model judges every notification (neither missed nor unsuppressed) and every used element."""

from virtio_golden import constants as c
from virtio_golden.driver import VirtQueue
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.ring import u16

from .dev_tb import TIMEOUT, DevTB, random_chain, random_plan
from .seeded import seeded_test


@seeded_test(**TIMEOUT)
async def test_event_idx_edges(dut, rng):
    """used_event just behind, at, just ahead of and far from the next used index, and across its wrap; kicks
    suppressed by the device's avail_event (the driver kicks only when avail_event asks for it)."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan(16), states={q: (0xFFF8, 0xFFF8) for q in range(tb.params.NUM_QUEUES)})
    for round_ in range(8):
        for q, vq in enumerate(rings):
            count = rng.randint(1, 4)
            offset = rng.choice([-1, 0, 1, count - 1, count, 0x8000])
            for _ in range(count):
                vq.add_chain(*random_chain(rng, max_bufs=2, max_len=64))
            await driver.kick(q)
            used = await driver.wait_used(vq, count)  # reap writes used_event = last_used
            tb.check_answers(vq, used)
            tb.mem.write_u16(vq.layout.used_event_addr, u16(vq.last_used + offset))
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_index_wrap(dut, rng):
    """avail and used indices restored at 0xFFF0 (and unequal on one queue) wrap through 0 and the ring slots wrap
    several times; with and without EVENT_IDX."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    for event_idx in (True, False):
        driver = tb.driver()
        features = tb.params.DEVICE_FEATURES & ~(0 if event_idx else 1 << c.F_EVENT_IDX)
        states = {q: (0xFFF0 + q, 0xFFF0 + q) for q in range(tb.params.NUM_QUEUES)}
        rings = await tb.start(driver, tb.queue_plan(8), features=features, states=states)
        for _ in range(10):  # at most 4 chains of at most 2 descriptors on rings of 8
            chains = {q: [random_chain(rng, max_bufs=1, max_len=40) + ({},) for _ in range(rng.randint(1, 4))]
                      for q in range(len(rings))}
            await tb.run_chains(driver, rings, chains)
        for q, vq in enumerate(rings):
            assert await driver.read_vq_state(q) == (vq.avail_idx, vq.last_used), f"queue {q} vq state"
    await tb.finish()


async def queue_reset(tb: DevTB, q: int) -> None:
    """queue_reset = 1, then poll until it reads 0 (SPEC 4.8)."""
    await tb.bus.write(c.CC_QUEUE_SELECT, q, 2)
    await tb.bus.write(c.CC_QUEUE_RESET, 1, 2)
    for _ in range(2000):
        if not await tb.bus.read(c.CC_QUEUE_RESET, 2):
            return
    raise AssertionError(f"queue {q}: queue_reset still reads 1")


@seeded_test(**TIMEOUT)
async def test_queue_reset(dut, rng):
    """Queue 0 reset with chains in flight (the backend holds them): nothing published for them, be_flush, the
    queue's state back to 0; the other queues keep working; queue 0 set up again works."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan(16))
    await tb.run_chains(driver, rings, {q: [random_chain(rng) + ({},)] for q in range(len(rings))})
    tb.backend.latency = (2000, 3000)  # queue 0's next chains stay in flight
    for _ in range(3):
        rings[0].add_chain([rng.randbytes(20)], [20])
    await driver.kick(0)
    await tb.cycles(600)
    published = tb.mem.read_u16(rings[0].layout.used_idx_addr)
    await queue_reset(tb, 0)
    assert await driver.read_vq_state(0) == (0, 0)
    tb.backend.latency = (0, 40)
    await tb.quiet()
    assert tb.mem.read_u16(rings[0].layout.used_idx_addr) == published, "a chain of the reset queue was published"
    if len(rings) > 1:
        await tb.run_chains(driver, rings, {1: [random_chain(rng) + ({},)]})
    rings[0] = await tb.setup_queue(driver, 0, 16, 0)
    await tb.run_chains(driver, rings, {0: random_plan(rng, rings[0], 3)})
    await tb.finish()


def pad_for(tb: DevTB, size: int, area: str, target: int) -> int:
    """Bytes to skip in the allocator so that the next ring of `size` puts `area` ("avail" or "used") at an address
    equal to `target` modulo 4096 (found by laying the ring out on a scratch allocator)."""
    here = tb.alloc.alloc(0, 1)
    for pad in range(0, 4096, 2):
        scratch = VirtQueue.allocate(GuestMem(), MemAllocator(here + pad, here + pad + 8192), 0, size,
                                     event_idx=True, indirect_ok=True, vector=0)
        if getattr(scratch.layout, area) % 4096 == target:
            return pad
    raise AssertionError(f"no padding puts the {area} ring at {target:#x} modulo 4096")


@seeded_test(**TIMEOUT)
async def test_rings_across_4k(dut, rng):
    """Queue 0's used ring puts used element 0 (and so every 16th one) across a 4 KiB boundary, the other queues'
    avail rings put ring[5] and ring[6] on both sides of one (the avail ring follows the 16-aligned descriptor
    table): the engine must split those accesses (no AXI burst crosses 4 KiB, rule 8.11), write the element whole
    before used.idx, and take the heads in order."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    await driver.reset()
    await tb.quiet()
    await driver.init()
    size = min(16, tb.params.QUEUE_SIZE_MAX)
    rings = []
    for q in range(tb.params.NUM_QUEUES):
        area, target = ("used", 4096 - 8) if q == 0 else ("avail", 4096 - 16)
        tb.alloc.alloc(pad_for(tb, size, area, target), 1)
        rings.append(await tb.setup_queue(driver, q, size, q))
    await driver.driver_ok()
    for _ in range(3 * size // 4):
        await tb.run_chains(driver, rings, {q: random_plan(rng, vq, 2, max_bufs=1) for q, vq in enumerate(rings)})
    await tb.finish()
