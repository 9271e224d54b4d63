"""SPEC 4.7 malformed input through the standalone Device (B12): every condition -> NEEDS_RESET + HALTED, every queue
frozen (no further DMA on any queue), no backend request for the bad chain, one config notification when DRIVER_OK is
shown; the chain forms SPEC 4.7 requires the device to accept are processed normally; a malformed chain found during
SUSPENDING is the SUS-12 failure (0x4F, forced notifications, then the config notification)."""

import pytest

from helpers import INDIRECT, MODES, NEXT, Q, WRITE, GatedBackend, Rig, feature_set
from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.chain import MalformedChain, walk_chain
from virtio_golden.constants import EngineState as St
from virtio_golden.ring import Descriptor

pytestmark = pytest.mark.model

BUF = 0x400000  # data buffers of the hand-built chains
TABLE = 0x500000
TWO32 = 1 << 32
TOP = 1 << 64


def _buf(rig, i, n=8):
    addr = BUF + 0x1000 * i
    rig.mem.write(addr, bytes((i + k) & 0xFF for k in range(min(n, 64))))
    return addr


# Each builder writes queue 0's descriptors and avail ring (head in slot 0, avail.idx = 1 unless noted) and returns
# the head.  The malformed condition is in the comment; tests parametrize over them by name.
def bad_pending_gt_q(rig):  # pending heads > Q
    rig.put_desc(0, 0, _buf(rig, 0), 8)
    rig.publish(0, 0)
    rig.set_avail_idx(0, Q + 1)
    return 0


def bad_head_ge_q(rig):  # head >= Q
    rig.publish(0, Q)
    return Q


def bad_next_ge_q(rig):  # next >= Q (NEXT set)
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, Q)
    rig.publish(0, 0)
    return 0


def bad_next_ge_table(rig):  # next >= table size inside an indirect table
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, NEXT, 2), Descriptor(_buf(rig, 1), 8, WRITE, 0)])
    rig.put_desc(0, 0, TABLE, 32, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_loop(rig):  # a loop in the main table: more than Q descriptors walked
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, NEXT, 0)
    rig.publish(0, 0)
    return 0


def bad_loop_in_table(rig):  # a loop inside an indirect table: more than len/16 entries walked
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, NEXT, 1), Descriptor(_buf(rig, 1), 8, NEXT, 0)])
    rig.put_desc(0, 0, TABLE, 32, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_too_long(rig):  # more than MAX_CHAIN_LEN (4 in these tests) data descriptors
    for i in range(5):
        rig.put_desc(0, i, _buf(rig, i), 8, NEXT if i < 4 else 0, i + 1 if i < 4 else 0)
    rig.publish(0, 0)
    return 0


def bad_too_long_with_table(rig):  # direct part plus table above MAX_CHAIN_LEN, the INDIRECT pointer excluded
    rig.put_table(TABLE, [Descriptor(_buf(rig, 2 + i), 8, NEXT if i < 2 else 0, i + 1 if i < 2 else 0)
                          for i in range(3)])
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, NEXT, 2)
    rig.put_desc(0, 2, TABLE, 48, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_read_after_write(rig):  # a readable descriptor after a writable one
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT | WRITE, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, 0)
    rig.publish(0, 0)
    return 0


def bad_read_after_write_across_table(rig):  # writable in the direct part, readable in the table
    rig.put_table(TABLE, [Descriptor(_buf(rig, 1), 8, 0, 0)])
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT | WRITE, 1)
    rig.put_desc(0, 1, TABLE, 16, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_indirect_without_feature(rig):  # INDIRECT without INDIRECT_DESC negotiated (rig built without it)
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, 0, 0)])
    rig.put_desc(0, 0, TABLE, 16, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_indirect_with_next(rig):  # INDIRECT together with NEXT
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, 0, 0)])
    rig.put_desc(0, 0, TABLE, 16, INDIRECT | NEXT, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, WRITE)
    rig.publish(0, 0)
    return 0


