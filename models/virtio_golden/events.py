"""The observable events of SPEC rule 8.12, at transaction level.

The golden model advances only by these events, whichever face drives it: the standalone device generates them
from its own engine policy, the co-simulation observer receives them from monitors on the RTL's ports.
Guest-memory events are whole transactions, reported when their response has returned (a write is "visible"
then, SPEC SUS-06); a monitor that sees AXI beats joins them before calling `observe`.
"""

from dataclasses import dataclass, field
from typing import Optional, Union

OKAY = "OKAY"
SLVERR = "SLVERR"
DECERR = "DECERR"
OVERFLOW = "OVERFLOW"  # not a bus response: an access whose address + length overflows 2^64, never issued (rule 8.9)
RESPONSES = (OKAY, SLVERR, DECERR, OVERFLOW)


@dataclass(frozen=True)
class RegWrite:
    """An AXI4-Lite write accepted by the register interface: a 32-bit word address, data and byte strobes."""

    addr: int
    data: int
    strb: int = 0xF


@dataclass(frozen=True)
class RegRead:
    """An AXI4-Lite read of a 32-bit word and the value the device returned (None: ask the model for it)."""

    addr: int
    data: Optional[int] = None


@dataclass(frozen=True)
class DmaRead:
    """A guest-memory read by the engine (`m_axi_` AR/R), reported when its last beat has returned, or at its first
    beat with an error response (rule 8.9: an error on any beat is a DMA error, acted on at once)."""

    addr: int
    length: int
    data: bytes = b""
    resp: str = OKAY


@dataclass(frozen=True)
class DmaWrite:
    """A guest-memory write by the engine (`m_axi_` AW/W/B), reported when its write response has returned.

    `data` holds the bytes written from `addr` on; bytes the strobes left out are not part of it, so a monitor
    reports one DmaWrite per contiguous strobed run.
    """

    addr: int
    data: bytes
    resp: str = OKAY


@dataclass(frozen=True)
class BeRequest:
    """A backend request (`be_req_*` handshake) and, if rd_len > 0, its complete `be_rd` packet."""

    queue: int
    head: int
    tag: int
    rd_len: int
    wr_len: int
    data: bytes = b""


@dataclass(frozen=True)
class BeCompletion:
    """A backend completion (`be_cpl_*` handshake) and, if any, its `be_wr` packet as it arrived."""

    tag: int
    length: int
    err: bool = False
    data: bytes = b""


@dataclass(frozen=True)
class BeFlush:
    """One `be_flush` pulse (rule 8.11)."""


@dataclass(frozen=True)
class Quiesce:
    """A change of the `be_quiesce` level: it is high exactly while the engine is SUSPENDING (rule 8.11)."""

    level: bool


@dataclass(frozen=True)
class Irq:
    """An interrupt message accepted by the endpoint (`irq_valid` && `irq_ready`)."""

    vector: int


@dataclass(frozen=True)
class Intx:
    """A change of the INTx level."""

    level: bool


@dataclass(frozen=True)
class DevCfgWrite:
    """A device-side configuration change (`devcfg_wr_*`, rule 8.10): one 32-bit word at a byte offset."""

    addr: int
    data: int


@dataclass(frozen=True)
class FaultInj:
    """One `fault_inj` pulse (rule 8.4 test hook)."""


@dataclass(frozen=True)
class MsixEnable:
    """The `msix_enable` input changed."""

    value: bool


@dataclass(frozen=True)
class Diag:
    """A sticky diagnostic output rose (`diag_cpl_len_err` or `diag_cpl_bad_tag`)."""

    name: str


@dataclass(frozen=True)
class MemWrite:
    """Not a device event: the driver or testbench wrote guest memory.  A recorded trace carries these so that it
    can be replayed on a fresh memory; in co-simulation the observer reads the live memory instead."""

    addr: int
    data: bytes


Event = Union[RegWrite, RegRead, DmaRead, DmaWrite, BeRequest, BeCompletion, BeFlush, Quiesce, Irq, Intx,
              DevCfgWrite, FaultInj, MsixEnable, Diag, MemWrite]


@dataclass
class Trace:
    """A recorded sequence of events, replayable into an observer."""

    events: list = field(default_factory=list)

    def append(self, event) -> None:
        self.events.append(event)

    def __iter__(self):
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)
