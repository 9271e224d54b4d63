"""The ISR status byte of the virtio-pci transport (SPEC 5.1, the ISR bullet and "Interrupt delivery").

Bit 0 (ISR_QUEUE) is set by a used-buffer notification delivered with MSI-X disabled, bit 1 (ISR_CONFIG) by every
configuration-change notification, with or without MSI-X. A read returns the byte and clears it. INTx is
(ISR != 0) && !msix_enable, evaluated continuously. Deciding whether a used-buffer notification reaches the ISR
(MSI-X disabled) is the caller's business, as it is for the RTL's `set_queue` input.

Within one clock cycle apply `read_clear()` before the sets: a set in the same cycle as a read survives the clear,
as in `rtl/virtio_isr.sv`.
"""

from .constants import ISR_CONFIG, ISR_QUEUE


class IsrModel:
    """The ISR byte after reset (0); a new instance is a reset one."""

    def __init__(self) -> None:
        self._value = 0

    @property
    def value(self) -> int:
        return self._value

    def set_queue(self) -> None:
        self._value |= ISR_QUEUE

    def set_config(self) -> None:
        self._value |= ISR_CONFIG

    def read_clear(self) -> int:
        """An ISR read: returns the byte as it was and clears it."""
        value, self._value = self._value, 0
        return value

    def intx(self, msix_enable: bool) -> bool:
        return self._value != 0 and not msix_enable
