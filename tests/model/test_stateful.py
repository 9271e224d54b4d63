"""Random driver, hypervisor and backend operations against the model device, with invariants at every step.

A hypothesis RuleBasedStateMachine adds chains, kicks, lets the engine and the backend run, reaps, suspends,
resumes, resets, migrates to a fresh device on the same guest memory, inserts malformed chains and injects faults,
in both SUSPEND_MODEs.  Invariants checked by this test, independently of the model's own bookkeeping:

- no buffer is ever used twice, and every buffer made available is used exactly once unless a device reset, a
  queue reset or HALTED abandoned it; migration loses none (checked at every reap and at teardown);
- nothing is fetched, used or notified while suspended (a guest-memory listener and the interrupt log);
- suspended implies nothing in flight;
- the status read back matches the engine state as SPEC chapter 1's encodings table says;
- used.idx never runs ahead of the used elements written (a listener on the used rings).

`test_invariants_bite` runs the same machine against planted bugs and expects it to fail.
"""

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from virtio_golden import constants as c
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.core import DeviceCore
from virtio_golden.device import Device
from virtio_golden.driver import DeviceNeedsReset, Driver, ModelBus, ModelClock, restore_state, run_sync, save_state
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.params import Params
from virtio_golden.ring import u16

pytestmark = pytest.mark.model

QUEUE_SIZE = 8
NUM_QUEUES = 2
MEM_BASE, MEM_LIMIT = 0x1_0000, 0x400_0000


class InvariantBroken(AssertionError):
    """An invariant of this test failed."""


