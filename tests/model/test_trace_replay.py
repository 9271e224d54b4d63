"""The observer face (rule 8.12): a recorded event trace replays cleanly, and each kind of planted fault in a
trace (a missed or extra interrupt, a wrong used element, DMA while suspended, an early SUSPEND, a wrong status
read-back, a wrong gather, a stray write) makes the observer raise a Mismatch that names the allowed set.

The traces come from the standalone device, which runs on the same core through the same events; the observer
replays them on a fresh guest memory (the trace carries the driver's memory writes as MemWrite events).
"""

import dataclasses

import pytest

from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode
from virtio_golden.device import Device
from virtio_golden.driver import Driver, ModelBus, ModelClock, run_sync
from virtio_golden.memory import GuestMem, MemAllocator
from virtio_golden.observer import Mismatch, Observer, replay
from virtio_golden.params import Params

pytestmark = pytest.mark.model


def record_session(mode: SuspendMode, seed: int = 7):
    """Traffic on two queues with MSI-X vectors, a config change, suspend with chains in flight, resume, more
    traffic, and a reset at the end; returns (params, trace events)."""
    params = Params(SUSPEND_MODE=int(mode))
    mem = GuestMem()
    device = Device(params, mem, BackendModel(seed, latency=(2, 9), reorder=True), seed=seed, record=True)
    device.set_msix_enable(True)
    driver = Driver(ModelBus(device), mem, ModelClock(device), MemAllocator(0x10000, 0x100000), num_queues=2,
                    mode=mode)
    rings = run_sync(driver.start(queues=[(16, 0), (16, 1)]))
    run_sync(driver.bus.write(c.CC_CONFIG_MSIX_VECTOR, 2, 2))
    for round_ in range(3):
        for vq in rings:
            vq.add_chain([bytes(range(round_, round_ + 23))], [7, 30])
            vq.add_chain([b"xy"], [5], indirect=True)
            run_sync(driver.kick_always(vq.index))
        device.run(12)
        device.devcfg_write(0, 0x1234_0000 + round_)
        run_sync(driver.suspend())
        run_sync(driver.resume())
        device.run()
        for vq in rings:
            vq.reap()
    run_sync(driver.read_device_config())
    run_sync(driver.reset())
    return params, list(device.trace), device


@pytest.fixture(scope="module", params=list(SuspendMode), ids=lambda m: m.name)
def session(request):
    return record_session(request.param)


def test_r8_12_recorded_trace_replays_cleanly(session):
    params, events, device = session
    observer = replay(events, params)
    assert observer.count == len(events)
    kinds = {type(e).__name__ for e in events}
    # The trace exercises every kind of device event the session can produce.
    assert {"RegWrite", "RegRead", "DmaRead", "DmaWrite", "BeRequest", "BeCompletion", "Irq", "Quiesce",
            "BeFlush", "DevCfgWrite", "MemWrite"} <= kinds
    assert len(device.irqs) > 6


def _index(events, predicate, nth=0):
    hits = [i for i, e in enumerate(events) if predicate(e)]
    assert len(hits) > nth, "the recorded session lacks the event this fault needs"
    return hits[nth]


def _is_used_elem(event):
    return isinstance(event, ev.DmaWrite) and len(event.data) == 8


def _drop(events, i):
    return events[:i] + events[i + 1:]


def _missed_irq(events):
    return _drop(events, _index(events, lambda e: isinstance(e, ev.Irq)))


def _extra_irq(events):
    i = _index(events, lambda e: isinstance(e, ev.Irq))
    return events[:i + 1] + [events[i]] + events[i + 1:]


def _wrong_used_len(events):
    i = _index(events, _is_used_elem)
    elem = events[i]
    wrong = elem.data[:4] + (int.from_bytes(elem.data[4:], "little") + 1).to_bytes(4, "little")
    return events[:i] + [dataclasses.replace(elem, data=wrong)] + events[i + 1:]


def _dma_while_suspended(events):
    """An avail.idx read right after the first status read that shows SUSPEND (SUS-07)."""
    first_read = next(e for e in events if isinstance(e, ev.DmaRead) and e.length == 2)
    i = _index(events, lambda e: isinstance(e, ev.RegRead) and e.addr == c.CC_DEVICE_STATUS
               and e.data & c.S_SUSPEND)
    return events[:i + 1] + [first_read] + events[i + 1:]


