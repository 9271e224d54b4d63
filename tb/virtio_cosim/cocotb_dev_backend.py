"""virtio_pci_dev against a misbehaving or slow backend (rule 8.11): length errors and unknown tags (the sticky diag
outputs, never NEEDS_RESET), error completions (NEEDS_RESET and HALTED), completions in any order under be_quiesce
during a SUSPEND drain, and a backend that never answers (the driver's suspend times out and resets). Then SUSPEND
over the matrix of the `suspend` covergroup and every way out of SUSPENDED (`resume`; dev_coverage.py)."""

from virtio_golden import constants as c
from virtio_golden.constants import SuspendMode
from virtio_golden.driver import PollTimeout

from .dev_tb import TIMEOUT, DevTB, held_chain_bufs, random_chain, random_plan
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


HOLD = (10**7, 10**7)   # a backend latency only be_quiesce cuts short (rule 8.11)
NORMAL = (0, 40)


def without(features: int, *bits: int) -> int:
    for bit in bits:
        features &= ~(1 << bit)
    return features


@seeded_test(**TIMEOUT)
async def test_suspend_matrix(dut, rng):
    """SUSPEND latched with 0, 1, 2-3 and FETCH_AHEAD chains per queue in flight (the backend answers only under
    be_quiesce), on one queue and on every queue, with and without EVENT_IDX and INDIRECT_DESC: every taken chain is
    published before SUSPENDED (SUS-06, with the forced notifications of SUS-21), resume serves the rest."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(rng.random() < 0.5)
    driver = tb.driver()
    p = tb.params
    for queues in sorted({1, p.NUM_QUEUES}):
        for event_idx in (True, False):
            for indirect in (True, False):
                features = without(p.DEVICE_FEATURES, *([] if event_idx else [c.F_EVENT_IDX]),
                                   *([] if indirect else [c.F_INDIRECT_DESC]))
                for depth in sorted({0, 1, min(rng.randint(2, 3), p.FETCH_AHEAD * queues), p.FETCH_AHEAD * queues}):
                    dut._log.info("suspend with %d chains in flight on %d queue(s), EVENT_IDX %s, INDIRECT %s",
                                  depth, queues, event_idx, indirect)
                    rings = await tb.start(driver, tb.queue_plan(16)[:queues], features)
                    tb.backend.latency = HOLD
                    max_bufs = held_chain_bufs(p, depth)
                    for k in range(depth):
                        readable, writable = random_chain(rng, max_bufs=max_bufs, max_len=100)
                        rings[k % queues].add_chain(readable, writable, indirect=indirect and rng.random() < 0.5)
                    for vq in rings:
                        await driver.kick(vq.index)
                    await tb.wait_for(lambda: tb.backend.outstanding == depth, f"{depth} backend requests held")
                    await driver.suspend()
                    tb.backend.latency = NORMAL
                    await driver.resume()
                    for q, vq in enumerate(rings):
                        tb.check_answers(vq, await driver.wait_used(vq, len(range(q, depth, queues))))
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_resume_paths(dut, rng):
    """Every way out of SUSPENDED: a resume to RUNNING; a reset written in SUSPENDED and one in RESUMING (SUS-13); a
    fault in RESUMING (HALTED with NEEDS_RESET); in mode RFC a device suspended before DRIVER_OK resumed back to
    INIT (SUS-11). The device works after each."""
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(True)
    driver = tb.driver()
    rfc = tb.params.mode == SuspendMode.RFC

    async def suspended() -> list:
        rings = await tb.start(driver, tb.queue_plan(16))
        await tb.run_chains(driver, rings, {0: [random_chain(rng) + ({},)]})
        await driver.suspend()
        return rings

    async def start_resume() -> None:
        """The resume write alone: RESUMING lasts RESUME_LATENCY cycles after it (docs/rtl-core.md)."""
        shown = await driver.status()
        await driver.write_status(shown & ~c.S_SUSPEND if rfc else shown | c.S_DRIVER_OK)

    rings = await suspended()
    await driver.resume()
    await tb.run_chains(driver, rings, {0: [random_chain(rng) + ({},)]})
    await suspended()
    await driver.reset()
    await suspended()
    await start_resume()
    await driver.reset()
    await suspended()
    await start_resume()
    await tb.fault_inj()
    await tb.wait_halted()
    if rfc:
        await driver.reset()
        await tb.quiet()
        await driver.init()
        await driver.suspend()
        shown = await driver.resume()
        assert shown == c.S_ACKNOWLEDGE | c.S_DRIVER | c.S_FEATURES_OK, f"device_status {shown:#04x} after the resume"
    rings = await tb.start(driver, tb.queue_plan(16))
    await tb.run_chains(driver, rings, {0: [random_chain(rng) + ({},)]})
    await tb.finish()
