"""Sparse guest memory with DMA error injection (SPEC 8.9), and a bump allocator for drivers and tests.

`read` / `write` are raw accesses for drivers and checkers: never checked; raw writes are told only to
`host_listeners`, which record traces.  The device model uses
`dma_read` / `dma_write` (and their fixed-width forms), which first apply rule 8.9's checks (`check`), then access
memory and tell every listener.
"""

from dataclasses import dataclass
from typing import Callable

ADDRESS_SPACE = 1 << 64  # an access whose last byte lies above 2^64 - 1 overflows (SPEC 8.9)
PAGE_SIZE = 4096
DMA_RESPONSES = ("SLVERR", "DECERR")
OVERFLOW = "OVERFLOW"

Listener = Callable[[str, int, bytes], None]


class DmaError(Exception):
    """A DMA access that fails rule 8.9: an SLVERR / DECERR response, or an address + length above 2^64."""

    def __init__(self, addr: int, length: int, is_write: bool, resp: str):
        self.addr = addr
        self.length = length
        self.is_write = is_write
        self.resp = resp
        kind = "write" if is_write else "read"
        cause = "address + length overflows 2^64" if resp == OVERFLOW else f"{resp} response"
        super().__init__(f"DMA {kind} of {length} bytes at {addr:#x} failed: {cause}")


@dataclass
class _InjectedError:
    addr: int
    length: int
    resp: str
    on_read: bool
    on_write: bool
    once: bool

    def hits(self, addr: int, n: int, is_write: bool) -> bool:
        direction_matches = self.on_write if is_write else self.on_read
        return direction_matches and addr < self.addr + self.length and self.addr < addr + n