def _early_suspend(events):
    """The drain's end (be_quiesce falling) moved before the last used.idx write of the drain."""
    rise = _index(events, lambda e: isinstance(e, ev.Quiesce) and e.level)
    fall = _index(events, lambda e: isinstance(e, ev.Quiesce) and not e.level)
    used_idx_writes = [i for i in range(rise, fall) if isinstance(events[i], ev.DmaWrite)
                       and len(events[i].data) == 2]
    assert used_idx_writes, "the first drain published nothing"
    early = used_idx_writes[0]
    return events[:early] + [events[fall]] + events[early:fall] + events[fall + 1:]


def _wrong_status(events):
    i = _index(events, lambda e: isinstance(e, ev.RegRead) and e.addr == c.CC_DEVICE_STATUS and e.data & 0xFF)
    read = events[i]
    return events[:i] + [dataclasses.replace(read, data=read.data ^ c.S_FEATURES_OK)] + events[i + 1:]


def _wrong_gather(events):
    i = _index(events, lambda e: isinstance(e, ev.BeRequest) and e.rd_len)
    req = events[i]
    return events[:i] + [dataclasses.replace(req, data=bytes([req.data[0] ^ 1]) + req.data[1:])] + events[i + 1:]


def _stray_write(events):
    i = _index(events, _is_used_elem)
    return events[:i] + [ev.DmaWrite(0x7_0000, b"\x55")] + events[i:]


def _skipped_flush(events):
    return _drop(events, _index(events, lambda e: isinstance(e, ev.BeFlush)))


FAULTS = [_missed_irq, _extra_irq, _wrong_used_len, _dma_while_suspended, _early_suspend, _wrong_status,
          _wrong_gather, _stray_write, _skipped_flush]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__.strip("_"))
def test_r8_12_observer_rejects_planted_fault(session, fault):
    params, events, _ = session
    with pytest.raises(Mismatch, match="allowed"):
        replay(fault(list(events)), params)


# -- legal RTL choices the standalone device never makes ---------------------------------------------------------

def running_observer(event_idx: bool = False, fetch_ahead: int = 4, ring_reset: bool = False):
    """An observer and its memory with queue 0 (size 8) enabled and DRIVER_OK, built from register events."""
    params = Params(FETCH_AHEAD=fetch_ahead)
    mem = GuestMem()
    obs = Observer(params, mem)
    features = c.feature_mask(c.F_VERSION_1, params.F_SUSPEND_BIT) | (c.feature_mask(c.F_EVENT_IDX) if event_idx else 0)
    features |= c.feature_mask(c.F_RING_RESET) if ring_reset else 0
    for addr, value, strb in [(c.CC_DEVICE_STATUS, 0x03, 0x1), (c.CC_DRIVER_FEATURE_SELECT, 0, 0xF),
                              (c.CC_DRIVER_FEATURE, features & 0xFFFF_FFFF, 0xF), (c.CC_DRIVER_FEATURE_SELECT, 1, 0xF),
                              (c.CC_DRIVER_FEATURE, features >> 32, 0xF), (c.CC_DEVICE_STATUS, 0x0B, 0x1),
                              (c.CC_QUEUE_SIZE, 8, 0x3), (c.CC_QUEUE_DESC_LO, 0x1000, 0xF),
                              (c.CC_QUEUE_DRIVER_LO, 0x2000, 0xF), (c.CC_QUEUE_DEVICE_LO, 0x3000, 0xF),
                              (c.CC_QUEUE_ENABLE, 1, 0x3), (c.CC_DEVICE_STATUS, 0x0F, 0x1)]:
        obs.observe(ev.RegWrite(addr, value, strb))
    assert obs.state == St.RUNNING and obs.core.queues[0].size == 8
    return obs, mem


def post_chains(mem, heads):
    """One readable 4-byte buffer per head (descriptor i at 0x1000 + 16 i), all made available."""
    for n, head in enumerate(heads):
        mem.write(0x1000 + 16 * head, (0x8000 + 0x100 * head).to_bytes(8, "little") + (4).to_bytes(4, "little")
                  + bytes(4))
        mem.write(0x2004 + 2 * n, head.to_bytes(2, "little"))
    mem.write(0x2002, len(heads).to_bytes(2, "little"))


