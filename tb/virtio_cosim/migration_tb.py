"""Testbench of the live-migration top `virtio_pci_dev_pair_tb_top` (tb/virtio_cosim/pair_top.py): devices A and B
on one clock and reset, each driven and judged by its own unchanged `DevTB`, with ONE guest memory behind both
`m_axi_` ports.

    tb = MigrationTB(dut, rng)           # tb.a, tb.b: DevTB over DeviceView(dut, "a" / "b")
    await tb.reset()                     # the shared rst, once, for both
    ledger = Ledger()
    ledger.post(vq, readable, writable)  # every chain gets a token ...
    ledger.take(tb.a, vq, used)          # ... that must come back exactly once, with the device's answer

Pieces:
- `DeviceView`: what DevTB takes for its `dut`. A device port name maps to the top's prefixed port (`s_axil_awaddr`
  -> `a_s_axil_awaddr`), `clk` / `rst` to the shared ones, any other name (`_log`, the `core` instance the DMA
  monitor reads its state from) to the instance `dev_a` / `dev_b`. `dir()` lists the device's ports, which
  cocotb-bus's `from_prefix` searches. So DevTB, its monitors, backend and golden-model observer work per device.
- One memory: B's ErrorAxiRam shares A's sparse memory (DevTB `mem=`), B starts no second clock, and B's driver
  allocates from A's allocator. Each device keeps its own observer (its own Params) viewing that one memory.
- `Ledger`: the exactly-once check across both devices, independent of the golden model: each posted chain has a
  token; a used element whose token was already taken, or that comes back from a device whose backend never
  answered it, fails; `missing` lists the tokens never used. Payload and len are compared with the backend of the
  device that published them (DevTB.check_answers).

Planted faults (MIGRATION_TB_FAULT, tests/rtl/test_migration.py): `replay_chain` writes avail_state - 1 into B
(B takes again the last chain A used), `skip_used` writes used_state + 1 into B (B publishes one slot too far, the
driver finds A's last element again): both must fire the exactly-once check.
"""

import os
import random
from dataclasses import dataclass

import cocotb

from virtio_golden.driver import DriverError, MigrationState, VirtQueue
from virtio_golden.ring import u16

from .dev_tb import DevTB
from .pair_top import SHARED
from .tb_common import CheckerFailure

ENV_FAULT = "MIGRATION_TB_FAULT"
FAULTS = ("replay_chain", "skip_used")


class DeviceView:
    """One device of the pair top, seen as a `virtio_pci_dev` top (module docstring)."""

    def __init__(self, top, prefix: str):
        self._top = top
        self._prefix = prefix + "_"
        self._instance = getattr(top, f"dev_{prefix}")

    def __getattr__(self, name: str):
        if name in SHARED:
            handle = getattr(self._top, name)
        elif name.startswith("_") or not hasattr(self._top, self._prefix + name):
            handle = getattr(self._instance, name)
        else:
            handle = getattr(self._top, self._prefix + name)
        setattr(self, name, handle)  # cocotb's handle lookup costs more than the read on a per-cycle path
        return handle

    def __dir__(self):
        return list(SHARED) + [name[len(self._prefix):] for name in dir(self._top) if name.startswith(self._prefix)]


class MigrationTB:
    def __init__(self, dut, rng: random.Random):
        self.dut = dut
        self.fault = os.environ.get(ENV_FAULT, "")
        if self.fault and self.fault not in FAULTS:
            raise ValueError(f"{ENV_FAULT} must be one of {FAULTS}, not {self.fault!r}")
        self.a = DevTB(DeviceView(dut, "a"), random.Random(rng.random()))
        self.b = DevTB(DeviceView(dut, "b"), random.Random(rng.random()), mem=self.a.ram.mem, start_clock=False)
        self.b.alloc = self.a.alloc  # one guest: B's driver places its buffers where A's never were

    async def reset(self) -> None:
        """The shared rst once: both DevTB resets run together (each restarts its own model, monitors, backend)."""
        other = cocotb.start_soon(self.b.reset())
        await self.a.reset()
        await other

    def restore_faulty(self, saved: MigrationState) -> None:
        """The planted faults: corrupt the saved vq state of queue 0 before B gets it."""
        snap = saved.queues[0]
        if self.fault == "replay_chain":
            snap.avail_state = u16(snap.avail_state - 1)
        elif self.fault == "skip_used":
            snap.used_state = u16(snap.used_state + 1)

    async def finish(self) -> None:
        await self.a.finish()
        await self.b.finish()


@dataclass
class _Posted:
    queue: int
    head: int


class Ledger:
    """Every chain posted on either device is used exactly once (module docstring)."""

    def __init__(self):
        self.posted: dict = {}   # token -> _Posted, not yet used
        self.used: set = set()
        self._next = 0

    def post(self, vq: VirtQueue, readable: list, writable: list, **options) -> int:
        token = self._next
        self._next += 1
        head = vq.add_chain(readable, writable, token=token, **options)
        self.posted[token] = _Posted(vq.index, head)
        return token

    @property
    def total(self) -> int:
        return self._next

    @property
    def missing(self) -> list:
        return sorted(self.posted)

    def take(self, tb: DevTB, vq: VirtQueue, used: list) -> None:
        """Used elements `tb`'s device published: each token once, len and payload its backend's answer."""
        for u in used:
            if u.token in self.used:
                raise CheckerFailure(f"exactly-once: queue {vq.index} head {u.head} (token {u.token}) used twice")
            if self.posted.pop(u.token, None) is None:
                raise CheckerFailure(f"exactly-once: queue {vq.index} head {u.head} came back with token {u.token}, "
                                     f"which was never posted")
            self.used.add(u.token)
        tb.check_answers(vq, used)

    async def reap(self, tb: DevTB, driver, vq: VirtQueue, count: int) -> list:
        """driver.wait_used, its ring errors (a head used twice or not outstanding) reported as exactly-once."""
        try:
            used = await driver.wait_used(vq, count)
        except DriverError as error:
            raise CheckerFailure(f"exactly-once: {error}") from None
        self.take(tb, vq, used)
        return used

    def reap_now(self, tb: DevTB, vq: VirtQueue) -> list:
        try:
            used = vq.reap()
        except DriverError as error:
            raise CheckerFailure(f"exactly-once: {error}") from None
        self.take(tb, vq, used)
        return used
