"""A backend model for the standalone device (rule 8.11, Q10, Q17).

Latency is counted in model steps, never cycles.  Completion order is seeded: in fetch order per queue unless
`reorder` is set.  The default answer is the testbench's reference function: byte i of the result is
`readable[i % rd_len] ^ (tag & 0xff)` (zeros when rd_len is 0), with len = min(rd_len, wr_len).
"""

import random
from dataclasses import dataclass
from typing import Callable, Optional

from . import events as ev


def reference_answer(tag: int, readable: bytes, wr_len: int) -> bytes:
    """The result the testbench's backend returns for a request (DESIGN.md, issue text)."""
    n = min(len(readable), wr_len)
    if not readable:
        return bytes(n)
    return bytes(readable[i % len(readable)] ^ (tag & 0xFF) for i in range(n))


@dataclass
class _Pending:
    request: ev.BeRequest
    due: int
    seq: int


class BackendModel:
    """Accepts every request at once and completes it after a seeded number of steps.

    `never_complete` models a backend that ignores `be_quiesce` (SUS-22: the drain is left to the watchdog or to
    the driver's timeout).  `error_heads` answers the requests for those chain heads (of any queue) with
    `be_cpl_err` = 1.  `answer` replaces the reference function.
    """

    def __init__(self, seed: int = 0, latency: tuple = (0, 4), reorder: bool = False, never_complete: bool = False,
                 answer: Optional[Callable[[int, bytes, int], bytes]] = None):
        self.rng = random.Random(f"backend:{seed}")
        self.latency = latency
        self.reorder = reorder
        self.never_complete = never_complete
        self.answer = answer or reference_answer
        self.error_heads: set = set()
        self.pending: list = []
        self.now = 0
        self._seq = 0
        self.hurry = False  # be_quiesce or be_flush: answer without waiting for outside input

    def accept(self, request: ev.BeRequest) -> None:
        self._seq += 1
        self.pending.append(_Pending(request, self.now + self.rng.randint(*self.latency), self._seq))

    def tick(self) -> None:
        self.now += 1

    def will_answer(self) -> bool:
        """Whether a request is still to be answered (a never-completing backend answers none)."""
        return bool(self.pending) and not self.never_complete

    def ready(self) -> list:
        """Requests this backend may answer now, in the order it prefers."""
        if self.never_complete:
            return []
        due = [p for p in self.pending if self.hurry or p.due <= self.now]
        if not self.reorder:
            due = [p for p in due if p is min((q for q in self.pending if q.request.queue == p.request.queue),
                                              key=lambda q: q.seq)]
        return sorted(due, key=lambda p: p.seq)

    def complete(self, pending: _Pending) -> ev.BeCompletion:
        self.pending.remove(pending)
        req = pending.request
        if req.head in self.error_heads:
            return ev.BeCompletion(req.tag, 0, err=True)
        data = self.answer(req.tag, req.data, req.wr_len)
        return ev.BeCompletion(req.tag, len(data), data=data)