def test_r8_1_race_head_read_at_the_stop_may_be_discarded():
    """A ring read issued before the stop and returned after it: the RTL discarded the head, so last_avail_idx
    stays below it (rule 8.1 allowed set) and its chain is never walked."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))            # avail.idx = 1
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))                 # SUSPEND latched
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))           # ring entry returns after the stop
    assert obs.observe(ev.RegRead(c.CC_DEVICE_STATUS, None)) & 0xFF == 0x0F  # still SUSPENDING
    obs.observe(ev.Quiesce(False))                                          # the RTL ended the drain
    assert obs.state == St.SUSPENDED
    assert obs.observe(ev.RegRead(c.CC_QUEUE_AVAIL_STATE, None)) & 0xFFFF == 0
    obs.finish()


def test_r8_1_race_head_may_be_taken_and_then_drains():
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x1030, 16, mem.read(0x1030, 16)))              # its descriptor: the head is taken
    with pytest.raises(Mismatch, match="be_quiesce stays high"):
        Observer.observe(obs, ev.Quiesce(False))                            # cannot end the drain with it in flight
    obs.observe(ev.DmaRead(0x8300, 4, mem.read(0x8300, 4)))                 # gather
    obs.observe(ev.BeRequest(0, 3, 5, 4, 0, mem.read(0x8300, 4)))
    obs.observe(ev.BeCompletion(5, 0))
    obs.observe(ev.DmaWrite(0x3004, (3).to_bytes(4, "little") + bytes(4)))  # used element {3, 0}
    obs.observe(ev.DmaWrite(0x3002, (1).to_bytes(2, "little")))             # used.idx = 1: queue marked
    obs.observe(ev.Intx(True))                                              # the forced notification (SUS-21)
    obs.observe(ev.Quiesce(False))
    assert obs.observe(ev.RegRead(c.CC_DEVICE_STATUS, None)) & 0xFF == 0x1B
    obs.finish()


def test_r8_1_batched_ring_read_is_bounded_by_fetch_ahead():
    """An RTL may read several ring entries in one burst, but never more than FETCH_AHEAD chains at once."""
    obs, mem = running_observer(fetch_ahead=2)
    post_chains(mem, [0, 1, 2])
    obs.observe(ev.DmaRead(0x2002, 2, (3).to_bytes(2, "little")))
    with pytest.raises(Mismatch, match="FETCH_AHEAD"):
        obs.observe(ev.DmaRead(0x2004, 6, mem.read(0x2004, 6)))
    obs.observe(ev.DmaRead(0x2004, 4, mem.read(0x2004, 4)))
    assert obs.core.in_flight(0) == 2


def test_r8_2_event_idx_requires_avail_event_before_the_scan():
    obs, mem = running_observer(event_idx=True)
    with pytest.raises(Mismatch, match="avail_event must be written first"):
        obs.observe(ev.DmaRead(0x2002, 2, bytes(2)))
    obs.observe(ev.DmaWrite(0x3000 + 4 + 8 * 8, bytes(2)))                 # avail_event = last_avail_idx = 0
    obs.observe(ev.DmaRead(0x2002, 2, bytes(2)))


def test_r8_5_message_waiting_at_a_reset_may_arrive_or_be_dropped():
    """Rule 8.5: an offered message retires, a waiting one is dropped; the observer cannot tell which it was."""
    for delivered in (True, False):
        obs, _ = running_observer()
        obs.observe(ev.MsixEnable(True))
        obs.observe(ev.RegWrite(c.CC_CONFIG_MSIX_VECTOR, 2, 0x3))
        obs.observe(ev.DevCfgWrite(0, 7))                                   # a config change owes message 2
        obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0, 0x1))                # reset before it is delivered
        obs.observe(ev.BeFlush())
        if delivered:
            obs.observe(ev.Irq(2))
            with pytest.raises(Mismatch, match="messages owed"):
                obs.observe(ev.Irq(2))                                      # but never twice
        obs.finish()


def test_r8_12_config_vector_may_be_read_when_the_message_is_offered():
    obs, _ = running_observer()
    obs.observe(ev.MsixEnable(True))
    obs.observe(ev.RegWrite(c.CC_CONFIG_MSIX_VECTOR, 1, 0x3))
    obs.observe(ev.DevCfgWrite(0, 7))
    obs.observe(ev.RegWrite(c.CC_CONFIG_MSIX_VECTOR, 2, 0x3))               # changed while the message waits
    obs.observe(ev.Irq(2))
    obs.finish()


def test_r8_12_needs_reset_read_may_come_before_the_last_descriptor_read():
    """A malformed chain being walked: the RTL may reach HALTED before the model saw every descriptor read
    (rule 8.12 set 9: the NEEDS_RESET notification before or after the first status read that shows it)."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    mem.write(0x1030 + 12, (c.VIRTQ_DESC_F_NEXT).to_bytes(2, "little") + (9).to_bytes(2, "little"))  # next >= Q
    mem.write(0x1000 + 16 * 9, bytes(16))
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))           # head 3 taken; its walk is bad
    assert obs.observe(ev.RegRead(c.CC_DEVICE_STATUS, 0x4F)) == 0x4F        # HALTED seen before the desc read
    obs.observe(ev.BeFlush())
    obs.observe(ev.Intx(True))                                              # the NEEDS_RESET notification
    obs.finish()


