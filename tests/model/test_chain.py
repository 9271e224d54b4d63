"""Chain walk with the SPEC 4.7 checks (rules 8.8, 8.9) and the gather / scatter of rule 8.11."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtio_golden import constants as c
from virtio_golden.chain import Buffer, Chain, MalformedChain, MalformedClass, gather, scatter, walk_chain
from virtio_golden.memory import DmaError, GuestMem
from virtio_golden.params import Params
from virtio_golden.ring import Descriptor

pytestmark = pytest.mark.model

TOP = 1 << 64
Q = 8
DESC_BASE = 0x10000
TABLE = 0x20000
DATA = 0x40000

NEXT, WRITE, INDIRECT = c.VIRTQ_DESC_F_NEXT, c.VIRTQ_DESC_F_WRITE, c.VIRTQ_DESC_F_INDIRECT
READ = 0


def put(mem, base, index, addr, length, flags=READ, nxt=0):
    mem.write(base + c.DESC_SIZE * index, Descriptor(addr, length, flags, nxt).pack())


def put_linked(mem, base, specs):
    """Write (addr, len, flags) specs at indices 0, 1, ... linked in that order; NEXT is set on all but the last."""
    for index, (addr, length, flags) in enumerate(specs):
        is_last = index == len(specs) - 1
        put(mem, base, index, addr, length, flags if is_last else flags | NEXT, 0 if is_last else index + 1)


def walk(mem, head=0, *, qsize=Q, indirect_ok=True, max_chain_len=64):
    return walk_chain(mem, DESC_BASE, qsize, head, indirect_ok=indirect_ok, max_chain_len=max_chain_len)


def malformed(mem, **walk_args) -> MalformedChain:
    with pytest.raises(MalformedChain) as info:
        walk(mem, **walk_args)
    return info.value


# -- one test per class the walker detects -------------------------------------------------------------------------

def test_next_ge_q_in_the_main_table():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, DATA, 4, NEXT, nxt=Q)
    assert malformed(mem).cls is MalformedClass.NEXT_GE_Q


def test_next_ge_table_entries_inside_an_indirect_table():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, 2 * c.DESC_SIZE, INDIRECT)
    put(mem, TABLE, 0, DATA, 4, NEXT, nxt=2)  # 2 < Q, but the table has 2 entries
    assert malformed(mem).cls is MalformedClass.NEXT_GE_Q


def test_next_is_ignored_without_the_next_flag():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, DATA, 4, READ, nxt=0xFFFF)
    assert walk(mem).n_data == 1


def test_loop_over_q_descriptors_is_detected():
    mem = GuestMem()
    for index in range(Q):
        put(mem, DESC_BASE, index, DATA + 16 * index, 16, NEXT, nxt=(index + 1) % Q)
    error = malformed(mem, head=3)
    assert error.cls is MalformedClass.LOOP


def test_loop_inside_an_indirect_table_uses_the_table_budget():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, 2 * c.DESC_SIZE, INDIRECT)
    put(mem, TABLE, 0, DATA, 4, NEXT, nxt=1)
    put(mem, TABLE, 1, DATA, 4, NEXT, nxt=0)
    assert malformed(mem).cls is MalformedClass.LOOP


def test_more_than_max_chain_len_data_descriptors():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, READ)] * 4)
    assert walk(mem, max_chain_len=4).n_data == 4
    assert malformed(mem, max_chain_len=3).cls is MalformedClass.CHAIN_TOO_LONG


def test_max_chain_len_counts_direct_part_plus_table_but_not_the_pointer():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, READ), (DATA, 4, READ), (TABLE, 2 * c.DESC_SIZE, INDIRECT)])
    put_linked(mem, TABLE, [(DATA, 4, READ), (DATA, 4, WRITE)])
    assert walk(mem, max_chain_len=4).n_data == 4
    assert malformed(mem, max_chain_len=3).cls is MalformedClass.CHAIN_TOO_LONG


def test_default_max_chain_len_accepted_and_one_more_rejected():
    params = Params()
    for entries, accepted in ((params.MAX_CHAIN_LEN, True), (params.MAX_CHAIN_LEN + 1, False)):
        mem = GuestMem()
        put(mem, DESC_BASE, 0, TABLE, entries * c.DESC_SIZE, INDIRECT)
        put_linked(mem, TABLE, [(DATA, 1, READ)] * entries)
        walk_args = dict(qsize=params.QUEUE_SIZE_MAX, max_chain_len=params.MAX_CHAIN_LEN)
        if accepted:
            assert walk(mem, **walk_args).n_data == params.MAX_CHAIN_LEN
        else:
            assert malformed(mem, **walk_args).cls is MalformedClass.CHAIN_TOO_LONG


def test_readable_after_writable_in_the_direct_part():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, READ), (DATA + 4, 4, WRITE), (DATA + 8, 4, READ)])
    assert malformed(mem).cls is MalformedClass.READ_AFTER_WRITE


def test_readable_after_writable_across_direct_part_and_table():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, WRITE), (TABLE, c.DESC_SIZE, INDIRECT)])
    put(mem, TABLE, 0, DATA + 4, 4, READ)
    assert malformed(mem).cls is MalformedClass.READ_AFTER_WRITE


def test_readable_after_writable_inside_a_table():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, 2 * c.DESC_SIZE, INDIRECT)
    put_linked(mem, TABLE, [(DATA, 4, WRITE), (DATA + 4, 4, READ)])
    assert malformed(mem).cls is MalformedClass.READ_AFTER_WRITE


def test_indirect_without_the_feature():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, c.DESC_SIZE, INDIRECT)
    put(mem, TABLE, 0, DATA, 4, READ)
    assert malformed(mem, indirect_ok=False).cls is MalformedClass.INDIRECT_NOT_NEGOTIATED


def test_indirect_together_with_next():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, c.DESC_SIZE, INDIRECT | NEXT, nxt=1)
    put(mem, TABLE, 0, DATA, 4, READ)
    assert malformed(mem).cls is MalformedClass.INDIRECT_WITH_NEXT


def test_nested_indirect():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, 2 * c.DESC_SIZE, INDIRECT)
    put_linked(mem, TABLE, [(DATA, 4, READ), (TABLE + 0x100, c.DESC_SIZE, INDIRECT)])
    assert malformed(mem).cls is MalformedClass.NESTED_INDIRECT


@pytest.mark.parametrize("table_len", [0, 8, 17, 24])
def test_indirect_len_zero_or_not_a_multiple_of_16(table_len):
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, table_len, INDIRECT)
    assert malformed(mem).cls is MalformedClass.INDIRECT_BAD_LEN


def test_total_length_exactly_2_to_the_32_accepted_one_more_rejected():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 0xFFFF_FFFF, READ), (0x2_0000_0000, 1, WRITE)])
    chain = walk(mem)
    assert (chain.rd_len, chain.wr_len, chain.rd_len + chain.wr_len) == (0xFFFF_FFFF, 1, 1 << 32)
    put_linked(mem, DESC_BASE, [(DATA, 0xFFFF_FFFF, READ), (0x2_0000_0000, 2, WRITE)])
    assert malformed(mem).cls is MalformedClass.TOTAL_LEN_OVERFLOW


def test_total_length_counts_data_descriptors_not_the_pointer():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 0xFFFF_FFF0, READ), (TABLE, c.DESC_SIZE, INDIRECT)])
    put(mem, TABLE, 0, 0x2_0000_0000, 0x10, WRITE)
    assert walk(mem).wr_len == 0x10  # 0xFFFF_FFF0 + 0x10 = 2^32; the pointer's 16 bytes are not counted


def test_data_descriptor_address_overflow():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TOP - 4, 4, READ)
    assert walk(mem).rd_len == 4  # last byte at 2^64 - 1
    put(mem, DESC_BASE, 0, TOP - 4, 5, READ)
    assert malformed(mem).cls is MalformedClass.ADDR_OVERFLOW


def test_zero_length_descriptor_never_overflows():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TOP - 1, 0, WRITE)
    assert walk(mem).buffers == [Buffer(TOP - 1, 0, True)]


def test_indirect_table_address_overflow():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TOP - c.DESC_SIZE, 2 * c.DESC_SIZE, INDIRECT)
    assert malformed(mem).cls is MalformedClass.ADDR_OVERFLOW


def test_descriptor_read_beyond_2_to_the_64():
    mem = GuestMem()
    base = TOP - c.DESC_SIZE
    put(mem, base, 0, DATA, 4, NEXT, nxt=1)  # descriptor 1 would lie at 2^64
    with pytest.raises(MalformedChain) as info:
        walk_chain(mem, base, Q, 0, indirect_ok=True, max_chain_len=Q)
    assert info.value.cls is MalformedClass.ADDR_OVERFLOW


@pytest.mark.parametrize("where", ["main table", "indirect table"])
def test_dma_error_on_a_descriptor_read(where):
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, READ), (TABLE, 2 * c.DESC_SIZE, INDIRECT)])
    put_linked(mem, TABLE, [(DATA, 4, READ), (DATA, 4, WRITE)])
    bad_addr = DESC_BASE + c.DESC_SIZE if where == "main table" else TABLE + c.DESC_SIZE
    mem.inject_error(bad_addr + 8, 1, resp="DECERR", on="read")
    error = malformed(mem)
    assert error.cls is MalformedClass.DMA_ERROR
    assert isinstance(error.__cause__, DmaError) and error.__cause__.resp == "DECERR"
    assert error.__cause__.addr == bad_addr


# -- check order (docstring of walk_chain) --------------------------------------------------------------------------

def test_check_order_feature_before_next_on_an_indirect_descriptor():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, 0, INDIRECT | NEXT, nxt=Q)
    assert malformed(mem, indirect_ok=False).cls is MalformedClass.INDIRECT_NOT_NEGOTIATED
    assert malformed(mem).cls is MalformedClass.INDIRECT_WITH_NEXT


def test_check_order_descriptor_fields_before_its_link():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, WRITE), (DATA, 4, READ)])
    put(mem, DESC_BASE, 1, DATA, 4, NEXT, nxt=Q)
    assert malformed(mem).cls is MalformedClass.READ_AFTER_WRITE


def test_check_order_chain_limit_before_loop_when_max_chain_len_is_below_q():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, DATA, 4, NEXT, nxt=0)
    assert malformed(mem, max_chain_len=Q - 1).cls is MalformedClass.CHAIN_TOO_LONG
    assert malformed(mem, max_chain_len=Q).cls is MalformedClass.LOOP


def test_head_outside_the_queue_is_the_callers_error():
    with pytest.raises(ValueError, match="HEAD_GE_Q"):
        walk(GuestMem(), head=Q)


# -- accepted forms of SPEC 4.7 ---------------------------------------------------------------------------------

def test_direct_descriptors_then_a_final_indirect_with_a_mixed_table():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 10, READ), (DATA + 0x100, 20, READ), (TABLE, 3 * c.DESC_SIZE, INDIRECT)])
    put_linked(mem, TABLE, [(DATA + 0x200, 30, READ), (DATA + 0x300, 40, WRITE), (DATA + 0x400, 50, WRITE)])
    chain = walk(mem)
    assert chain.indirect and chain.n_data == 5 and chain.head == 0
    assert chain.buffers == [Buffer(DATA, 10, False), Buffer(DATA + 0x100, 20, False), Buffer(DATA + 0x200, 30, False),
                             Buffer(DATA + 0x300, 40, True), Buffer(DATA + 0x400, 50, True)]
    assert (chain.rd_len, chain.wr_len) == (60, 90)
    assert chain.desc_reads == [(DESC_BASE, 16), (DESC_BASE + 16, 16), (DESC_BASE + 32, 16),
                                (TABLE, 16), (TABLE + 16, 16), (TABLE + 32, 16)]


def test_indirect_head_with_write_flag_on_the_pointer():
    mem = GuestMem()
    put(mem, DESC_BASE, 0, TABLE, 2 * c.DESC_SIZE, INDIRECT | WRITE)
    put_linked(mem, TABLE, [(DATA, 8, READ), (DATA + 8, 8, WRITE)])
    chain = walk(mem)
    assert [buf.writable for buf in chain.buffers] == [False, True]


def test_table_walk_may_use_only_part_of_the_table_and_follow_next():
    mem = GuestMem()
    put(mem, DESC_BASE, 5, TABLE, 4 * c.DESC_SIZE, INDIRECT)
    put(mem, TABLE, 0, DATA, 1, NEXT, nxt=3)
    put(mem, TABLE, 3, DATA + 1, 2, WRITE)
    chain = walk(mem, head=5)
    assert [buf.len for buf in chain.buffers] == [1, 2]
    assert chain.desc_reads == [(DESC_BASE + 5 * 16, 16), (TABLE, 16), (TABLE + 3 * 16, 16)]


def test_zero_length_descriptors_are_kept_counted_and_add_nothing():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 0, READ), (DATA, 7, READ), (DATA + 0x80, 0, WRITE), (DATA + 0x90, 5, WRITE)])
    chain = walk(mem, max_chain_len=4)
    assert chain.n_data == 4 and len(chain.buffers) == 4
    assert (chain.rd_len, chain.wr_len) == (7, 5)
    assert malformed(mem, max_chain_len=3).cls is MalformedClass.CHAIN_TOO_LONG


def test_chain_of_exactly_q_main_descriptors_is_no_loop():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, READ)] * Q)
    assert walk(mem).n_data == Q


def test_q_minus_one_data_descriptors_plus_the_pointer_fit_the_budget():
    mem = GuestMem()
    put_linked(mem, DESC_BASE, [(DATA, 4, READ)] * (Q - 1) + [(TABLE, c.DESC_SIZE, INDIRECT)])
    put(mem, TABLE, 0, DATA, 4, WRITE)
    chain = walk(mem)
    assert chain.n_data == Q and len(chain.desc_reads) == Q + 1


# -- gather and scatter (rule 8.11) -------------------------------------------------------------------------------

GUARD = 0xEE


def test_gather_concatenates_readable_buffers_at_odd_addresses_across_pages():
    mem = GuestMem()
    layout = [(0x1FFF, 3), (0x3001, 0), (0x4FFD, 0x1005), (0x7123, 1)]
    expected = b""
    for number, (addr, length) in enumerate(layout):
        payload = bytes((number * 37 + k) & 0xFF for k in range(length))
        mem.write(addr, payload)
        expected += payload
    reads = []
    mem.listeners.append(lambda kind, addr, data: reads.append((kind, addr, len(data))))
    mem.inject_error(0x3001, 1)  # under the zero-length buffer: never touched
    chain = Chain(head=0, buffers=[Buffer(a, n, False) for a, n in layout] + [Buffer(0x9000, 64, True)])
    assert gather(mem, chain) == expected
    assert reads == [("read", 0x1FFF, 3), ("read", 0x4FFD, 0x1005), ("read", 0x7123, 1)]


def writable_chain(mem, layout):
    """A chain with one readable buffer and the given writable (addr, len) buffers, each fenced by guard bytes."""
    for addr, length in layout:
        mem.write(addr - 1, bytes([GUARD]) * (length + 2))
    return Chain(head=3, buffers=[Buffer(0x100, 4, False)] + [Buffer(a, n, True) for a, n in layout])


SCATTER_LAYOUT = [(0x5FFE, 5), (0x7001, 0), (0x8FFF, 0x1002)]


def test_scatter_more_data_than_capacity_fills_every_buffer_and_stops():
    mem = GuestMem()
    chain = writable_chain(mem, SCATTER_LAYOUT)
    data = bytes(k & 0xFF for k in range(chain.wr_len + 100))
    assert scatter(mem, chain, data) == chain.wr_len == 0x1007
    assert mem.read(0x5FFE, 5) == data[:5]
    assert mem.read(0x8FFF, 0x1002) == data[5:0x1007]
    assert mem.read(0x5FFD, 1) == mem.read(0x6003, 1) == mem.read(0x8FFE, 1) == mem.read(0xA001, 1) == bytes([GUARD])
    assert mem.read(0x7000, 2) == bytes([GUARD]) * 2  # zero-length buffer untouched
    assert mem.read(0x100, 4) == bytes(4)  # readable buffer untouched


def test_scatter_less_data_than_capacity_fills_from_the_first_buffer():
    mem = GuestMem()
    chain = writable_chain(mem, SCATTER_LAYOUT)
    writes = []
    mem.listeners.append(lambda kind, addr, data: writes.append((kind, addr, data)))
    assert scatter(mem, chain, b"abcdefgh") == 8
    assert writes == [("write", 0x5FFE, b"abcde"), ("write", 0x8FFF, b"fgh")]
    assert mem.read(0x8FFF, 4) == b"fgh" + bytes([GUARD])


def test_scatter_of_nothing_writes_nothing():
    mem = GuestMem()
    chain = writable_chain(mem, SCATTER_LAYOUT)
    writes = []
    mem.listeners.append(lambda *access: writes.append(access))
    assert scatter(mem, chain, b"") == 0 and writes == []


@settings(database=None)
@given(lengths=st.lists(st.integers(0, 40), max_size=6), data_len=st.integers(0, 300))
def test_scatter_then_read_back_matches_the_data_prefix(lengths, data_len):
    mem = GuestMem()
    layout = [(0xFFD + 0x1000 * k, n) for k, n in enumerate(lengths)]  # odd starts straddling page ends
    chain = writable_chain(mem, layout)
    data = bytes((k * 7 + 1) & 0xFF for k in range(data_len))
    written = scatter(mem, chain, data)
    assert written == min(data_len, sum(lengths))
    assert b"".join(mem.read(a, n) for a, n in layout)[:written] == data[:written]


def test_gather_and_scatter_raise_dma_errors():
    mem = GuestMem()
    chain = Chain(head=0, buffers=[Buffer(0x1000, 8, False), Buffer(0x2000, 8, True)])
    mem.inject_error(0x1004, 1, on="read", resp="SLVERR")
    mem.inject_error(0x2007, 1, on="write", resp="DECERR")
    with pytest.raises(DmaError, match="SLVERR"):
        gather(mem, chain)
    with pytest.raises(DmaError, match="DECERR"):
        scatter(mem, chain, bytes(8))
    assert scatter(mem, chain, bytes(7)) == 7  # stops before the faulty byte
