"""The device backend of the testbench (SPEC rule 8.11) on `virtio_pci_dev`'s be_* ports.

    backend = Backend(dut, rng, bus_bytes)       # be_rd: AxiStreamSink, be_wr: AxiStreamSource
    backend.start()
    ...
    backend.answers[(queue, head)]               # the last answer sent for each chain, for end-of-test checks

Every accepted request is answered once, after a seeded latency, in any order (`reorder`): byte i of the answer is
`in[i % rd_len] ^ (tag & 0xff)` (zeros when rd_len is 0) and its length min(rd_len, wr_len)
(`virtio_golden.backend.reference_answer`), unless a test sets `length` (a function of the request giving the
completion's be_cpl_len and its packet length, for length errors). Knobs: `latency`, `reorder`, `req_stall` /
`cpl_idle` (seeded backpressure on be_req_ready and idle cycles before be_cpl_valid), `error_heads` ((queue, head)
pairs answered with be_cpl_err), `never_complete`, and `send_unknown_tag()`.

Rule 8.11 behaviour: while `be_quiesce` is high every accepted request, and every request accepted meanwhile, is
answered without waiting; at a `be_flush` pulse the requests accepted before it or offered at it are answered
without waiting (the void ones are dropped by the engine). `never_complete` answers nothing, whatever the engine
asks (a backend that ignores be_quiesce; SUS-22). `rst` forgets everything (the engine frees every tag).
"""

import random
from dataclasses import dataclass
from typing import Callable, Optional

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from virtio_golden.backend import reference_answer

from .tb_common import Ports, is_high, value_of


def answer_pattern(tag: int, readable: bytes, length: int) -> bytes:
    """`length` bytes of the reference function: readable[i % rd_len] ^ (tag & 0xff), zeros when rd_len is 0."""
    if not readable:
        return bytes(length)
    return bytes(readable[i % len(readable)] ^ (tag & 0xFF) for i in range(length))


@dataclass
class Request:
    queue: int
    head: int
    tag: int
    rd_len: int
    wr_len: int
    seq: int
    data: Optional[bytes] = None    # its be_rd packet, once in (b"" when rd_len is 0)
    due: int = 0                    # cycle from which it may be answered
    hurry: bool = False             # be_quiesce or be_flush: answer without waiting


@dataclass
class Answer:
    """What the backend sent for a request."""

    request: Request
    length: int                     # be_cpl_len
    data: bytes                     # the be_wr packet
    err: bool


