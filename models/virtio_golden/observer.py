"""The co-simulation face of the golden model (rule 8.12).

An `Observer` wraps the same `DeviceCore` the standalone device runs on.  Monitors on the RTL's ports call
`observe(event)`; an event outside the allowed set raises `Mismatch` naming that set.  Where the RTL made a legal
choice (which race head it took, when a drain or resume ended, which tag it used), the core follows it.
"""

from typing import Iterable, Optional

from . import events as ev
from .core import DeviceCore, Mismatch
from .memory import GuestMem
from .params import Params

__all__ = ["Observer", "Mismatch", "replay"]


class Observer:
    """Judges a stream of observed events against SPEC.md.

    `mem` is the guest memory the device under test reads (in cocotb, a view of the AxiRam); the observer only
    reads it, to learn the chains' structure and the bytes a gather must return.  `bus_bytes` is the widest bus
    word a gather read may cover around a buffer (rule 8.11).
    """

    def __init__(self, params: Optional[Params] = None, mem: Optional[GuestMem] = None, bus_bytes: int = 16,
                 record: bool = False, mirror_dma_writes: bool = False):
        self.core = DeviceCore(params or Params(), mem if mem is not None else GuestMem(), bus_bytes)
        self.mirror_dma_writes = mirror_dma_writes  # a replay keeps its own memory: apply the device's writes
        self.trace = ev.Trace() if record else None
        self.core.trace_sink = self.trace.append if record else None
        self.count = 0

    def observe(self, event) -> Optional[int]:
        """Check and follow one event; for a RegRead without data, return the model's value."""
        result = self.core.observe(event)
        if self.mirror_dma_writes and isinstance(event, ev.DmaWrite) and event.resp == ev.OKAY:
            self.core.mem.write(event.addr, event.data)
        self.count += 1
        return result

    def finish(self) -> None:
        """End-of-test check: nothing the spec requires may still be owed (a missed interrupt or flush)."""
        core = self.core
        if core.aborted_drain_due is not None:
            core.complete_aborted_drain()  # the run is over: what the aborted drain owes is owed now
        if core.owed():
            raise Mismatch("end of test", f"every owed notification and flush delivered; still owed: "
                                          f"messages {core.owed_irqs}, ISR bits {core.owed_isr:#x}, "
                                          f"flush pulses {core.flush_owed}", core._describe())

    @property
    def state(self):
        return self.core.state


def replay(events: Iterable, params: Optional[Params] = None) -> Observer:
    """Feed a recorded trace to a fresh observer on a fresh memory and run the end-of-test check."""
    observer = Observer(params, GuestMem(), mirror_dma_writes=True)
    for event in events:
        observer.observe(event)
    observer.finish()
    return observer
