"""Build parameters of rule 8.8, with the names and defaults the RTL uses (`virtio_pkg::DEFAULT_*`)."""

from dataclasses import dataclass, field, replace

from . import constants as c


class ParameterError(ValueError):
    """A parameter set that SPEC rule 8.8 does not allow."""


def _default_features() -> int:
    return c.DEFAULT_DEVICE_FEATURES


@dataclass(frozen=True)
class Params:
    NUM_QUEUES: int = c.DEFAULT_NUM_QUEUES
    QUEUE_SIZE_MAX: int = c.DEFAULT_QUEUE_SIZE_MAX
    FETCH_AHEAD: int = c.DEFAULT_FETCH_AHEAD
    USED_BATCH: int = c.DEFAULT_USED_BATCH
    MAX_CHAIN_LEN: int = c.DEFAULT_MAX_CHAIN_LEN
    DEV_CFG_SIZE: int = c.DEFAULT_DEV_CFG_SIZE
    MSIX_VECTORS: int = c.DEFAULT_MSIX_VECTORS
    DEVICE_ID: int = c.DEFAULT_DEVICE_ID
    SUSPEND_MODE: int = c.DEFAULT_SUSPEND_MODE
    F_SUSPEND_BIT: int = c.DEFAULT_F_SUSPEND_BIT
    F_QUEUE_STATE_BIT: int = c.DEFAULT_F_QUEUE_STATE_BIT
    DEVICE_FEATURES: int = field(default_factory=_default_features)
    VQ_STATE_REGS: int = c.DEFAULT_VQ_STATE_REGS
    SUSPEND_DRAIN_TIMEOUT: int = c.DEFAULT_SUSPEND_DRAIN_TIMEOUT
    RESUME_LATENCY: int = c.DEFAULT_RESUME_LATENCY
    SUSPENDED_CFG_LOCK: int = c.DEFAULT_SUSPENDED_CFG_LOCK
    # RTL-only parameters change timing, never observable behaviour (rule 8.8); kept for build sweeps.
    AXI_DATA_WIDTH: int = c.DEFAULT_AXI_DATA_WIDTH
    TAG_WIDTH: int = c.DEFAULT_TAG_WIDTH

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.NUM_QUEUES <= 64, "NUM_QUEUES must be 1 to 64 (rule 8.7 keeps the notify window below 0x300)"),
            (_pow2(self.QUEUE_SIZE_MAX) and self.QUEUE_SIZE_MAX <= c.QUEUE_SIZE_LIMIT,
             "QUEUE_SIZE_MAX must be a power of two no larger than 32768"),
            (self.FETCH_AHEAD >= 1, "FETCH_AHEAD must be at least 1"),
            (self.USED_BATCH >= 1, "USED_BATCH must be at least 1"),
            (self.MAX_CHAIN_LEN >= 1, "MAX_CHAIN_LEN must be at least 1"),
            (self.DEV_CFG_SIZE % 4 == 0 and 0 <= self.DEV_CFG_SIZE <= 0x100,
             "DEV_CFG_SIZE must be a multiple of 4 no larger than 0x100"),
            (1 <= self.MSIX_VECTORS <= 2048, "MSIX_VECTORS must be 1 to 2048"),
            (self.SUSPEND_MODE in (0, 1), "SUSPEND_MODE must be 0 (V14) or 1 (RFC)"),
            (self.DEVICE_FEATURES >> c.F_VERSION_1 & 1 == 1, "DEVICE_FEATURES must include VERSION_1"),
            (0 <= self.DEVICE_FEATURES < 1 << 64, "DEVICE_FEATURES is a 64-bit set"),
            (self.RESUME_LATENCY >= 1, "RESUME_LATENCY must be at least 1"),
            (self.SUSPEND_DRAIN_TIMEOUT >= 0, "SUSPEND_DRAIN_TIMEOUT must be 0 (off) or positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ParameterError(message)

    @property
    def mode(self) -> c.SuspendMode:
        return c.SuspendMode(self.SUSPEND_MODE)

    def with_(self, **changes) -> "Params":
        """A copy with some parameters changed; MAX_CHAIN_LEN and MSIX_VECTORS follow their defaults' rule."""
        if "QUEUE_SIZE_MAX" in changes and "MAX_CHAIN_LEN" not in changes and \
                self.MAX_CHAIN_LEN == self.QUEUE_SIZE_MAX:
            changes["MAX_CHAIN_LEN"] = changes["QUEUE_SIZE_MAX"]
        if "NUM_QUEUES" in changes and "MSIX_VECTORS" not in changes and self.MSIX_VECTORS == self.NUM_QUEUES + 1:
            changes["MSIX_VECTORS"] = changes["NUM_QUEUES"] + 1
        return replace(self, **changes)

    def offers(self, bit: int) -> bool:
        return bool(self.DEVICE_FEATURES >> bit & 1)


def _pow2(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0
