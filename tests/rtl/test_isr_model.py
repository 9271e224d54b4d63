"""virtio_golden.isr.IsrModel against SPEC 5.1 (ISR bullet and "Interrupt delivery")."""

import pytest

from virtio_golden.constants import ISR_CONFIG, ISR_QUEUE
from virtio_golden.isr import IsrModel

pytestmark = pytest.mark.model


def test_reset_value_is_zero_and_intx_low() -> None:
    isr = IsrModel()
    assert isr.value == 0
    assert not isr.intx(msix_enable=False)


def test_sets_accumulate_and_a_read_returns_then_clears() -> None:
    isr = IsrModel()
    isr.set_queue()
    isr.set_config()
    assert isr.value == ISR_QUEUE | ISR_CONFIG
    assert isr.read_clear() == ISR_QUEUE | ISR_CONFIG
    assert isr.value == 0
    assert isr.read_clear() == 0


def test_intx_follows_isr_and_msix_enable() -> None:
    isr = IsrModel()
    isr.set_config()
    assert isr.intx(msix_enable=False)
    assert not isr.intx(msix_enable=True)  # MSI-X on: INTx is never driven
    isr.read_clear()
    assert not isr.intx(msix_enable=False)