def test_r8_12_an_unexplained_needs_reset_is_a_mismatch():
    obs, _ = running_observer()
    with pytest.raises(Mismatch, match="read value"):
        obs.observe(ev.RegRead(c.CC_DEVICE_STATUS, 0x4F))


def aborted_drain(obs) -> None:
    """SUSPEND latched, then a fault while draining: HALTED with NEEDS_RESET and DRIVER_OK shown (SUS-12)."""
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))
    obs.observe(ev.FaultInj())
    obs.observe(ev.BeFlush())
    assert obs.state == St.HALTED


def test_sus12_aborted_drain_notification_is_routed_when_it_is_sent():
    """The aborted drain's configuration notification follows the retirement of its transactions, a moment the
    RTL chooses: MSI-X enabled in between routes it as a message (SPEC 5.1), exactly once."""
    obs, _ = running_observer()
    obs.observe(ev.RegWrite(c.CC_CONFIG_MSIX_VECTOR, 2, 0x3))
    aborted_drain(obs)
    obs.observe(ev.MsixEnable(True))
    obs.observe(ev.Irq(2))
    with pytest.raises(Mismatch, match="messages owed"):
        obs.observe(ev.Irq(2))
    assert obs.observe(ev.RegRead(c.BAR_ISR, 0x2)) == 0x2                  # ISR bit 1 in both cases
    obs.finish()


@pytest.mark.parametrize("set_again", [False, True])
def test_sus12_aborted_drain_isr_bit_may_merge_into_one_already_set(set_again):
    """ISR bit 1 set by a change while draining, then the fault: the aborted drain's NEEDS_RESET notification may
    set the bit before the first read (one read clears both) or after it (a second read sees it), never twice."""
    obs, _ = running_observer()
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))
    obs.observe(ev.DevCfgWrite(0, 7))                                       # ISR bit 1 set in SUSPENDING
    obs.observe(ev.Intx(True))
    obs.observe(ev.FaultInj())
    obs.observe(ev.BeFlush())
    assert obs.observe(ev.RegRead(c.BAR_ISR, 0x2)) == 0x2
    obs.observe(ev.Intx(False))
    if set_again:
        obs.observe(ev.Intx(True))
        assert obs.observe(ev.RegRead(c.BAR_ISR, 0x2)) == 0x2
        obs.observe(ev.Intx(False))
        with pytest.raises(Mismatch, match="ISR"):
            obs.observe(ev.RegRead(c.BAR_ISR, 0x2))
    obs.finish()


@pytest.mark.parametrize("delivered", [False, True])
def test_r8_5_aborted_drain_message_offered_before_a_reset_may_still_arrive(delivered):
    """The aborted drain's NEEDS_RESET message may have been offered before the write of 0 (its transactions had
    retired, a moment the model does not see): it may arrive after the reset, or not at all, but only once."""
    obs, _ = running_observer()
    obs.observe(ev.RegWrite(c.CC_CONFIG_MSIX_VECTOR, 2, 0x3))
    aborted_drain(obs)
    obs.observe(ev.MsixEnable(True))
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0, 0x1))
    obs.observe(ev.BeFlush())
    assert obs.state == St.INIT
    if delivered:
        obs.observe(ev.Irq(2))
        with pytest.raises(Mismatch, match="messages owed"):
            obs.observe(ev.Irq(2))
    obs.finish()