class DeviceMachine(RuleBasedStateMachine):
    mode = SuspendMode.V14

    def __init__(self):
        super().__init__()
        self.mem = GuestMem()
        self.alloc = MemAllocator(MEM_BASE, MEM_LIMIT)
        self.mem.listeners.append(self._on_dma)
        self.params = Params(NUM_QUEUES=NUM_QUEUES, SUSPEND_MODE=int(self.mode))
        self.generation = 0
        self.outstanding = {}   # token -> (queue, readable, writable lengths)
        self.used_tokens = set()
        self.abandoned = set()
        self.next_token = 0
        self.fault_caused = False  # a fault or a malformed chain: the only legal ways into HALTED here
        self.device = None
        self.driver = None
        self.rings = {}
        self._attach(self._new_device())
        run_sync(self.driver.start(queues=[(QUEUE_SIZE, c.NO_VECTOR)] * NUM_QUEUES))
        self._track_rings()

    # -- plumbing --
    def _new_device(self) -> Device:
        self.generation += 1
        backend = BackendModel(seed=self.generation, latency=(0, 5), reorder=True)
        return Device(self.params, self.mem, backend, seed=self.generation)

    def _attach(self, device: Device) -> None:
        self.device = device
        self.driver = Driver(ModelBus(device), self.mem, ModelClock(device), self.alloc, num_queues=NUM_QUEUES,
                             mode=self.mode, poll_limit=400)
        self.irqs_seen = len(device.irqs)

    def _track_rings(self) -> None:
        """Remember each ring's used area, to check used.idx against the elements written."""
        self.rings = {}
        for q, vq in self.driver.queues.items():
            self.rings[q] = {"layout": vq.layout, "idx": self.mem.read_u16(vq.layout.used_idx_addr),
                             "written": set()}

    def _on_dma(self, kind: str, addr: int, data: bytes) -> None:
        state = self.device.state
        if state in (St.SUSPENDED, St.RESUMING, St.INIT, St.HALTED):
            raise InvariantBroken(f"guest-memory {kind} at {addr:#x} while {state.name} (SUS-07)")
        if kind != "write":
            return
        for ring in self.rings.values():
            lay = ring["layout"]
            if lay.used_elem_addr(0) <= addr < lay.used_elem_addr(0) + 8 * lay.size:
                ring["written"].add((addr - lay.used_elem_addr(0)) // 8)
            elif addr == lay.used_idx_addr:
                new = int.from_bytes(data, "little")
                for idx in range(u16(new - ring["idx"])):
                    slot = (ring["idx"] + idx) % lay.size
                    if slot not in ring["written"]:
                        raise InvariantBroken(f"used.idx {new:#x} published slot {slot} before its element")
                    ring["written"].discard(slot)
                ring["idx"] = new

    def _abandon_outstanding(self) -> None:
        self.abandoned |= set(self.outstanding)
        self.outstanding.clear()

    def _reap(self) -> None:
        for vq in self.driver.queues.values():
            for used in vq.reap():
                token = used.token
                if token in self.used_tokens:
                    raise InvariantBroken(f"buffer {token} used twice")
                if token in self.abandoned:  # published before the reset or HALTED that abandoned the rest
                    self.abandoned.discard(token)
                    self.used_tokens.add(token)
                    continue
                if token not in self.outstanding:
                    raise InvariantBroken(f"buffer {token} used but never made available")
                queue, readable, writable = self.outstanding.pop(token)
                self.used_tokens.add(token)
                expected_len = min(len(readable), sum(writable))
                if used.len != expected_len:
                    raise InvariantBroken(f"buffer {token}: used len {used.len}, expected {expected_len}")
                keys = {used.data[i] ^ readable[i % len(readable)] for i in range(used.len)} if readable else set()
                if len(keys) > 1 or not readable and any(used.data):
                    raise InvariantBroken(f"buffer {token}: payload is not the backend's answer")

    def _running_driver(self) -> bool:
        return self.device.state == St.RUNNING

    # -- rules: the guest driver --
    @precondition(lambda self: self.device.state in (St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING))
    @rule(q=st.integers(0, NUM_QUEUES - 1), readable=st.lists(st.binary(min_size=0, max_size=40), max_size=3),
          writable=st.lists(st.integers(0, 48), max_size=3), indirect=st.booleans())
    def add(self, q, readable, writable, indirect):
        vq = self.driver.queues.get(q)
        if vq is None or not readable and not writable or vq.num_free < (1 if indirect else len(readable) + len(writable)):
            return
        token = self.next_token
        self.next_token += 1
        vq.add_chain(readable, writable, indirect=indirect, token=token)
        self.outstanding[token] = (q, b"".join(readable), writable)

    @rule(q=st.integers(0, NUM_QUEUES - 1))
    def kick(self, q):
        if self.device.state not in (St.HALTED,) and q in self.driver.queues:
            run_sync(self.driver.kick_always(q))

    @rule(steps=st.integers(1, 30))
    def run_engine(self, steps):
        for _ in range(steps):
            self.device.step()

    @rule()
    def reap(self):
        self._reap()

    # -- rules: the hypervisor --
    def _expect_halted(self, call) -> None:
        """Run a polling driver call; NEEDS_RESET may end it only if the device really is HALTED (SUS-12)."""
        try:
            run_sync(call)
        except DeviceNeedsReset:
            if self.device.state != St.HALTED:
                raise InvariantBroken(f"the driver saw NEEDS_RESET in {self.device.state.name}") from None

    @precondition(lambda self: self.device.state == St.RUNNING)
    @rule()
    def suspend(self):
        self._expect_halted(self.driver.suspend())

    @precondition(lambda self: self.device.state == St.SUSPENDED)
    @rule()
    def resume(self):
        self._expect_halted(self.driver.resume())

    @precondition(lambda self: self.device.state == St.RUNNING)
    @rule()
    def migrate_to_fresh_device(self):
        target = self._new_device()
        target_driver = Driver(ModelBus(target), self.mem, ModelClock(target), self.alloc, num_queues=NUM_QUEUES,
                               mode=self.mode, poll_limit=400)
        source, source_driver = self.device, self.driver
        try:
            saved = run_sync(save_state(source_driver, range(NUM_QUEUES)))
        except DeviceNeedsReset:
            self._expect_halted(source_driver.status())  # a malformed chain met during the drain: no migration
            return
        if source.core.in_flight():
            raise InvariantBroken("the source still holds chains after its drain")
        self._reap()  # what the source published during its drain
        self._attach(target)  # from here on guest-memory traffic is the target's
        self.driver = target_driver
        run_sync(restore_state(target_driver, saved))
        run_sync(source_driver.reset())

    @rule()
    def reset_and_restart(self):
        run_sync(self.driver.reset())
        self._abandon_outstanding()
        self.fault_caused = False
        run_sync(self.driver.start(queues=[(QUEUE_SIZE, c.NO_VECTOR)] * NUM_QUEUES))
        self._track_rings()

    @precondition(lambda self: self.device.state in (St.RUNNING, St.SUSPENDED))
    @rule(q=st.integers(0, NUM_QUEUES - 1))
    def insert_malformed_chain(self, q):
        """A chain whose descriptor links past the queue (SPEC 4.7 next >= Q): HALTED once it is walked."""
        vq = self.driver.queues[q]
        if vq.num_free < 1:
            return
        head = vq.add_chain([b"bad"], [], token=("malformed", self.next_token))
        desc = vq.layout.desc_addr(head)
        self.mem.write(desc + 12, (c.VIRTQ_DESC_F_NEXT).to_bytes(2, "little") + (QUEUE_SIZE + 3).to_bytes(2, "little"))
        self.outstanding[("malformed", self.next_token)] = (q, b"bad", [])
        self.next_token += 1
        self.fault_caused = True

    @rule()
    def fault(self):
        self.device.fault_inj()
        self.fault_caused = True

    # -- invariants --
    @invariant()
    def halted_only_for_a_cause(self):
        if self.device.state == St.HALTED:
            if not self.fault_caused:
                raise InvariantBroken(f"HALTED (status {self.device.presented:#04x}) with no fault and no "
                                      f"malformed chain (SPEC 4.7, rule 8.9)")
            self._abandon_outstanding()  # HALTED abandons every chain (SUS-15); a reset is the way out

    @invariant()
    def suspended_means_nothing_in_flight(self):
        if self.device.state == St.SUSPENDED and self.device.core.in_flight():
            raise InvariantBroken(f"SUSPENDED with {self.device.core.in_flight()} chains in flight (SUS-06)")

    @invariant()
    def silent_while_suspended(self):
        if self.device.state == St.SUSPENDED:
            if len(self.device.irqs) != self.irqs_seen:
                raise InvariantBroken("an interrupt message while SUSPENDED (SUS-25)")
        self.irqs_seen = len(self.device.irqs)

    @invariant()
    def status_matches_state(self):
        shown = self.device.reg_read(c.CC_DEVICE_STATUS, 1)
        state = self.device.state
        suspend, driver_ok = bool(shown & c.S_SUSPEND), bool(shown & c.S_DRIVER_OK)
        expected = {
            St.INIT: not suspend and not driver_ok,
            St.RUNNING: not suspend and driver_ok,
            St.SUSPENDING: not suspend and driver_ok,
            St.SUSPENDED: suspend and (not driver_ok if self.mode == SuspendMode.V14 else True),
            St.RESUMING: suspend,
            St.HALTED: bool(shown & (c.S_NEEDS_RESET | c.S_FAILED)),
        }[state]
        if not expected:
            raise InvariantBroken(f"device_status {shown:#04x} does not match engine state {state.name} (SUS-04)")

    def teardown(self):
        """Every buffer made available is used exactly once unless abandoned: let a running device finish."""
        if self.device.state == St.SUSPENDED:
            run_sync(self.driver.resume())
        if self.device.state != St.RUNNING:
            return
        for q in self.driver.queues:
            run_sync(self.driver.kick_always(q))
        self.device.run(20_000)
        self._reap()
        if self.device.state == St.RUNNING:
            lost = [t for t, (q, _, _) in self.outstanding.items() if q in self.driver.queues]
            if lost:
                raise InvariantBroken(f"buffers {lost} were made available and never used")


class RfcMachine(DeviceMachine):
    mode = SuspendMode.RFC


MACHINES = {"V14": DeviceMachine, "RFC": RfcMachine}
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], stateful_step_count=30)