def bad_nested_indirect(rig):  # an INDIRECT descriptor inside a table
    rig.put_table(TABLE + 0x100, [Descriptor(_buf(rig, 1), 8, 0, 0)])
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, NEXT, 1), Descriptor(TABLE + 0x100, 16, INDIRECT, 0)])
    rig.put_desc(0, 0, TABLE, 32, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_indirect_len_zero(rig):  # indirect len 0
    rig.put_desc(0, 0, TABLE, 0, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_indirect_len_not_multiple(rig):  # indirect len not a multiple of 16
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, 0, 0), Descriptor(_buf(rig, 1), 8, 0, 0)])
    rig.put_desc(0, 0, TABLE, 24, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_total_len(rig):  # data length total above 2^32 (writable, so no gather would be needed)
    rig.put_desc(0, 0, 0x1_0000_0000, 0xFFFF_FFFF, NEXT | WRITE, 1)
    rig.put_desc(0, 1, 0x2_0000_0000, 2, WRITE)
    rig.publish(0, 0)
    return 0


def bad_addr_overflow(rig):  # a data buffer whose address + length overflows 2^64
    rig.put_desc(0, 0, TOP - 4, 8, WRITE)
    rig.publish(0, 0)
    return 0


def bad_table_addr_overflow(rig):  # an indirect table whose address + len overflows 2^64
    rig.put_desc(0, 0, TOP - 16, 32, INDIRECT)
    rig.publish(0, 0)
    return 0


def bad_descriptor_dma_error(rig):  # a DMA error on a descriptor read (rule 8.9)
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, WRITE)
    rig.mem.inject_error(rig.layouts[0].desc_addr(1), 16, "DECERR", on="read")
    rig.publish(0, 0)
    return 0


MALFORMED = [bad_pending_gt_q, bad_head_ge_q, bad_next_ge_q, bad_next_ge_table, bad_loop, bad_loop_in_table,
             bad_too_long, bad_too_long_with_table, bad_read_after_write, bad_read_after_write_across_table,
             bad_indirect_without_feature, bad_indirect_with_next, bad_nested_indirect, bad_indirect_len_zero,
             bad_indirect_len_not_multiple, bad_total_len, bad_addr_overflow, bad_table_addr_overflow,
             bad_descriptor_dma_error]


def _max_chain_len(builder) -> int:
    """MAX_CHAIN_LEN 4 for the too-long chains; otherwise the default (QUEUE_SIZE_MAX), above Q, so that a loop is
    caught by the walk budget of Q descriptors first."""
    return 4 if builder in (bad_too_long, bad_too_long_with_table) else Rig().params.MAX_CHAIN_LEN


def _rig(mode, builder, **kw):
    feats = feature_set(indirect=builder is not bad_indirect_without_feature)
    return Rig.running(mode, msix=True, record=True, features=feats, MAX_CHAIN_LEN=_max_chain_len(builder), **kw)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("builder", MALFORMED, ids=lambda f: f.__name__.removeprefix("bad_"))
def test_s4_7_malformed_needs_reset_halted_frozen(mode, builder):
    """SPEC 4.7 / B12: NEEDS_RESET + HALTED (0x4F); every queue frozen (queue 1's chain in flight is neither
    completed nor published, and no DMA happens in HALTED); no backend request for the bad chain; one config
    notification (DRIVER_OK shown)."""
    rig = _rig(mode, builder, backend=GatedBackend(hold=(1,)))
    other = rig.post(1, [(8, False), (8, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 1)
    states_at_dma = []
    rig.mem.listeners.append(lambda kind, addr, data: states_at_dma.append(rig.state))
    head = builder(rig)
    rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    assert rig.dev.irqs == [2]
    requests = [e for e in rig.dev.trace if isinstance(e, ev.BeRequest)]
    assert [(e.queue, e.head) for e in requests] == [(1, other.head)]
    assert head in (0, Q)
    rig.dev.backend.hold.clear()  # queue 1's void request is answered now: dropped
    rig.run()
    assert St.HALTED not in states_at_dma
    assert rig.used_idx(1) == 0 and rig.used_idx(0) == 0
    assert rig.mem.read(other.writable[0][0], 8) != bytes(8)  # the buffer keeps the driver's pattern
    rig.kick(0)
    rig.kick(1)
    rig.run()
    assert St.HALTED not in states_at_dma


@pytest.mark.parametrize("builder", [bad_head_ge_q, bad_next_ge_q, bad_read_after_write],
                         ids=lambda f: f.__name__.removeprefix("bad_"))
def test_s4_7_malformed_without_msix_sets_isr_config(builder):
    """SPEC 4.7 / 5.1: with MSI-X disabled the NEEDS_RESET notification sets ISR bit 1 (and INTx)."""
    rig = Rig.running()
    builder(rig)
    rig.kick(0)
    rig.run()
    assert rig.state == St.HALTED
    assert rig.dev.intx and rig.read_isr() == c.ISR_CONFIG


# ------------------------------------------------------------------------------------------ forms that must be accepted
def ok_direct_then_indirect(rig):  # zero or more direct descriptors followed by one INDIRECT descriptor
    rig.put_table(TABLE, [Descriptor(_buf(rig, 2), 8, WRITE, 0)])
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, TABLE, 16, INDIRECT)
    rig.publish(0, 0)
    return 8, 8  # rd_len, wr_len


def ok_write_on_pointer(rig):  # WRITE set on the INDIRECT pointer (ignored), readable table after readable direct
    rig.put_table(TABLE, [Descriptor(_buf(rig, 1), 8, NEXT, 1), Descriptor(_buf(rig, 2), 8, WRITE, 0)])
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, TABLE, 32, INDIRECT | WRITE)
    rig.publish(0, 0)
    return 16, 8


