"""The single Python source of truth for every number the device and the model share.

Values come from SPEC.md (chapters 1 to 5 and rule 8.8).  `rtl/virtio_pkg.sv` mirrors the names in
`SV_EXPORT` and a test proves the two agree, so neither side can drift.
"""

from enum import IntEnum

# -- device_status bits (SPEC 2.1, SUS-01) ---------------------------------------------------------
S_ACKNOWLEDGE = 0x01
S_DRIVER = 0x02
S_DRIVER_OK = 0x04
S_FEATURES_OK = 0x08
S_SUSPEND = 0x10
S_UNASSIGNED_5 = 0x20
S_NEEDS_RESET = 0x40
S_FAILED = 0x80
S_DRIVER_BITS = 0x0F  # bits a status write may merge (rule 8.4 "merge")

# -- feature bits (SPEC 3.2) -------------------------------------------------------------------------
F_NOTIFY_ON_EMPTY = 24
F_ANY_LAYOUT = 27
F_INDIRECT_DESC = 28
F_EVENT_IDX = 29
F_VERSION_1 = 32
F_ACCESS_PLATFORM = 33
F_RING_PACKED = 34
F_IN_ORDER = 35
F_ORDER_PLATFORM = 36
F_SR_IOV = 37
F_NOTIFICATION_DATA = 38
F_NOTIF_CONFIG_DATA = 39
F_RING_RESET = 40
F_ADMIN_VQ = 41

# -- descriptor and ring flags (SPEC 4.2) ------------------------------------------------------------
VIRTQ_DESC_F_NEXT = 0x1
VIRTQ_DESC_F_WRITE = 0x2
VIRTQ_DESC_F_INDIRECT = 0x4
VIRTQ_AVAIL_F_NO_INTERRUPT = 0x1
VIRTQ_USED_F_NO_NOTIFY = 0x1
DESC_SIZE = 16
USED_ELEM_SIZE = 8
NO_VECTOR = 0xFFFF
QUEUE_SIZE_LIMIT = 32768  # SPEC 4.1: largest legal split queue size

# -- one AXI4-Lite BAR (rule 8.7) ----------------------------------------------------------------------
BAR_COMMON_CFG = 0x000
BAR_ISR = 0x100
BAR_NOTIFY = 0x200
BAR_DEVICE_CFG = 0x300
NOTIFY_OFF_MULTIPLIER = 4
COMMON_CFG_LEN = 0x40
COMMON_CFG_LEN_VQ_STATE = 0x44

# -- common configuration offsets (SPEC 5.1) --------------------------------------------------------
CC_DEVICE_FEATURE_SELECT = 0x00
CC_DEVICE_FEATURE = 0x04
CC_DRIVER_FEATURE_SELECT = 0x08
CC_DRIVER_FEATURE = 0x0C
CC_CONFIG_MSIX_VECTOR = 0x10
CC_NUM_QUEUES = 0x12
CC_DEVICE_STATUS = 0x14
CC_CONFIG_GENERATION = 0x15
CC_QUEUE_SELECT = 0x16
CC_QUEUE_SIZE = 0x18
CC_QUEUE_MSIX_VECTOR = 0x1A
CC_QUEUE_ENABLE = 0x1C
CC_QUEUE_NOTIFY_OFF = 0x1E
CC_QUEUE_DESC_LO = 0x20
CC_QUEUE_DESC_HI = 0x24
CC_QUEUE_DRIVER_LO = 0x28
CC_QUEUE_DRIVER_HI = 0x2C
CC_QUEUE_DEVICE_LO = 0x30
CC_QUEUE_DEVICE_HI = 0x34
CC_QUEUE_NOTIF_CONFIG_DATA = 0x38
CC_QUEUE_RESET = 0x3A
CC_ADMIN_QUEUE_INDEX = 0x3C
CC_ADMIN_QUEUE_NUM = 0x3E
CC_QUEUE_AVAIL_STATE = 0x40
CC_QUEUE_USED_STATE = 0x42

# -- ISR bits (SPEC 5.1) ------------------------------------------------------------------------------
ISR_QUEUE = 0x1
ISR_CONFIG = 0x2


class SuspendMode(IntEnum):
    """SUSPEND_MODE (rule 8.8): the ratified virtio 1.4 handshake or the 2023 RFC / 2024 prototype."""

    V14 = 0
    RFC = 1


class EngineState(IntEnum):
    """Engine states of rule 8.4; the RTL encodes its status machine with the same numbers."""

    INIT = 0
    RUNNING = 1
    SUSPENDING = 2
    SUSPENDED = 3
    RESUMING = 4
    HALTED = 5
    RESET_PENDING = 6


class WriteClass(IntEnum):
    """Classes of a written device_status value W, tested in this order (rule 8.4)."""

    ZERO = 0
    FAILED = 1
    DRIVER_OK = 2
    SUSPEND = 3
    FEATURES_OK = 4
    OTHER = 5


def feature_mask(*bits: int) -> int:
    """The 64-bit feature word with the given bit numbers set."""
    word = 0
    for bit in bits:
        word |= 1 << bit
    return word


# -- parameters of rule 8.8, with the defaults of DESIGN.md "Top-level contract" ----------------------
DEFAULT_NUM_QUEUES = 2
DEFAULT_QUEUE_SIZE_MAX = 256
DEFAULT_AXI_DATA_WIDTH = 64
DEFAULT_FETCH_AHEAD = 4
DEFAULT_USED_BATCH = 1
DEFAULT_MAX_CHAIN_LEN = DEFAULT_QUEUE_SIZE_MAX
DEFAULT_TAG_WIDTH = 6
DEFAULT_DEV_CFG_SIZE = 16
DEFAULT_MSIX_VECTORS = DEFAULT_NUM_QUEUES + 1
DEFAULT_DEVICE_ID = 0
DEFAULT_SUSPEND_MODE = int(SuspendMode.V14)
DEFAULT_F_SUSPEND_BIT = 43
DEFAULT_F_QUEUE_STATE_BIT = 44
DEFAULT_DEVICE_FEATURES = feature_mask(
    F_VERSION_1, DEFAULT_F_SUSPEND_BIT, F_EVENT_IDX, F_INDIRECT_DESC, F_RING_RESET
)
DEFAULT_VQ_STATE_REGS = 1
DEFAULT_SUSPEND_DRAIN_TIMEOUT = 0
DEFAULT_RESUME_LATENCY = 16
DEFAULT_SUSPENDED_CFG_LOCK = 0

assert DEFAULT_DEVICE_FEATURES == 0x0000_0901_3000_0000  # SPEC 3.3, with the default bit numbers


def _sv_export() -> dict:
    """Every constant `rtl/virtio_pkg.sv` must declare, by its SystemVerilog name."""
    names = {}
    for name, value in globals().items():
        if name.startswith(("S_", "F_", "VIRTQ_", "BAR_", "CC_", "ISR_", "DEFAULT_")) and isinstance(value, int):
            names[name] = int(value)
    for name in ("DESC_SIZE", "USED_ELEM_SIZE", "NO_VECTOR", "QUEUE_SIZE_LIMIT", "NOTIFY_OFF_MULTIPLIER",
                 "COMMON_CFG_LEN", "COMMON_CFG_LEN_VQ_STATE"):
        names[name] = globals()[name]
    for enum_type, prefix in ((EngineState, "ST_"), (SuspendMode, "MODE_"), (WriteClass, "WCLASS_")):
        for member in enum_type:
            names[prefix + member.name] = int(member)
    return names


SV_EXPORT = _sv_export()
