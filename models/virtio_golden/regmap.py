"""The PCI BAR layout of rule 8.7 and the common-configuration fields of SPEC 5.1, as data."""

from dataclasses import dataclass

from . import constants as c


@dataclass(frozen=True)
class Field:
    offset: int
    width: int
    name: str
    per_queue: bool = False
    writable: bool = True


COMMON_FIELDS = (
    Field(c.CC_DEVICE_FEATURE_SELECT, 4, "device_feature_select"),
    Field(c.CC_DEVICE_FEATURE, 4, "device_feature", writable=False),
    Field(c.CC_DRIVER_FEATURE_SELECT, 4, "driver_feature_select"),
    Field(c.CC_DRIVER_FEATURE, 4, "driver_feature"),
    Field(c.CC_CONFIG_MSIX_VECTOR, 2, "config_msix_vector"),
    Field(c.CC_NUM_QUEUES, 2, "num_queues", writable=False),
    Field(c.CC_DEVICE_STATUS, 1, "device_status"),
    Field(c.CC_CONFIG_GENERATION, 1, "config_generation", writable=False),
    Field(c.CC_QUEUE_SELECT, 2, "queue_select"),
    Field(c.CC_QUEUE_SIZE, 2, "queue_size", per_queue=True),
    Field(c.CC_QUEUE_MSIX_VECTOR, 2, "queue_msix_vector", per_queue=True),
    Field(c.CC_QUEUE_ENABLE, 2, "queue_enable", per_queue=True),
    Field(c.CC_QUEUE_NOTIFY_OFF, 2, "queue_notify_off", per_queue=True, writable=False),
    Field(c.CC_QUEUE_DESC_LO, 4, "queue_desc_lo", per_queue=True),
    Field(c.CC_QUEUE_DESC_HI, 4, "queue_desc_hi", per_queue=True),
    Field(c.CC_QUEUE_DRIVER_LO, 4, "queue_driver_lo", per_queue=True),
    Field(c.CC_QUEUE_DRIVER_HI, 4, "queue_driver_hi", per_queue=True),
    Field(c.CC_QUEUE_DEVICE_LO, 4, "queue_device_lo", per_queue=True),
    Field(c.CC_QUEUE_DEVICE_HI, 4, "queue_device_hi", per_queue=True),
    Field(c.CC_QUEUE_NOTIF_CONFIG_DATA, 2, "queue_notif_config_data", per_queue=True, writable=False),
    Field(c.CC_QUEUE_RESET, 2, "queue_reset", per_queue=True),
    Field(c.CC_ADMIN_QUEUE_INDEX, 2, "admin_queue_index", writable=False),
    Field(c.CC_ADMIN_QUEUE_NUM, 2, "admin_queue_num", writable=False),
    Field(c.CC_QUEUE_AVAIL_STATE, 2, "queue_avail_state", per_queue=True),
    Field(c.CC_QUEUE_USED_STATE, 2, "queue_used_state", per_queue=True),
)
FIELD_BY_NAME = {f.name: f for f in COMMON_FIELDS}
VQ_STATE_FIELDS = ("queue_avail_state", "queue_used_state")


def fields_in_word(word_addr: int, vq_state_regs: bool):
    """The common-configuration fields that overlap the 32-bit word at `word_addr`, in ascending order."""
    limit = c.COMMON_CFG_LEN_VQ_STATE if vq_state_regs else c.COMMON_CFG_LEN
    return [f for f in COMMON_FIELDS
            if f.offset < limit and f.offset < word_addr + 4 and f.offset + f.width > word_addr]


def lanes_of(field: Field, word_addr: int):
    """(byte lane in the word, byte index in the field) for every byte of `field` inside the word."""
    return [(f_byte + field.offset - word_addr, f_byte) for f_byte in range(field.width)
            if word_addr <= field.offset + f_byte < word_addr + 4]


def notify_queue(addr: int) -> int:
    """The queue a notify-window byte address kicks, or -1 when the address is no queue's notify slot."""
    off = addr - c.BAR_NOTIFY
    if off < 0 or off % c.NOTIFY_OFF_MULTIPLIER:
        return -1
    return off // c.NOTIFY_OFF_MULTIPLIER