class Backend:
    def __init__(self, dut, rng: random.Random, bus_bytes: int):
        self.dut = Ports(dut)
        self.rng = rng
        self.bus_bytes = bus_bytes
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "be_rd"), dut.clk, dut.rst)
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "be_wr"), dut.clk, dut.rst)
        for stream in (self.sink, self.source):
            stream.log.setLevel("WARNING")
        self.latency = (0, 40)
        self.reorder = True
        self.req_stall = 0.3
        self.cpl_idle = 0.3
        self.never_complete = False
        self.error_heads: set = set()
        self.length: Optional[Callable[[Request], tuple]] = None   # -> (be_cpl_len, packet length)
        self.corrupt_data = False           # planted fault `wrong_data`: one answer byte flipped
        self.answers: dict = {}             # (queue, head) -> Answer, the last one sent
        self.cycle = 0
        self._pending: list = []            # accepted, not answered
        self._wait_data: list = []          # accepted with rd_len > 0, packet not yet in
        self._seq = 0
        self._unknown_tags = 0
        self._hurry_offer = False           # the request offered at a flush pulse is answered without waiting
        self._tasks: list = []
        dut.be_req_ready.value = 0
        dut.be_cpl_valid.value = 0
        dut.be_cpl_tag.value = 0
        dut.be_cpl_len.value = 0
        dut.be_cpl_err.value = 0

    def start(self) -> None:
        self.stop()
        self._pending, self._wait_data = [], []
        self._tasks = [cocotb.start_soon(self._accept()), cocotb.start_soon(self._complete())]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self.dut.be_req_ready.value = 0
        self.dut.be_cpl_valid.value = 0

    @property
    def outstanding(self) -> int:
        return len(self._pending) + len(self._wait_data)

    def send_unknown_tag(self) -> None:
        """Answer a tag that no accepted request holds (never issued, or already answered): rule 8.11's unknown tag.
        be_req_ready stays low while it is sent, so the engine cannot issue that tag meanwhile."""
        self._unknown_tags += 1

    # -- requests
    async def _accept(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            self.cycle += 1
            if is_high(dut.rst):
                self._pending, self._wait_data, self._hurry_offer = [], [], False
                continue
            quiesce = is_high(dut.be_quiesce)
            if is_high(dut.be_req_valid) and is_high(dut.be_req_ready):
                self._take(quiesce)
            elif is_high(dut.be_flush) and is_high(dut.be_req_valid):
                self._hurry_offer = True
            if is_high(dut.be_flush) or quiesce:
                for request in self._pending + self._wait_data:
                    request.hurry = True
            while not self.sink.empty():
                frame = self.sink.recv_nowait()
                if not self._wait_data:
                    raise AssertionError("backend: a be_rd packet for no request")
                request = self._wait_data.pop(0)
                request.data = bytes(frame.tdata)
                self._pending.append(request)
            ready = not self._unknown_tags and self.rng.random() >= self.req_stall
            await FallingEdge(dut.clk)
            dut.be_req_ready.value = int(ready)

    def _take(self, quiesce: bool) -> None:
        d = self.dut
        self._seq += 1
        request = Request(value_of(d.be_req_queue), value_of(d.be_req_head), value_of(d.be_req_tag),
                          value_of(d.be_req_rd_len), value_of(d.be_req_wr_len), self._seq)
        request.due = self.cycle + self.rng.randint(*self.latency)
        request.hurry = quiesce or self._hurry_offer
        self._hurry_offer = False
        if request.rd_len:
            self._wait_data.append(request)
        else:
            request.data = b""
            self._pending.append(request)

    # -- completions
    def _next(self) -> Optional[Request]:
        if self.never_complete:
            return None
        due = [r for r in self._pending if r.hurry or r.due <= self.cycle]
        if not due:
            return None
        return self.rng.choice(due) if self.reorder else min(due, key=lambda r: r.seq)

    async def _complete(self) -> None:
        dut = self.dut
        while True:
            await FallingEdge(dut.clk)
            if is_high(dut.rst):
                continue
            if self._unknown_tags:
                await self._send_unknown()
                continue
            request = self._next()
            if request is None or self.rng.random() < self.cpl_idle:
                continue
            self._pending.remove(request)
            answer = self._answer(request)
            await self._send(request.tag, answer.length, answer.err)
            if answer.data:  # the packet goes out whole before the next completion is offered
                await self.source.send(AxiStreamFrame(answer.data))
                await self.source.wait()
            self.answers[(request.queue, request.head)] = answer

    def _answer(self, request: Request) -> Answer:
        err = (request.queue, request.head) in self.error_heads
        if err:
            return Answer(request, 0, b"", True)
        if self.length is None:
            data = reference_answer(request.tag, request.data, request.wr_len)
            length = len(data)
        else:
            length, packet = self.length(request)
            data = answer_pattern(request.tag, request.data, packet)
        if self.corrupt_data and data:
            self.corrupt_data = False
            data = bytes([data[0] ^ 0x5A]) + data[1:]
        return Answer(request, length, data, False)

    async def _send(self, tag: int, length: int, err: bool) -> None:
        """Offer one completion's metadata at the falling edge and hold it until a rising edge accepts it."""
        dut = self.dut
        dut.be_cpl_tag.value = tag
        dut.be_cpl_len.value = length
        dut.be_cpl_err.value = int(err)
        dut.be_cpl_valid.value = 1
        while True:
            await RisingEdge(dut.clk)
            accepted = is_high(dut.be_cpl_ready) and not is_high(dut.rst)
            await FallingEdge(dut.clk)
            if accepted or is_high(dut.rst):
                break
        dut.be_cpl_valid.value = 0

    async def _send_unknown(self) -> None:
        """Wait until no request is offered, then answer a tag none of the accepted requests holds."""
        dut = self.dut
        if is_high(dut.be_req_ready):  # _accept lowers it from the next falling edge on
            return
        held = {r.tag for r in self._pending + self._wait_data}
        free = [tag for tag in range(1 << len(dut.be_cpl_tag)) if tag not in held]
        await self._send(self.rng.choice(free), 0, False)
        self._unknown_tags -= 1