class GuestMem:
    """Byte-addressed 64-bit guest memory, stored as 4 KiB pages; bytes never written read as 0."""

    def __init__(self) -> None:
        self._pages: dict[int, bytearray] = {}
        self._errors: list[_InjectedError] = []
        self.listeners: list[Listener] = []
        # Told of every raw write (driver or testbench side), so a recorded trace can be replayed on fresh memory.
        self.host_listeners: list[Callable[[int, bytes], None]] = []

    @property
    def page_count(self) -> int:
        """Pages that hold written data (the memory is sparse)."""
        return len(self._pages)

    # -- raw access (no checks, no listeners) --
    def read(self, addr: int, n: int) -> bytes:
        _require_in_space(addr, n)
        out = bytearray()
        while n > 0:
            page, offset = divmod(addr, PAGE_SIZE)
            chunk = min(n, PAGE_SIZE - offset)
            stored = self._pages.get(page)
            out += stored[offset:offset + chunk] if stored is not None else bytes(chunk)
            addr += chunk
            n -= chunk
        return bytes(out)

    def write(self, addr: int, data: bytes) -> None:
        self._store(addr, data)
        for listener in list(self.host_listeners):
            listener(addr, bytes(data))

    def _store(self, addr: int, data: bytes) -> None:
        _require_in_space(addr, len(data))
        view = memoryview(data)
        while view:
            page, offset = divmod(addr, PAGE_SIZE)
            chunk = min(len(view), PAGE_SIZE - offset)
            stored = self._pages.setdefault(page, bytearray(PAGE_SIZE))
            stored[offset:offset + chunk] = view[:chunk]
            addr += chunk
            view = view[chunk:]

    def read_u16(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 2), "little")

    def read_u32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little")

    def read_u64(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 8), "little")

    def write_u16(self, addr: int, value: int) -> None:
        self.write(addr, value.to_bytes(2, "little"))

    def write_u32(self, addr: int, value: int) -> None:
        self.write(addr, value.to_bytes(4, "little"))

    def write_u64(self, addr: int, value: int) -> None:
        self.write(addr, value.to_bytes(8, "little"))

    # -- error injection and the rule 8.9 check --
    def inject_error(self, addr: int, length: int, resp: str = "SLVERR", on: str = "both",
                     once: bool = False) -> None:
        """Make DMA accesses touching [addr, addr + length) fail with `resp`; `once` removes it after one hit."""
        if resp not in DMA_RESPONSES:
            raise ValueError(f"resp must be one of {DMA_RESPONSES}, got {resp!r}")
        if on not in ("read", "write", "both"):
            raise ValueError(f"on must be 'read', 'write' or 'both', got {on!r}")
        if length <= 0:
            raise ValueError(f"an injected error region needs a positive length, got {length}")
        self._errors.append(_InjectedError(addr, length, resp, on != "write", on != "read", once))

    def clear_errors(self) -> None:
        self._errors.clear()

    def check(self, addr: int, n: int, is_write: bool) -> None:
        """Raise DmaError if an n-byte access at addr would fail (SPEC 8.9); a zero-length access never fails."""
        if n == 0:
            return
        if addr + n > ADDRESS_SPACE:
            raise DmaError(addr, n, is_write, OVERFLOW)
        for error in self._errors:
            if error.hits(addr, n, is_write):
                if error.once:
                    self._errors.remove(error)
                raise DmaError(addr, n, is_write, error.resp)

    # -- device DMA (checked, then performed and reported to listeners) --
    def dma_read(self, addr: int, n: int) -> bytes:
        self.check(addr, n, is_write=False)
        if n == 0:
            return b""
        data = self.read(addr, n)
        self._notify("read", addr, data)
        return data

    def dma_write(self, addr: int, data: bytes) -> None:
        self.check(addr, len(data), is_write=True)
        if not data:
            return
        self._store(addr, data)
        self._notify("write", addr, bytes(data))

    def dma_read_u16(self, addr: int) -> int:
        return int.from_bytes(self.dma_read(addr, 2), "little")

    def dma_read_u32(self, addr: int) -> int:
        return int.from_bytes(self.dma_read(addr, 4), "little")

    def dma_read_u64(self, addr: int) -> int:
        return int.from_bytes(self.dma_read(addr, 8), "little")

    def dma_write_u16(self, addr: int, value: int) -> None:
        self.dma_write(addr, value.to_bytes(2, "little"))

    def dma_write_u32(self, addr: int, value: int) -> None:
        self.dma_write(addr, value.to_bytes(4, "little"))

    def dma_write_u64(self, addr: int, value: int) -> None:
        self.dma_write(addr, value.to_bytes(8, "little"))

    def _notify(self, kind: str, addr: int, data: bytes) -> None:
        for listener in list(self.listeners):
            listener(kind, addr, data)


def _require_in_space(addr: int, n: int) -> None:
    if addr < 0 or n < 0 or addr + n > ADDRESS_SPACE:
        raise ValueError(f"raw access of {n} bytes at {addr:#x} lies outside the 64-bit address space")


class GuestMemExhausted(Exception):
    """The allocator has no room left for a request."""


class MemAllocator:
    """Bump allocator over guest addresses [base, limit); `free_all` gives everything back at once."""

    def __init__(self, base: int, limit: int) -> None:
        if not 0 <= base <= limit <= ADDRESS_SPACE:
            raise ValueError(f"allocator range [{base:#x}, {limit:#x}) is not inside the 64-bit address space")
        self.base = base
        self.limit = limit
        self._next = base

    def alloc(self, size: int, align: int = 16) -> int:
        if size < 0:
            raise ValueError(f"cannot allocate a negative size ({size})")
        if align <= 0 or align & (align - 1):
            raise ValueError(f"alignment must be a power of two, got {align}")
        start = -(-self._next // align) * align
        if start + size > self.limit:
            raise GuestMemExhausted(
                f"cannot allocate {size} bytes aligned to {align}: only {max(self.limit - start, 0)} bytes left "
                f"below {self.limit:#x}")
        self._next = start + size
        return start

    def free_all(self) -> None:
        self._next = self.base

    @property
    def remaining(self) -> int:
        return self.limit - self._next
