"""Sparse guest memory, DMA error injection (SPEC 8.9) and the bump allocator."""

import pytest

from virtio_golden.memory import DmaError, GuestMem, GuestMemExhausted, MemAllocator

pytestmark = pytest.mark.model

TOP = 1 << 64


def test_unwritten_bytes_read_zero_and_memory_is_sparse():
    mem = GuestMem()
    assert mem.read(0xDEAD_BEEF_0000, 32) == bytes(32)
    assert mem.read(TOP - 8, 8) == bytes(8)
    mem.write(0xFFFF_FFFF_F000, b"\x01")
    assert mem.read(0xFFFF_FFFF_F000, 2) == b"\x01\x00"
    assert mem.page_count == 1


def test_write_and_read_across_page_boundaries():
    mem = GuestMem()
    data = bytes(range(256)) * 40  # 10240 bytes: spans four pages from an odd start
    mem.write(0x1FFD, data)
    assert mem.read(0x1FFD, len(data)) == data
    assert mem.read(0x1FFC, 1) == b"\x00"
    assert mem.read(0x1FFD + len(data), 1) == b"\x00"
    assert mem.read(0x2FFF, 3) == data[0x1002:0x1005]


def test_little_endian_helpers():
    mem = GuestMem()
    mem.write_u16(0x100, 0xA1B2)
    mem.write_u32(0x200, 0xA1B2C3D4)
    mem.write_u64(0xFFF, 0x0102030405060708)  # straddles a page boundary
    assert mem.read(0x100, 2) == b"\xb2\xa1"
    assert mem.read(0x200, 4) == b"\xd4\xc3\xb2\xa1"
    assert mem.read(0xFFF, 8) == bytes([8, 7, 6, 5, 4, 3, 2, 1])
    assert (mem.read_u16(0x100), mem.read_u32(0x200), mem.read_u64(0xFFF)) == (0xA1B2, 0xA1B2C3D4, 0x0102030405060708)
    mem.dma_write_u32(0x300, 0x11223344)
    assert (mem.dma_read_u16(0x300), mem.dma_read_u32(0x300), mem.dma_read_u64(0x300)) == (0x3344, 0x11223344,
                                                                                          0x11223344)


def test_persistent_injected_error_hits_every_overlapping_access():
    mem = GuestMem()
    mem.inject_error(0x1000, 0x10, resp="DECERR")
    for addr, n in [(0x1000, 1), (0x100F, 1), (0xFF0, 0x11), (0xFF0, 0x100)]:
        with pytest.raises(DmaError) as info:
            mem.dma_read(addr, n)
        assert (info.value.addr, info.value.length, info.value.is_write, info.value.resp) == (addr, n, False, "DECERR")
    mem.dma_read(0xFF0, 0x10)  # ends just below the region
    mem.dma_read(0x1010, 4)  # starts just above it
    with pytest.raises(DmaError):
        mem.dma_write(0x1008, b"x")


def test_once_error_fires_a_single_time():
    mem = GuestMem()
    mem.inject_error(0x2000, 4, once=True)
    with pytest.raises(DmaError, match="SLVERR"):
        mem.dma_read(0x2000, 4)
    assert mem.dma_read(0x2000, 4) == bytes(4)


def test_error_direction_read_versus_write():
    mem = GuestMem()
    mem.inject_error(0x3000, 8, on="write")
    mem.inject_error(0x4000, 8, on="read")
    assert mem.dma_read(0x3000, 8) == bytes(8)
    with pytest.raises(DmaError) as info:
        mem.dma_write(0x3004, b"abcd")
    assert info.value.is_write and "DMA write of 4 bytes at 0x3004" in str(info.value)
    mem.dma_write(0x4000, b"ok")
    with pytest.raises(DmaError):
        mem.dma_read(0x4000, 2)


def test_failed_write_stores_nothing_and_raw_access_ignores_errors():
    mem = GuestMem()
    mem.inject_error(0x5000, 1)
    with pytest.raises(DmaError):
        mem.dma_write(0x4FFF, b"abc")
    assert mem.read(0x4FFF, 3) == bytes(3)
    mem.write(0x5000, b"raw")
    assert mem.read(0x5000, 3) == b"raw"


def test_clear_errors():
    mem = GuestMem()
    mem.inject_error(0x6000, 16)
    mem.clear_errors()
    mem.check(0x6000, 16, is_write=True)


def test_overflow_past_2_to_the_64():
    mem = GuestMem()
    mem.check(TOP - 2, 2, is_write=False)  # last byte at 2^64 - 1: fine
    with pytest.raises(DmaError) as info:
        mem.dma_read(TOP - 2, 3)
    assert info.value.resp == "OVERFLOW" and "overflows 2^64" in str(info.value)
    with pytest.raises(DmaError, match="OVERFLOW|overflows"):
        mem.dma_write(TOP - 1, b"ab")
    with pytest.raises(ValueError, match="outside the 64-bit address space"):
        mem.read(TOP - 1, 2)


def test_zero_length_access_never_fails_and_makes_no_access():
    mem = GuestMem()
    seen = []
    mem.listeners.append(lambda *access: seen.append(access))
    mem.inject_error(0x7000, 16)
    mem.check(TOP, 0, is_write=False)
    assert mem.dma_read(0x7000, 0) == b""
    mem.dma_write(0x7008, b"")
    assert seen == []


def test_listeners_see_every_dma_access_but_not_raw_ones():
    mem = GuestMem()
    seen = []
    mem.listeners.append(lambda kind, addr, data: seen.append((kind, addr, data)))
    mem.write(0x8000, b"raw")
    mem.dma_write(0x8001, b"\x01\x02")
    mem.dma_read(0x8000, 3)
    mem.read(0x8000, 3)
    assert seen == [("write", 0x8001, b"\x01\x02"), ("read", 0x8000, b"r\x01\x02")]


def test_inject_error_rejects_bad_arguments():
    mem = GuestMem()
    with pytest.raises(ValueError, match="resp"):
        mem.inject_error(0, 4, resp="OKAY")
    with pytest.raises(ValueError, match="on must be"):
        mem.inject_error(0, 4, on="sometimes")
    with pytest.raises(ValueError, match="positive length"):
        mem.inject_error(0, 0)


def test_allocator_layout_exhaustion_and_free_all():
    alloc = MemAllocator(0x1000, 0x1100)
    assert alloc.alloc(0x10) == 0x1000
    assert alloc.alloc(0x20, align=0x40) == 0x1040
    assert alloc.alloc(1, align=1) == 0x1060
    assert alloc.remaining == 0x9F
    with pytest.raises(GuestMemExhausted, match="cannot allocate 256 bytes"):
        alloc.alloc(0x100)
    alloc.free_all()
    assert alloc.alloc(0x100) == 0x1000
    with pytest.raises(ValueError, match="power of two"):
        alloc.alloc(4, align=3)