def test_sus12_aborted_drain_sets_isr_again_after_an_earlier_change_was_read():
    """ISR bit 1 already set by an earlier change: a read before the aborted drain's notification clears it, the
    notification sets it again, and only once."""
    obs, _ = running_observer()
    obs.observe(ev.DevCfgWrite(0, 7))                                       # ISR bit 1 set in RUNNING
    aborted_drain(obs)
    assert obs.observe(ev.RegRead(c.BAR_ISR, 0x2)) == 0x2                  # the earlier change
    assert obs.observe(ev.RegRead(c.BAR_ISR, 0x2)) == 0x2                  # the NEEDS_RESET notification
    with pytest.raises(Mismatch, match="ISR"):
        obs.observe(ev.RegRead(c.BAR_ISR, 0x2))
    obs.finish()


def test_sus19_used_state_read_may_lag_the_used_idx_write_response():
    """SUS-18, SUS-19: in RUNNING used_state is the live counter, and when it moves after the used.idx write
    response is the RTL's choice; a read may show the value before that write until a read shows it moved, and
    never goes back afterwards."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))            # avail.idx = 1
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))            # head 3
    obs.observe(ev.DmaRead(0x1030, 16, mem.read(0x1030, 16)))
    obs.observe(ev.DmaRead(0x8300, 4, mem.read(0x8300, 4)))
    obs.observe(ev.BeRequest(0, 3, 5, 4, 0, mem.read(0x8300, 4)))
    obs.observe(ev.BeCompletion(5, 0))
    obs.observe(ev.DmaWrite(0x3004, (3).to_bytes(4, "little") + bytes(4)))  # used element {3, 0}
    obs.observe(ev.DmaWrite(0x3002, (1).to_bytes(2, "little")))             # used.idx = 1, response seen
    behind, moved = 0 << 16 | 1, 1 << 16 | 1                                # used_state << 16 | avail_state
    assert obs.observe(ev.RegRead(c.CC_QUEUE_AVAIL_STATE, behind)) == behind
    assert obs.observe(ev.RegRead(c.CC_QUEUE_AVAIL_STATE, moved)) == moved
    with pytest.raises(Mismatch, match="read value 0x00010001"):
        obs.observe(ev.RegRead(c.CC_QUEUE_AVAIL_STATE, behind))
    obs.observe(ev.DmaRead(0x2000, 2, (1).to_bytes(2, "little")))            # decision read: NO_INTERRUPT
    obs.finish()


def test_sus19_avail_state_read_may_lag_the_ring_read_one_head_at_a_time():
    """SUS-19: the RTL counts heads some edges after the avail.ring read data, one at a time: a read in RUNNING may
    show any value from the last one seen up to the model's, and never an older one than a read already showed."""
    obs, mem = running_observer()
    post_chains(mem, [3, 5])
    obs.observe(ev.DmaRead(0x2002, 2, (2).to_bytes(2, "little")))            # avail.idx = 2
    obs.observe(ev.DmaRead(0x2004, 4, mem.read(0x2004, 4)))                 # heads 3 and 5 in one read
    for shown in (0, 1, 1, 2):
        assert obs.observe(ev.RegRead(c.CC_QUEUE_AVAIL_STATE, shown)) == shown
    for stale in (1, 3):
        with pytest.raises(Mismatch, match="read value 0x00000002"):
            obs.observe(ev.RegRead(c.CC_QUEUE_AVAIL_STATE, stale))


def test_s4_8_queue_registers_hold_until_the_queue_reset_is_done():
    """A queue reset in RUNNING: the queue's registers, queue_reset = 1, until the RTL has retired its
    transactions; once a read shows the reset done, the old values are gone."""
    obs, _ = running_observer(ring_reset=True)
    obs.observe(ev.RegWrite(c.CC_QUEUE_RESET & ~3, 1 << 16, 0xC))
    obs.observe(ev.BeFlush())
    size_8 = c.NO_VECTOR << 16 | 8                                          # queue_msix_vector | queue_size
    assert obs.observe(ev.RegRead(c.CC_QUEUE_SIZE, size_8)) == size_8       # size 8 still shown
    assert obs.observe(ev.RegRead(c.CC_QUEUE_RESET & ~3, 1 << 16)) == 1 << 16
    assert obs.observe(ev.RegRead(c.CC_QUEUE_RESET & ~3, 0)) == 0           # done
    size_max = obs.core.params.QUEUE_SIZE_MAX
    with pytest.raises(Mismatch, match="read value"):
        obs.observe(ev.RegRead(c.CC_QUEUE_SIZE, size_8))
    assert obs.observe(ev.RegRead(c.CC_QUEUE_SIZE, None)) & 0xFFFF == size_max
    obs.finish()