def ok_mixed_table(rig):  # one table mixing readable and writable descriptors, INDIRECT at the head
    rig.put_table(TABLE, [Descriptor(_buf(rig, 0), 8, NEXT, 1), Descriptor(_buf(rig, 1), 4, NEXT | WRITE, 2),
                          Descriptor(_buf(rig, 2), 4, WRITE, 0)])
    rig.put_desc(0, 0, TABLE, 48, INDIRECT)
    rig.publish(0, 0)
    return 8, 8


def ok_zero_length(rig):  # zero-length data descriptors: no DMA, count as descriptors, add 0
    rig.put_desc(0, 0, BUF + 0x9000, 0, NEXT, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, NEXT, 2)
    rig.put_desc(0, 2, BUF + 0xA000, 0, NEXT | WRITE, 3)
    rig.put_desc(0, 3, _buf(rig, 3), 8, WRITE)
    rig.publish(0, 0)
    return 8, 8


def ok_exactly_max_chain_len(rig):  # exactly MAX_CHAIN_LEN (4) data descriptors plus the INDIRECT pointer
    rig.put_table(TABLE, [Descriptor(_buf(rig, 2), 8, NEXT | WRITE, 1), Descriptor(_buf(rig, 3), 8, WRITE, 0)])
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, _buf(rig, 1), 8, NEXT, 2)
    rig.put_desc(0, 2, TABLE, 32, INDIRECT)
    rig.publish(0, 0)
    return 16, 16


def ok_total_exactly_2_32(rig):  # a byte total of exactly 2^32 is legal
    rig.put_desc(0, 0, 0x1_0000_0000, 0x8000_0000, NEXT | WRITE, 1)
    rig.put_desc(0, 1, 0x2_0000_0000, 0x8000_0000, WRITE)
    rig.publish(0, 0)
    return 0, TWO32


def ok_next_ignored_without_flag(rig):  # next is checked only when NEXT is set
    rig.put_desc(0, 0, _buf(rig, 0), 8, WRITE, 0xFFFF)
    rig.publish(0, 0)
    return 0, 8


def ok_zero_length_at_top(rig):  # a zero-length descriptor has no last byte and never overflows (rule 8.9)
    rig.put_desc(0, 0, _buf(rig, 0), 8, NEXT, 1)
    rig.put_desc(0, 1, TOP - 1, 0, NEXT | WRITE, 2)
    rig.put_desc(0, 2, _buf(rig, 2), 8, WRITE)
    rig.publish(0, 0)
    return 8, 8


ACCEPTED = [ok_direct_then_indirect, ok_write_on_pointer, ok_mixed_table, ok_zero_length, ok_exactly_max_chain_len,
            ok_total_exactly_2_32, ok_next_ignored_without_flag, ok_zero_length_at_top]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("builder", ACCEPTED, ids=lambda f: f.__name__.removeprefix("ok_"))
def test_s4_7_accepted_forms_processed(mode, builder):
    """SPEC 4.4 / 4.7 / B12: the chains the device must accept are processed normally: one backend request with the
    right rd_len / wr_len, one used element, no NEEDS_RESET; zero-length descriptors cause no DMA."""
    rig = Rig.running(mode, record=True, queues=(0,), MAX_CHAIN_LEN=4)
    rd_len, wr_len = builder(rig)
    rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)
    reqs = [e for e in rig.dev.trace if isinstance(e, ev.BeRequest)]
    assert [(e.head, e.rd_len, e.wr_len) for e in reqs] == [(0, rd_len, wr_len)]
    assert rig.used_elems(0) == [(0, min(rd_len, wr_len))]  # the reference backend answers min(rd, wr) bytes
    for k, a, d in rig.log.events:
        assert a not in (BUF + 0x9000, BUF + 0xA000, TOP - 1)


