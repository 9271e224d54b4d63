"""Split-virtqueue layout, descriptor format and index arithmetic (SPEC 4.1 to 4.3 and 4.6).

Every byte offset below is built from the named field offsets, which `tests/model/test_uapi_crosscheck.py`
compares with `offsetof()` in the Linux uapi header `<linux/virtio_ring.h>`.  Everything is little-endian (SPEC 4).
"""

import struct
from dataclasses import dataclass

from . import constants as c

U16_MODULUS = 1 << 16
U32_MODULUS = 1 << 32
U64_MODULUS = 1 << 64

# -- minimum alignment of the three areas (SPEC 4.1) ---------------------------------------------------------------
DESC_ALIGN = 16
AVAIL_ALIGN = 2
USED_ALIGN = 4

# -- descriptor fields (SPEC 4.2); DESC_SIZE is constants.DESC_SIZE ----------------------------------------------------
DESC_ADDR_OFF = 0
DESC_LEN_OFF = 8
DESC_FLAGS_OFF = 12
DESC_NEXT_OFF = 14
_DESC_STRUCT = struct.Struct("<QIHH")  # addr, len, flags, next in offset order

# -- available ring fields (SPEC 4.2) ---------------------------------------------------------------------------------
AVAIL_FLAGS_OFF = 0
AVAIL_IDX_OFF = 2
AVAIL_RING_OFF = 4
AVAIL_ELEM_SIZE = 2  # one le16 head index

# -- used ring fields (SPEC 4.2); USED_ELEM_SIZE is constants.USED_ELEM_SIZE ------------------------------------------
USED_FLAGS_OFF = 0
USED_IDX_OFF = 2
USED_RING_OFF = 4
USED_ELEM_ID_OFF = 0
USED_ELEM_LEN_OFF = 4

# -- the trailing event-index field of each ring (SPEC 4.1: counted in the size even without EVENT_IDX) --------------
EVENT_FIELD_SIZE = 2


def u16(value: int) -> int:
    """`value` reduced modulo 2^16, like a C `(u16)` cast (SPEC 4.3)."""
    return value & (U16_MODULUS - 1)


def vring_need_event(event: int, new: int, old: int) -> bool:
    """SPEC 4.6: does moving an index from `old` to `new` cross `event`?  (u16)(new - event - 1) < (u16)(new - old)."""
    return u16(new - event - 1) < u16(new - old)


def pending_heads(avail_idx: int, last_avail_idx: int) -> int:
    """SPEC 4.3: heads the driver made available and the device has not taken yet; above Q means a broken driver."""
    return u16(avail_idx - last_avail_idx)


@dataclass(frozen=True)
class Descriptor:
    """One 16-byte split-ring descriptor (SPEC 4.2)."""

    addr: int
    len: int
    flags: int
    next: int

    def __post_init__(self) -> None:
        for name, value, modulus in (("addr", self.addr, U64_MODULUS), ("len", self.len, U32_MODULUS),
                                     ("flags", self.flags, U16_MODULUS), ("next", self.next, U16_MODULUS)):
            if not 0 <= value < modulus:
                raise ValueError(f"descriptor {name}={value:#x} does not fit its {modulus.bit_length() - 1}-bit field")

    def pack(self) -> bytes:
        return _DESC_STRUCT.pack(self.addr, self.len, self.flags, self.next)

    @classmethod
    def unpack(cls, data: bytes) -> "Descriptor":
        if len(data) != c.DESC_SIZE:
            raise ValueError(f"a descriptor is {c.DESC_SIZE} bytes, got {len(data)}")
        return cls(*_DESC_STRUCT.unpack(data))

    @property
    def has_next(self) -> bool:
        return bool(self.flags & c.VIRTQ_DESC_F_NEXT)

    @property
    def is_write(self) -> bool:
        return bool(self.flags & c.VIRTQ_DESC_F_WRITE)

    @property
    def is_indirect(self) -> bool:
        return bool(self.flags & c.VIRTQ_DESC_F_INDIRECT)


@dataclass(frozen=True)
class RingLayout:
    """Guest addresses of one queue's three areas and every field in them (SPEC 4.1, 4.2).

    `desc`, `avail` and `used` are the descriptor table, driver area and device area base addresses; `size` is Q.
    Ring-index arguments are free-running 16-bit indices; the slot is idx mod Q (SPEC 4.3).
    """

    desc: int
    avail: int
    used: int
    size: int

    def __post_init__(self) -> None:
        if not (0 < self.size <= c.QUEUE_SIZE_LIMIT and self.size & (self.size - 1) == 0):
            raise ValueError(f"queue size {self.size} is not a power of two in 1..{c.QUEUE_SIZE_LIMIT} (SPEC 4.1)")
        for name in ("desc", "avail", "used"):
            if not 0 <= getattr(self, name) < U64_MODULUS:
                raise ValueError(f"{name} address {getattr(self, name):#x} is not a 64-bit address")

    # -- descriptor table --
    def desc_addr(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise ValueError(f"descriptor index {index} outside the table of {self.size}")
        return self.desc + c.DESC_SIZE * index

    @property
    def desc_bytes(self) -> int:
        return c.DESC_SIZE * self.size

    # -- available ring (driver area) --
    @property
    def avail_flags_addr(self) -> int:
        return self.avail + AVAIL_FLAGS_OFF

    @property
    def avail_idx_addr(self) -> int:
        return self.avail + AVAIL_IDX_OFF

    def avail_ring_addr(self, idx: int) -> int:
        return self.avail + AVAIL_RING_OFF + AVAIL_ELEM_SIZE * (idx % self.size)

    @property
    def used_event_addr(self) -> int:
        return self.avail + AVAIL_RING_OFF + AVAIL_ELEM_SIZE * self.size

    @property
    def avail_bytes(self) -> int:
        return AVAIL_RING_OFF + AVAIL_ELEM_SIZE * self.size + EVENT_FIELD_SIZE

    # -- used ring (device area) --
    @property
    def used_flags_addr(self) -> int:
        return self.used + USED_FLAGS_OFF

    @property
    def used_idx_addr(self) -> int:
        return self.used + USED_IDX_OFF

    def used_elem_addr(self, idx: int) -> int:
        """Address of used element idx mod Q; its `id` is at +USED_ELEM_ID_OFF, its `len` at +USED_ELEM_LEN_OFF."""
        return self.used + USED_RING_OFF + c.USED_ELEM_SIZE * (idx % self.size)

    @property
    def avail_event_addr(self) -> int:
        return self.used + USED_RING_OFF + c.USED_ELEM_SIZE * self.size

    @property
    def used_bytes(self) -> int:
        return USED_RING_OFF + c.USED_ELEM_SIZE * self.size + EVENT_FIELD_SIZE

    def region_of(self, addr: int) -> str | None:
        """Which field `addr` falls in, or None; areas that overlap (a driver bug) resolve in the order listed."""
        regions = (
            ("desc", self.desc, self.desc_bytes),
            ("avail_flags", self.avail_flags_addr, 2),
            ("avail_idx", self.avail_idx_addr, 2),
            ("avail_ring", self.avail + AVAIL_RING_OFF, AVAIL_ELEM_SIZE * self.size),
            ("used_event", self.used_event_addr, EVENT_FIELD_SIZE),
            ("used_flags", self.used_flags_addr, 2),
            ("used_idx", self.used_idx_addr, 2),
            ("used_ring", self.used + USED_RING_OFF, c.USED_ELEM_SIZE * self.size),
            ("avail_event", self.avail_event_addr, EVENT_FIELD_SIZE),
        )
        for name, start, length in regions:
            if start <= addr < start + length:
                return name
        return None