def test_s4_7_loop_is_found_after_q_descriptor_reads():
    """A two-descriptor loop on a queue of 8: the walk reads Q = 8 descriptors, each entry several times, and only
    then is it a loop (SPEC 4.7); each read of an entry counts once."""
    obs, mem = running_observer()
    post_chains(mem, [0])
    for index, other in ((0, 1), (1, 0)):
        mem.write(0x1000 + 16 * index, (0x8000).to_bytes(8, "little") + (4).to_bytes(4, "little")
                  + c.VIRTQ_DESC_F_NEXT.to_bytes(2, "little") + other.to_bytes(2, "little"))
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, bytes(2)))                            # head 0 taken
    for n in range(8):
        assert obs.state == St.RUNNING, f"halted after {n} of 8 descriptor reads"
        addr = 0x1000 + 16 * (n % 2)
        obs.observe(ev.DmaRead(addr, 16, mem.read(addr, 16)))
    assert obs.state == St.HALTED


def test_r8_1_avail_idx_read_issued_before_the_stop_may_return_after_it():
    """Rule 8.12 set 1: its value is ignored; a second one would be a fetch after the stop."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))                 # SUSPEND latched
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))           # issued before, returned after
    assert obs.core.queues[0].last_avail == 0
    with pytest.raises(Mismatch, match="no fetch after the stop"):
        obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))


def test_r8_12_decision_read_issued_before_the_latch_may_return_after_it():
    """Rule 8.12 set 6: the decision was dropped at the latch (the queue is marked, SUS-21); its read, already
    issued, may still return, once."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x1030, 16, mem.read(0x1030, 16)))
    obs.observe(ev.DmaRead(0x8300, 4, mem.read(0x8300, 4)))
    obs.observe(ev.BeRequest(0, 3, 5, 4, 0, mem.read(0x8300, 4)))
    obs.observe(ev.BeCompletion(5, 0))
    obs.observe(ev.DmaWrite(0x3004, (3).to_bytes(4, "little") + bytes(4)))
    obs.observe(ev.DmaWrite(0x3002, (1).to_bytes(2, "little")))             # decision due: read avail.flags
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))                 # latched before the read returned
    obs.observe(ev.DmaRead(0x2000, 2, bytes(2)))
    with pytest.raises(Mismatch, match="read only in RUNNING"):
        obs.observe(ev.DmaRead(0x2000, 2, bytes(2)))


def test_r8_12_avail_event_write_issued_before_the_latch_may_complete_after_it():
    obs, mem = running_observer(event_idx=True)
    post_chains(mem, [3])
    avail_event = 0x3000 + 4 + 8 * 8
    obs.observe(ev.DmaWrite(avail_event, bytes(2)))                         # at the scan
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))           # a head taken: avail_event due
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x1F, 0x1))
    obs.observe(ev.DmaWrite(avail_event, (1).to_bytes(2, "little")))
    with pytest.raises(Mismatch, match="only in RUNNING"):
        obs.observe(ev.DmaWrite(avail_event, (1).to_bytes(2, "little")))


