"""Descriptor-chain walk with the malformed-input checks of SPEC 4.7, and the gather / scatter of rule 8.11."""

import enum
from dataclasses import dataclass, field

from . import constants as c
from .memory import OVERFLOW, DmaError, GuestMem
from .ring import U32_MODULUS, U64_MODULUS, Descriptor


class MalformedClass(enum.Enum):
    """One member per SPEC 4.7 condition.  The fetch logic detects the first two, `walk_chain` the rest."""

    PENDING_GT_Q = "pending heads > Q"
    HEAD_GE_Q = "head >= Q"
    NEXT_GE_Q = "next >= Q, or >= table entries inside an indirect table"
    LOOP = "more descriptors walked than the table holds"
    CHAIN_TOO_LONG = "more than MAX_CHAIN_LEN data descriptors"
    READ_AFTER_WRITE = "readable descriptor after a writable one"
    INDIRECT_NOT_NEGOTIATED = "INDIRECT without INDIRECT_DESC negotiated"
    INDIRECT_WITH_NEXT = "INDIRECT together with NEXT"
    NESTED_INDIRECT = "INDIRECT inside an indirect table"
    INDIRECT_BAD_LEN = "indirect len 0 or not a multiple of 16"
    TOTAL_LEN_OVERFLOW = "data length total above 2^32"
    ADDR_OVERFLOW = "address + length above 2^64"
    DMA_ERROR = "error response on a descriptor or indirect-table read"


class MalformedChain(Exception):
    """A chain that breaks a SPEC 4.7 rule; the device answers with NEEDS_RESET and HALTED."""

    def __init__(self, cls: MalformedClass, detail: str):
        self.cls = cls
        self.detail = detail
        super().__init__(f"{cls.name}: {detail}")

    def __reduce__(self):
        return MalformedChain, (self.cls, self.detail)  # copies of the model core carry faults along


@dataclass
class Buffer:
    """One data descriptor's buffer (the INDIRECT pointer is not one)."""

    addr: int
    len: int
    writable: bool


@dataclass
class Chain:
    """A walked chain: its data buffers in chain order (direct part, then indirect table) and every descriptor read."""

    head: int
    buffers: list[Buffer] = field(default_factory=list)
    desc_reads: list[tuple[int, int]] = field(default_factory=list)
    n_data: int = 0
    indirect: bool = False

    @property
    def readable(self) -> list[Buffer]:
        return [buf for buf in self.buffers if not buf.writable]

    @property
    def writable(self) -> list[Buffer]:
        return [buf for buf in self.buffers if buf.writable]

    @property
    def rd_len(self) -> int:
        """`be_req_rd_len` of rule 8.11."""
        return sum(buf.len for buf in self.readable)

    @property
    def wr_len(self) -> int:
        """`be_req_wr_len` of rule 8.11: the chain's writable capacity."""
        return sum(buf.len for buf in self.writable)


MAX_TOTAL_LEN = U32_MODULUS  # SPEC 4.7: a byte total of exactly 2^32 is still legal