@pytest.mark.parametrize("mode", MACHINES)
def test_stateful_invariants(mode):
    """At least 200 examples per mode in CI (profile "ci"), 5000 with HYPOTHESIS_PROFILE=nightly."""
    run_state_machine_as_test(MACHINES[mode], settings=settings(FAST, max_examples=settings().max_examples))


# -- proof that the invariants bite -----------------------------------------------------------------------------

def _early_suspend(monkeypatch):
    """SUSPEND reported before the drain ends."""
    monkeypatch.setattr(DeviceCore, "_drain_empty", lambda self: True)


def _fetch_while_suspended(monkeypatch):
    """The fetch stop forgotten: the engine keeps fetching in SUSPENDING and SUSPENDED."""
    active = (St.RUNNING, St.SUSPENDING, St.SUSPENDED)
    monkeypatch.setattr(DeviceCore, "_dma_allowed", lambda self: self.state in active)
    monkeypatch.setattr(DeviceCore, "_fetch_allowed", lambda self: self.state in active)


def _lost_vq_state(monkeypatch):
    """The vq-state register reports one buffer too many as taken, so a migration skips a buffer."""
    original = DeviceCore._field_value

    def skewed(self, name):
        value = original(self, name)
        return u16(value + 1) if name == "queue_avail_state" and self.state == St.SUSPENDED else value
    monkeypatch.setattr(DeviceCore, "_field_value", skewed)


@pytest.mark.parametrize("plant, symptom", [
    (_early_suspend, "in flight|still holds chains"),
    (_fetch_while_suspended, r"while SUSPENDED \(SUS-07\)"),
    (_lost_vq_state, "never used|with no fault"),
], ids=["early-suspend", "fetch-while-suspended", "lost-vq-state"])
def test_invariants_bite(plant, symptom, monkeypatch):
    """The stateful test against a planted bug must fail, on the invariant that guards against it."""
    plant(monkeypatch)
    with pytest.raises(InvariantBroken, match=symptom):
        run_state_machine_as_test(DeviceMachine, settings=settings(FAST, max_examples=300, derandomize=True,
                                                                    print_blob=False, phases=[Phase.generate]))
