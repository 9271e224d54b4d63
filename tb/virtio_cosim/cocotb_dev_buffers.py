"""virtio_pci_dev gather and scatter at any byte alignment and length (rule 8.11): buffers starting at every byte
offset of a bus word and beyond, lengths around the bus width, zero-length descriptors, buffers across 4 KiB
boundaries, indirect tables mixing readable and writable entries. The backend answers with exactly the writable
capacity (be_cpl_len = wr_len), so every writable byte is written and compared."""

from .dev_tb import TIMEOUT, DevTB
from .seeded import seeded_test


def fill_capacity(request) -> tuple:
    """Backend length policy: answer exactly the chain's writable capacity."""
    return request.wr_len, request.wr_len


def place_at(tb: DevTB, offset: int, modulus: int) -> None:
    """Move the allocator so that the next block starts at `offset` modulo `modulus`."""
    here = tb.alloc.alloc(0, 1)
    tb.alloc.alloc((offset - here) % modulus, 1)


async def run_batch(tb: DevTB, driver, rings: list, batch: list) -> None:
    """batch: (queue, offset, modulus, readable, writable, options); each chain placed at its offset."""
    for q, offset, modulus, readable, writable, options in batch:
        place_at(tb, offset, modulus)
        rings[q].add_chain(readable, writable, **options)
    for q in {entry[0] for entry in batch}:
        await driver.kick(q)
    for q in {entry[0] for entry in batch}:
        count = sum(1 for entry in batch if entry[0] == q)
        tb.check_answers(rings[q], await driver.wait_used(rings[q], count))


@seeded_test(**TIMEOUT)
async def test_alignment_and_length(dut, rng):
    """Every start offset in two bus words x lengths around the bus width, for readable and writable buffers,
    with zero-length descriptors between them."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    tb.backend.length = fill_capacity
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    bus = tb.bus_bytes
    lengths = sorted({1, 2, 3, bus - 1, bus, bus + 1, 2 * bus - 1, 2 * bus + 3, 5 * bus + 7})
    cases = [(offset, length) for offset in range(2 * bus) for length in lengths]
    rng.shuffle(cases)
    batch_size = min(rings[0].size // 4, 8)
    for start in range(0, len(cases), batch_size):
        batch = []
        for k, (offset, length) in enumerate(cases[start:start + batch_size]):
            readable = [rng.randbytes(length)] + ([b""] if k % 3 == 0 else [])
            writable = ([0] if k % 4 == 1 else []) + [length + rng.randint(0, 2)]
            batch.append((k % len(rings), offset, 4 * bus, readable, writable, {}))
        await run_batch(tb, driver, rings, batch)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_4k_crossings(dut, rng):
    """Readable and writable buffers that straddle a 4 KiB boundary (no burst may cross one), some of them long."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    tb.backend.length = fill_capacity
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    for _ in range(3):
        batch = []
        for k in range(4):
            before = rng.randint(1, 3 * tb.bus_bytes)  # bytes of the first buffer below the boundary
            length = before + rng.choice([1, 7, tb.bus_bytes, 600, 5000])
            batch.append((k % len(rings), 4096 - before, 4096, [rng.randbytes(length)], [length], {}))
        await run_batch(tb, driver, rings, batch)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_indirect_mixed(dut, rng):
    """Indirect tables that mix readable and writable entries, with and without direct descriptors in front of the
    INDIRECT one, zero-length entries included (SPEC 4.4)."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    tb.backend.length = fill_capacity
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    for _ in range(4):
        batch = []
        for k in range(4):
            readable = [rng.randbytes(rng.choice([0, 1, 13, 64, 200])) for _ in range(rng.randint(1, 4))]
            writable = [rng.choice([0, 1, 9, 64, 250]) for _ in range(rng.randint(1, 4))]
            split = rng.randint(0, len(readable) + len(writable) - 1)
            batch.append((k % len(rings), rng.randrange(64), 64, readable, writable,
                          {"indirect": True, "indirect_split": split}))
        await run_batch(tb, driver, rings, batch)
    await tb.finish()