def test_r8_11_used_element_may_be_written_in_parts():
    """A used element of a 4-byte aligned ring may straddle 4 KiB, which no AXI burst crosses: the element may come
    as two writes; each byte once, with the element's value."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x1030, 16, mem.read(0x1030, 16)))
    obs.observe(ev.DmaRead(0x8300, 4, mem.read(0x8300, 4)))
    obs.observe(ev.BeRequest(0, 3, 5, 4, 0, mem.read(0x8300, 4)))
    obs.observe(ev.BeCompletion(5, 0))
    with pytest.raises(Mismatch, match="used element id=3"):
        obs.observe(ev.DmaWrite(0x3004, (4).to_bytes(4, "little")))          # a wrong id
    obs.observe(ev.DmaWrite(0x3004, (3).to_bytes(4, "little")))              # id
    with pytest.raises(Mismatch, match="bytes not yet written"):
        obs.observe(ev.DmaWrite(0x3004, (3).to_bytes(4, "little")))          # the same bytes again
    with pytest.raises(Mismatch, match="used.idx"):
        obs.observe(ev.DmaWrite(0x3002, (1).to_bytes(2, "little")))          # the element is not complete yet
    obs.observe(ev.DmaWrite(0x3008, bytes(4)))                               # len = 0
    obs.observe(ev.DmaWrite(0x3002, (1).to_bytes(2, "little")))


def test_s4_7_scatter_of_a_completion_accepted_before_halted_retires():
    """A completion accepted before HALTED whose data packet ends after it: the scatter writes the engine issued
    meanwhile retire (their bytes must still be the packet's); the testbench's bus monitor forbids new ones."""
    obs, mem = running_observer()
    mem.write(0x1000 + 16 * 2, (0x9000).to_bytes(8, "little") + (8).to_bytes(4, "little")
              + c.VIRTQ_DESC_F_WRITE.to_bytes(2, "little") + bytes(2))
    mem.write(0x2004, (2).to_bytes(2, "little"))
    mem.write(0x2002, (1).to_bytes(2, "little"))
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, (2).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x1020, 16, mem.read(0x1020, 16)))
    obs.observe(ev.BeRequest(0, 2, 7, 0, 8))
    obs.observe(ev.FaultInj())                                              # HALTED: tag 7 is void
    obs.observe(ev.BeFlush())
    obs.observe(ev.BeCompletion(7, 8, data=bytes(range(1, 9))))             # its packet ended after the entry
    obs.observe(ev.DmaWrite(0x9000, bytes(range(1, 5))))                     # issued before the entry: retires
    with pytest.raises(Mismatch):
        obs.observe(ev.DmaWrite(0x9004, bytes(4)))                           # not the packet's bytes
    assert obs.state == St.HALTED


def test_r8_11_request_accepted_before_halted_gets_a_void_tag():
    """A request whose handshake came before HALTED and whose be_rd packet ended after it (padded by the engine):
    judged against the chains of that moment, its tag void; a second request has no chain left."""
    obs, mem = running_observer()
    post_chains(mem, [3])
    obs.observe(ev.DmaRead(0x2002, 2, (1).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x2004, 2, (3).to_bytes(2, "little")))
    obs.observe(ev.DmaRead(0x1030, 16, mem.read(0x1030, 16)))
    obs.observe(ev.FaultInj())
    obs.observe(ev.BeFlush())
    with pytest.raises(Mismatch, match="head/rd_len/wr_len"):
        obs.observe(ev.BeRequest(0, 2, 5, 4, 0, bytes(4)))                  # not the chain in flight
    obs.observe(ev.BeRequest(0, 3, 5, 4, 0, bytes(4)))
    assert 5 in obs.core.void_tags
    with pytest.raises(Mismatch, match="oldest walked"):
        obs.observe(ev.BeRequest(0, 3, 6, 4, 0, bytes(4)))
    obs.observe(ev.BeCompletion(5, 0))                                      # answered and dropped
    obs.observe(ev.Intx(True))                                              # the NEEDS_RESET notification
    obs.finish()


def test_sus11_rfc_suspend_before_driver_ok_leaves_no_drain_behind():
    """Mode RFC: SUSPEND before DRIVER_OK is SUSPENDED at once, a resume returns to INIT; the drain is over, so the
    used.idx writes after DRIVER_OK are decided normally (SPEC 4.6: the first one notifies), not counted as drain
    publications."""
    params = Params(SUSPEND_MODE=int(SuspendMode.RFC))
    obs = Observer(params, GuestMem())
    features = c.feature_mask(c.F_VERSION_1, params.F_SUSPEND_BIT)
    for addr, value, strb in [(c.CC_DEVICE_STATUS, 0x03, 0x1), (c.CC_DRIVER_FEATURE, features & 0xFFFF_FFFF, 0xF),
                              (c.CC_DRIVER_FEATURE_SELECT, 1, 0xF), (c.CC_DRIVER_FEATURE, features >> 32, 0xF),
                              (c.CC_DEVICE_STATUS, 0x0B, 0x1), (c.CC_DEVICE_STATUS, 0x1B, 0x1)]:
        obs.observe(ev.RegWrite(addr, value, strb))
    assert obs.state == St.SUSPENDED
    obs.observe(ev.RegWrite(c.CC_DEVICE_STATUS, 0x0B, 0x1))                 # resume to INIT (SUS-11)
    assert obs.observe(ev.RegRead(c.CC_DEVICE_STATUS, 0x0B)) == 0x0B
    assert obs.state == St.INIT and not obs.core.suspend_latched