def walk_chain(mem: GuestMem, desc_base: int, qsize: int, head: int, *, indirect_ok: bool,
               max_chain_len: int) -> Chain:
    """Walk the chain at `head` (already checked < qsize by the fetch logic) and apply the SPEC 4.7 checks.

    Descriptors are read one at a time with `mem.dma_read`, in chain order, and only those the chain visits (also in
    an indirect table); `Chain.desc_reads` lists them.  The main-table walk ends at the first descriptor without NEXT
    or at an INDIRECT descriptor, whose table is then walked from entry 0 (SPEC 4.4).

    Check order.  The walk stops at the first descriptor that fails a check.  When several conditions hold for that
    descriptor, the first in this order is the one reported:
      1. before each read, the walk budget: more than `qsize` main-table descriptors (the INDIRECT pointer counts) or
         more than len/16 table entries -> LOOP;
      2. the descriptor read itself: address + 16 above 2^64 -> ADDR_OVERFLOW, error response -> DMA_ERROR;
      3. an INDIRECT descriptor: inside a table -> NESTED_INDIRECT; in the main table INDIRECT_NOT_NEGOTIATED,
         then INDIRECT_WITH_NEXT, INDIRECT_BAD_LEN, and table address + len above 2^64 -> ADDR_OVERFLOW;
      4. a data descriptor: CHAIN_TOO_LONG (counted with this one), READ_AFTER_WRITE, ADDR_OVERFLOW (len > 0 only),
         TOTAL_LEN_OVERFLOW (total with this one);
      5. its link: NEXT set and next >= qsize (>= len/16 in a table) -> NEXT_GE_Q.
    """
    if not 0 <= head < qsize:
        raise ValueError(f"head {head} is not below the queue size {qsize}; the fetch logic checks HEAD_GE_Q first")
    walk = _Walk(mem, Chain(head=head), indirect_ok, max_chain_len)

    index = head
    for _ in range(qsize):  # SPEC 4.7: at most Q main-table descriptors
        desc = walk.read_descriptor(desc_base + c.DESC_SIZE * index)
        if desc.is_indirect:
            walk.check_indirect_pointer(desc)
            walk.chain.indirect = True
            walk.walk_table(desc.addr, desc.len // c.DESC_SIZE)
            return walk.chain
        walk.add_data(desc)
        if not desc.has_next:
            return walk.chain
        index = walk.follow(desc, qsize, "queue size")
    raise MalformedChain(MalformedClass.LOOP, f"chain at head {head} walks more than Q={qsize} descriptors")


class _Walk:
    """Running state of one walk, shared by the direct part and the indirect table."""

    def __init__(self, mem: GuestMem, chain: Chain, indirect_ok: bool, max_chain_len: int):
        self.mem = mem
        self.chain = chain
        self.indirect_ok = indirect_ok
        self.max_chain_len = max_chain_len
        self.total_len = 0
        self.seen_writable = False

    def read_descriptor(self, addr: int) -> Descriptor:
        try:
            data = self.mem.dma_read(addr, c.DESC_SIZE)
        except DmaError as error:
            cls = MalformedClass.ADDR_OVERFLOW if error.resp == OVERFLOW else MalformedClass.DMA_ERROR
            raise MalformedChain(cls, f"descriptor read at {addr:#x}: {error}") from error
        self.chain.desc_reads.append((addr, c.DESC_SIZE))
        return Descriptor.unpack(data)

    def check_indirect_pointer(self, desc: Descriptor) -> None:
        """SPEC 4.4 / 4.7 rules for the descriptor that points at a table; its WRITE flag is ignored."""
        if not self.indirect_ok:
            raise MalformedChain(MalformedClass.INDIRECT_NOT_NEGOTIATED,
                                 f"INDIRECT descriptor (table at {desc.addr:#x}) without INDIRECT_DESC negotiated")
        if desc.has_next:
            raise MalformedChain(MalformedClass.INDIRECT_WITH_NEXT,
                                 f"INDIRECT descriptor also has NEXT (next={desc.next})")
        if desc.len == 0 or desc.len % c.DESC_SIZE:
            raise MalformedChain(MalformedClass.INDIRECT_BAD_LEN,
                                 f"indirect table len {desc.len} is 0 or not a multiple of {c.DESC_SIZE}")
        if desc.addr + desc.len > U64_MODULUS:
            raise MalformedChain(MalformedClass.ADDR_OVERFLOW,
                                 f"indirect table at {desc.addr:#x} + {desc.len} bytes overflows 2^64")

    def walk_table(self, table_addr: int, entries: int) -> None:
        index = 0
        for _ in range(entries):  # SPEC 4.7: the table walk has its own budget of len/16 entries
            desc = self.read_descriptor(table_addr + c.DESC_SIZE * index)
            if desc.is_indirect:
                raise MalformedChain(MalformedClass.NESTED_INDIRECT, f"indirect table entry {index} is INDIRECT")
            self.add_data(desc)
            if not desc.has_next:
                return
            index = self.follow(desc, entries, "indirect table size")
        raise MalformedChain(MalformedClass.LOOP, f"indirect table walk exceeds its {entries} entries")

    def add_data(self, desc: Descriptor) -> None:
        """Count one data descriptor against MAX_CHAIN_LEN, the R-before-W order, 2^64 and the 2^32 total."""
        chain = self.chain
        if chain.n_data + 1 > self.max_chain_len:
            raise MalformedChain(MalformedClass.CHAIN_TOO_LONG,
                                 f"more than MAX_CHAIN_LEN={self.max_chain_len} data descriptors")
        if self.seen_writable and not desc.is_write:
            raise MalformedChain(MalformedClass.READ_AFTER_WRITE,
                                 f"readable buffer at {desc.addr:#x} follows a writable one")
        if desc.len > 0 and desc.addr + desc.len > U64_MODULUS:
            raise MalformedChain(MalformedClass.ADDR_OVERFLOW,
                                 f"buffer at {desc.addr:#x} + {desc.len} bytes overflows 2^64 (rule 8.9)")
        if self.total_len + desc.len > MAX_TOTAL_LEN:
            raise MalformedChain(MalformedClass.TOTAL_LEN_OVERFLOW,
                                 f"data length total {self.total_len + desc.len} exceeds 2^32")
        self.total_len += desc.len
        self.seen_writable |= desc.is_write
        chain.n_data += 1
        chain.buffers.append(Buffer(desc.addr, desc.len, desc.is_write))

    @staticmethod
    def follow(desc: Descriptor, limit: int, limit_name: str) -> int:
        if desc.next >= limit:
            raise MalformedChain(MalformedClass.NEXT_GE_Q, f"next={desc.next} is not below the {limit_name} {limit}")
        return desc.next


def gather(mem: GuestMem, chain: Chain) -> bytes:
    """Rule 8.11: the readable buffers' bytes concatenated in chain order; zero-length buffers cause no DMA."""
    return b"".join(mem.dma_read(buf.addr, buf.len) for buf in chain.readable if buf.len)


def scatter(mem: GuestMem, chain: Chain, data: bytes) -> int:
    """Rule 8.11: fill the writable buffers in chain order from the first; returns bytes written (<= wr_len)."""
    written = 0
    for buf in chain.writable:
        if written == len(data):
            break
        if buf.len == 0:
            continue
        piece = data[written:written + buf.len]
        mem.dma_write(buf.addr, piece)
        written += len(piece)
    return written