# ------------------------------------------------------------------------------------------ during SUSPENDING (SUS-12)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(8))
def test_s4_7_malformed_during_suspending_is_sus12(mode, seed):
    """SPEC 4.7 / SUS-12: a chain taken in RUNNING whose walk finds a malformed descriptor during SUSPENDING -> 0x4F
    (SUSPEND never shown), the forced notification of every queue marked by then (queue 0, if it published since the
    request), then exactly one config notification; HALTED, queue 1 frozen."""
    rig = Rig.running(mode, seed=seed, msix=True, record=True, backend=GatedBackend(hold=(0,), seed=seed))
    rig.post(0, [(8, False), (8, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 1)
    for i in range(6):  # a long walk on queue 1 that ends in next >= Q
        rig.put_desc(1, i, _buf(rig, i), 8, NEXT, i + 1 if i < 5 else Q + 3)
    rig.publish(1, 0)
    rig.kick(1)
    rig.step_until(lambda: any(f.desc_pending for f in rig.dev.core.queues[1].flights))
    rig.write_status(0x1F)
    assert rig.state == St.SUSPENDING
    rig.dev.backend.hold.clear()
    published = []
    rig.mem.listeners.append(lambda kind, addr, data: published.append(rig.state)
                             if kind == "write" and addr == rig.layouts[0].used_idx_addr else None)
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    if published:  # queue 0 published during the drain: it was marked
        assert rig.dev.irqs == [0, 2]
    else:
        assert rig.dev.irqs == [2]
    assert not any(isinstance(e, ev.BeRequest) and e.queue == 1 for e in rig.dev.trace)
    assert rig.used_idx(1) == 0


def test_s4_7_malformed_during_suspending_both_orders_seen():
    """SUS-12: across seeds, both outcomes of the previous test occur (queue 0 marked before the walk fails, and
    not), so the forced-then-config path is really exercised."""
    outcomes = set()
    for seed in range(16):
        rig = Rig.running(seed=seed, msix=True, backend=GatedBackend(hold=(0,), seed=seed))
        rig.post(0, [(8, False), (8, True)], kick=True)
        rig.step_until(lambda: rig.requests_issued() == 1)
        for i in range(6):
            rig.put_desc(1, i, _buf(rig, i), 8, NEXT, i + 1 if i < 5 else Q + 3)
        rig.publish(1, 0)
        rig.kick(1)
        rig.step_until(lambda: any(f.desc_pending for f in rig.dev.core.queues[1].flights))
        rig.write_status(0x1F)
        rig.dev.backend.hold.clear()
        rig.run()
        outcomes.add(tuple(rig.dev.irqs))
    assert outcomes == {(0, 2), (2,)}


WALK_CLASS = {
    bad_next_ge_q: "NEXT_GE_Q", bad_next_ge_table: "NEXT_GE_Q", bad_loop: "LOOP", bad_loop_in_table: "LOOP",
    bad_too_long: "CHAIN_TOO_LONG", bad_too_long_with_table: "CHAIN_TOO_LONG",
    bad_read_after_write: "READ_AFTER_WRITE", bad_read_after_write_across_table: "READ_AFTER_WRITE",
    bad_indirect_without_feature: "INDIRECT_NOT_NEGOTIATED", bad_indirect_with_next: "INDIRECT_WITH_NEXT",
    bad_nested_indirect: "NESTED_INDIRECT", bad_indirect_len_zero: "INDIRECT_BAD_LEN",
    bad_indirect_len_not_multiple: "INDIRECT_BAD_LEN", bad_total_len: "TOTAL_LEN_OVERFLOW",
    bad_addr_overflow: "ADDR_OVERFLOW", bad_table_addr_overflow: "ADDR_OVERFLOW", bad_descriptor_dma_error: "DMA_ERROR",
}


@pytest.mark.parametrize("builder", list(WALK_CLASS), ids=lambda f: f.__name__.removeprefix("bad_"))
def test_s4_7_fixtures_hit_their_condition(builder):
    """SPEC 4.7: each hand-built chain above breaks exactly the rule it is named after (checked with the walker)."""
    rig = _rig("V14", builder)
    head = builder(rig)
    with pytest.raises(MalformedChain) as info:
        walk_chain(rig.mem, rig.layouts[0].desc, Q, head, indirect_ok=builder is not bad_indirect_without_feature,
                   max_chain_len=_max_chain_len(builder))
    assert info.value.cls.name == WALK_CLASS[builder]
