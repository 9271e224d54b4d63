"""cocotb tests of rtl/virtio_isr.sv against virtio_golden.isr.IsrModel (SPEC 5.1, ISR and "Interrupt delivery").

Each cycle the testbench drives the inputs at the falling edge, checks `isr` and `intx` 1 ns later (`intx` must
follow `msix_enable` without a clock edge), lets the model take the cycle's read and sets, and checks both outputs
again at the next falling edge.

Planted fault: with ISR_TB_FAULT=1 the reference model's INTx ignores msix_enable, so the checker must fail
(tests/rtl/test_isr.py runs that and expects the failure).
"""

import os
import random

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, Timer
from cocotb_coverage.coverage import CoverCross, CoverPoint

from virtio_golden.isr import IsrModel

from .seeded import seeded_test

CLOCK_PERIOD_NS = 10
RANDOM_CYCLES = 2000


OPERATIONS = ["idle", "set_queue", "set_config", "set_both", "read", "read+set"]


def operation_class(set_queue: bool, set_config: bool, read_clear: bool) -> str:
    if read_clear:
        return "read+set" if set_queue or set_config else "read"
    return {(False, False): "idle", (True, False): "set_queue", (False, True): "set_config"}.get(
        (set_queue, set_config), "set_both")


@CoverPoint("isr.value_before", xf=lambda isr, op, msix: isr, bins=[0, 1, 2, 3])
@CoverPoint("isr.operation", xf=lambda isr, op, msix: op, bins=OPERATIONS)
@CoverPoint("isr.msix_enable", xf=lambda isr, op, msix: msix, bins=[False, True])
@CoverCross("isr.value_x_operation_x_msix", items=["isr.value_before", "isr.operation", "isr.msix_enable"])
def sample_cycle(isr: int, op: str, msix: bool) -> None:
    """Functional coverage of one cycle: the ISR byte before it x what the cycle did x msix_enable (SPEC 5.1)."""


class FaultyIsrModel(IsrModel):
    """The planted bug: INTx asserted whenever ISR != 0, even with MSI-X enabled."""

    def intx(self, msix_enable: bool) -> bool:
        return self.value != 0


class IsrTB:
    def __init__(self, dut) -> None:
        self.dut = dut
        self.model_type = FaultyIsrModel if os.environ.get("ISR_TB_FAULT") == "1" else IsrModel
        self.model = self.model_type()
        for signal in (dut.rst, dut.set_queue, dut.set_config, dut.read_clear, dut.msix_enable):
            signal.value = 0
        Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start()

    async def reset(self) -> None:
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 2)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)
        self.model = self.model_type()
        self.check()

    def check(self) -> None:
        isr, intx = int(self.dut.isr.value), bool(self.dut.intx.value)
        msix_enable = bool(self.dut.msix_enable.value)
        assert isr == self.model.value, f"isr is {isr:#04x}, the model says {self.model.value:#04x}"
        expected = self.model.intx(msix_enable)
        assert intx == expected, f"intx is {intx}, the model says {expected} (isr {isr:#04x}, msix {msix_enable})"

    async def cycle(self, set_queue=False, set_config=False, read_clear=False, msix_enable=False) -> None:
        """One clock cycle, entered and left at a falling edge."""
        self.dut.set_queue.value = int(set_queue)
        self.dut.set_config.value = int(set_config)
        self.dut.read_clear.value = int(read_clear)
        self.dut.msix_enable.value = int(msix_enable)
        await Timer(1, "ns")
        self.check()  # before the edge: intx already follows msix_enable
        sample_cycle(self.model.value, operation_class(set_queue, set_config, read_clear), msix_enable)
        if read_clear:
            read_value = self.model.read_clear()  # first, so a set in the read's cycle survives
            assert int(self.dut.isr.value) == read_value, "an ISR read returns the byte before the clear"
        if set_queue:
            self.model.set_queue()
        if set_config:
            self.model.set_config()
        await FallingEdge(self.dut.clk)
        self.check()


@seeded_test()
async def test_directed(dut, rng: random.Random) -> None:
    """The corners of SPEC 5.1: set, read-clear, a set during a read, INTx against msix_enable, reset."""
    tb = IsrTB(dut)
    await tb.reset()
    await tb.cycle(set_queue=True)
    await tb.cycle(read_clear=True)  # reads 0x01 and clears
    await tb.cycle(set_config=True)
    await tb.cycle(set_queue=True, read_clear=True)  # reads 0x02; the queue bit survives the clear
    await tb.cycle(msix_enable=True)  # INTx falls while ISR is still set
    await tb.cycle(msix_enable=False)  # and rises again
    await tb.cycle(set_config=True, msix_enable=True)  # the config bit is set with MSI-X too
    await tb.cycle(read_clear=True, msix_enable=True)
    await tb.cycle(set_queue=True, set_config=True)
    await tb.reset()  # clears a non-zero ISR


@seeded_test()
async def test_random_stimulus(dut, rng: random.Random) -> None:
    """Random sets, reads and msix_enable toggles, checked every cycle."""
    tb = IsrTB(dut)
    await tb.reset()
    msix_enable = False
    for _ in range(RANDOM_CYCLES):
        msix_enable ^= rng.random() < 0.1
        await tb.cycle(
            set_queue=rng.random() < 0.3,
            set_config=rng.random() < 0.2,
            read_clear=rng.random() < 0.3,
            msix_enable=msix_enable,
        )
