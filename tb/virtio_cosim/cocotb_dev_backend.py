"""virtio_pci_dev against a misbehaving or slow backend (rule 8.11): length errors and unknown tags (the sticky diag
outputs, never NEEDS_RESET), error completions (NEEDS_RESET and HALTED), completions in any order under be_quiesce
during a SUSPEND drain, and a backend that never answers (the driver's suspend times out and resets)."""

from virtio_golden import constants as c
from virtio_golden.driver import PollTimeout

from .dev_tb import TIMEOUT, DevTB, random_chain, random_plan
from .seeded import seeded_test
from .tb_common import is_high


@seeded_test(**TIMEOUT)
async def test_length_errors(dut, rng):
    """be_cpl_len above the writable capacity, and be_wr packets shorter and longer than be_cpl_len: the engine
    writes min(be_cpl_len, packet, capacity) bytes, reports them in used.len and raises diag_cpl_len_err."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    policies = [lambda r: (r.wr_len + 9, r.wr_len + 9),      # longer than the capacity
                lambda r: (r.wr_len, max(r.wr_len - 3, 1)),   # packet shorter than be_cpl_len
                lambda r: (max(r.wr_len - 5, 1), r.wr_len)]   # packet longer than be_cpl_len
    for policy in policies:
        tb.backend.length = policy
        chains = {q: [([rng.randbytes(30)], [rng.randint(8, 40)], {}) for _ in range(2)] for q in range(len(rings))}
        await tb.run_chains(driver, rings, chains)
        assert is_high(dut.diag_cpl_len_err), "diag_cpl_len_err after a length error"
    assert not await tb.status() & c.S_NEEDS_RESET
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_unknown_tags(dut, rng):
    """Completions for tags no request holds: dropped, diag_cpl_bad_tag set, traffic goes on."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    assert not is_high(dut.diag_cpl_bad_tag)
    tb.backend.send_unknown_tag()
    await tb.run_chains(driver, rings, {q: [random_chain(rng) + ({},)] for q in range(len(rings))})
    tb.backend.send_unknown_tag()
    await tb.run_chains(driver, rings, {q: [random_chain(rng) + ({},)] for q in range(len(rings))})
    await tb.quiet()
    assert is_high(dut.diag_cpl_bad_tag) and not is_high(dut.diag_cpl_len_err)
    assert not await tb.status() & c.S_NEEDS_RESET
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_error_completion(dut, rng):
    """be_cpl_err on a live tag: NEEDS_RESET, HALTED, nothing published for the chain."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    await tb.run_chains(driver, rings, {0: [random_chain(rng) + ({},)]})
    head = rings[0].add_chain([b"fails"], [16])
    tb.backend.error_heads.add((0, head))
    await driver.kick(0)
    await tb.wait_halted()
    await tb.quiet()
    assert tb.mem.read_u16(rings[0].layout.used_idx_addr) == 1
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_suspend_drain(dut, rng):
    """SUSPEND with chains in flight on every queue and a slow backend: be_quiesce makes it answer at once, every
    taken chain is published before SUSPENDED, nothing moves while suspended, resume finishes the rest."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    tb.backend.latency = (500, 3000)
    posted = {}
    for q, vq in enumerate(rings):
        plan = random_plan(rng, vq, rng.randint(2, 6))
        for readable, writable, _ in plan:
            vq.add_chain(readable, writable)
        posted[q] = len(plan)
        await driver.kick(q)
    await tb.cycles(rng.randint(50, 400))
    await driver.suspend()
    await tb.cycles(300)  # the monitors watch the suspended device
    tb.backend.latency = (0, 40)
    await driver.resume()
    for q, vq in enumerate(rings):
        tb.check_answers(vq, await driver.wait_used(vq, posted[q]))
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_never_complete(dut, rng):
    """A backend that ignores be_quiesce: the drain never ends, the driver's suspend times out and resets the
    device (SUS-22); after that the backend behaves and the device works again."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver(poll_limit=300)
    rings = await tb.start(driver, tb.queue_plan())
    tb.backend.never_complete = True
    rings[0].add_chain([b"stuck"], [8])
    await driver.kick(0)
    await tb.cycles(300)
    try:
        await driver.suspend()
    except PollTimeout:
        pass
    else:
        raise AssertionError("SUSPENDED although a chain could never complete")
    tb.backend.never_complete = False
    driver = tb.driver()
    rings = await tb.start(driver, tb.queue_plan())
    await tb.run_chains(driver, rings, {0: [random_chain(rng) + ({},)]})
    await tb.finish()
