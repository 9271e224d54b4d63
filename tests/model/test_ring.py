"""Ring layout, descriptor format and index arithmetic of the golden model (SPEC 4.1 to 4.3, 4.6)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtio_golden import constants as c
from virtio_golden.ring import Descriptor, RingLayout, pending_heads, u16, vring_need_event
from helpers import SPEC_4_6_VECTORS

pytestmark = pytest.mark.model

u16s = st.integers(0, 0xFFFF)


@pytest.mark.parametrize("event, old, new, expected", SPEC_4_6_VECTORS)
def test_need_event_spec_vectors(event, old, new, expected):
    assert vring_need_event(event, new, old) is expected


def event_in_window(event: int, new: int, old: int) -> bool:
    """Independent reading of SPEC 4.6: the indices old, old+1, ..., new-1 (mod 2^16) include `event`."""
    return u16(event - old) < u16(new - old)


@settings(database=None, max_examples=2000)
@given(event=u16s, new=u16s, old=u16s)
def test_need_event_is_window_membership(event, new, old):
    assert vring_need_event(event, new, old) == event_in_window(event, new, old)


@settings(database=None)
@given(old=u16s, step=st.integers(0, 64), event_offset=st.integers(-8, 72))
def test_need_event_by_enumerating_the_step(old, step, event_offset):
    """A second formulation with no modular comparison: list the indices the step covers."""
    new, event = u16(old + step), u16(old + event_offset)
    covered = {u16(old + k) for k in range(step)}
    assert vring_need_event(event, new, old) == (event in covered)


def test_layout_offsets_q256():
    layout = RingLayout(desc=0x10000, avail=0x20000, used=0x30000, size=256)
    assert layout.desc_bytes == 4096
    assert layout.avail_bytes == 518
    assert layout.used_event_addr - layout.avail == 516
    assert layout.used_bytes == 2054
    assert layout.avail_event_addr - layout.used == 2052
    assert layout.desc_addr(255) == 0x10000 + 255 * 16
    assert (layout.avail_flags_addr, layout.avail_idx_addr) == (0x20000, 0x20002)
    assert (layout.avail_ring_addr(0), layout.avail_ring_addr(255)) == (0x20004, 0x20004 + 510)
    assert (layout.used_flags_addr, layout.used_idx_addr) == (0x30000, 0x30002)
    assert (layout.used_elem_addr(0), layout.used_elem_addr(255)) == (0x30004, 0x30004 + 255 * 8)


@pytest.mark.parametrize("size", [1, 2, 256, c.QUEUE_SIZE_LIMIT])
def test_area_sizes_follow_spec_4_1(size):
    layout = RingLayout(desc=0, avail=0, used=0, size=size)
    assert (layout.desc_bytes, layout.avail_bytes, layout.used_bytes) == (16 * size, 6 + 2 * size, 6 + 8 * size)


def test_ring_slots_wrap_with_the_free_running_index():
    layout = RingLayout(desc=0x1000, avail=0x2000, used=0x3000, size=8)
    assert layout.avail_ring_addr(0xFFFF) == layout.avail_ring_addr(7)
    assert layout.avail_ring_addr(0x10000) == layout.avail_ring_addr(0)
    assert layout.used_elem_addr(0xFFFF) == layout.used_elem_addr(7)
    assert layout.used_elem_addr(8) == layout.used_elem_addr(0)


def test_index_arithmetic_wraps_at_0xffff():
    assert u16(0xFFFF + 1) == 0x0000
    assert u16(0x0000 - 1) == 0xFFFF
    assert pending_heads(0x0000, 0xFFFF) == 1
    assert pending_heads(0x0003, 0xFFFE) == 5
    assert pending_heads(0x1234, 0x1234) == 0
    assert vring_need_event(0xFFFF, 0x0000, 0xFFFF)
    assert not vring_need_event(0x0000, 0x0000, 0xFFFF)


def test_region_of_names_each_field():
    layout = RingLayout(desc=0x1000, avail=0x2000, used=0x3000, size=4)
    expected = {
        0x1000: "desc", 0x103F: "desc", 0x1040: None,
        0x2000: "avail_flags", 0x2001: "avail_flags", 0x2002: "avail_idx", 0x2004: "avail_ring", 0x200B: "avail_ring",
        0x200C: "used_event", 0x200D: "used_event", 0x200E: None,
        0x3000: "used_flags", 0x3002: "used_idx", 0x3004: "used_ring", 0x3023: "used_ring",
        0x3024: "avail_event", 0x3025: "avail_event", 0x3026: None, 0x0: None,
    }
    assert {addr: layout.region_of(addr) for addr in expected} == expected


@pytest.mark.parametrize("size", [0, 3, 2 * c.QUEUE_SIZE_LIMIT])
def test_layout_rejects_illegal_sizes(size):
    with pytest.raises(ValueError, match="power of two"):
        RingLayout(desc=0, avail=0, used=0, size=size)


def test_descriptor_pack_is_little_endian_16_bytes():
    desc = Descriptor(addr=0x1122334455667788, len=0x99AABBCC, flags=c.VIRTQ_DESC_F_NEXT | c.VIRTQ_DESC_F_WRITE,
                      next=0x0102)
    raw = desc.pack()
    assert raw == bytes.fromhex("8877665544332211" "ccbbaa99" "0300" "0201")
    assert Descriptor.unpack(raw) == desc
    assert (desc.has_next, desc.is_write, desc.is_indirect) == (True, True, False)
    assert Descriptor(0, 0, c.VIRTQ_DESC_F_INDIRECT, 0).is_indirect


@settings(database=None)
@given(addr=st.integers(0, 2**64 - 1), length=st.integers(0, 2**32 - 1), flags=u16s, nxt=u16s)
def test_descriptor_round_trip(addr, length, flags, nxt):
    desc = Descriptor(addr, length, flags, nxt)
    assert Descriptor.unpack(desc.pack()) == desc


def test_descriptor_rejects_out_of_range_fields_and_short_data():
    with pytest.raises(ValueError, match="len"):
        Descriptor(0, 2**32, 0, 0)
    with pytest.raises(ValueError, match="16 bytes"):
        Descriptor.unpack(bytes(15))
