"""Split-virtqueue datapath of the standalone model: SPEC 4.5 used-ring ordering, 4.6 notification suppression and
the first-write rule, rule 8.2 avail_event upkeep, rule 8.1 FETCH_AHEAD, rule 8.3 USED_BATCH, rule 8.11 backend
contract (completion order, length errors, error completions, gather/scatter), and rule 8.9 DMA errors on every kind
of access.  Expected values come from SPEC.md; guest-memory traffic is observed with a GuestMem listener."""

import pytest

from helpers import INDIRECT, MODES, NEXT, WRITE, GatedBackend, Rig, feature_set
from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.ring import Descriptor, u16, vring_need_event

pytestmark = pytest.mark.model

V14, RFC = "V14", "RFC"


def one_by_one(rig, q, n, bufs=((8, False), (16, True))):
    """Post, kick and run n chains one at a time (one used.idx write each); returns the Posted list."""
    out = []
    for _ in range(n):
        out.append(rig.post(q, list(bufs), kick=True))
        rig.run()
    return out


def dma_events(rig):
    return [e for e in rig.dev.trace if isinstance(e, (ev.DmaRead, ev.DmaWrite))]


# ------------------------------------------------------------------------------------------------------ SPEC 4.5
@pytest.mark.parametrize("seed", range(4))
def test_s4_5_scatter_then_element_then_used_idx(seed):
    """SPEC 4.5 / rule 8.11: every scatter write of a chain precedes its used element, which precedes the used.idx
    write that publishes it; used.len = bytes written; the read side reads avail.idx before avail.ring and
    descriptors."""
    rig = Rig.running(seed=seed, backend=BackendModel(seed, latency=(0, 6), reorder=True))
    lay = rig.layouts[0]
    posted = [rig.post(0, [(8, False), (5, True), (11, True)]) for _ in range(6)]
    rig.kick(0)
    rig.run()
    writes = [(i, a, d) for i, (k, a, d) in enumerate(rig.log.events) if k == "write"]
    assert rig.used_idx(0) == 6
    by_head = {p.head: p for p in posted}
    idx_writes = [(i, int.from_bytes(d, "little")) for i, a, d in writes if a == lay.used_idx_addr]
    for slot in range(6):
        head, length = rig.used_elem(0, slot)
        assert length == 8  # reference answer: min(rd_len, wr_len) = 8 bytes, all written
        p = by_head[head]
        elem_i = max(i for i, a, d in writes if a == lay.used_elem_addr(slot))
        scatter_i = [i for i, a, d in writes for (ba, bl) in p.writable if ba <= a < ba + bl]
        assert scatter_i and max(scatter_i) < elem_i
        publish_i = min(i for i, v in idx_writes if u16(v - slot) >= 1 and u16(v - slot) <= 6)
        assert elem_i < publish_i
    reads = [a for k, a, d in rig.log.events if k == "read"]
    first_ring = reads.index(lay.avail_ring_addr(0))
    assert lay.avail_idx_addr in reads[:first_ring]
    first_desc = min(i for i, a in enumerate(reads) if lay.desc <= a < lay.desc + lay.desc_bytes)
    assert first_ring < first_desc


# ------------------------------------------------------------------------------------------------------ SPEC 4.6
def test_s4_6_no_event_idx_flags_zero_notifies_every_write():
    """SPEC 4.6 / rule 8.3: without EVENT_IDX, avail.flags = 0 -> every used.idx write notifies (first included)."""
    rig = Rig.running(msix=True, features=feature_set(event_idx=False), queues=(0,))
    one_by_one(rig, 0, 3)
    assert rig.dev.irqs == [0, 0, 0]


def test_s4_6_no_event_idx_no_interrupt_suppresses_even_first():
    """SPEC 4.6: without EVENT_IDX, avail.flags NO_INTERRUPT suppresses every notification; no first-write exception;
    used_event is ignored."""
    rig = Rig.running(msix=True, features=feature_set(event_idx=False), queues=(0,))
    rig.mem.write_u16(rig.layouts[0].avail_flags_addr, c.VIRTQ_AVAIL_F_NO_INTERRUPT)
    rig.mem.write_u16(rig.layouts[0].used_event_addr, 0)
    one_by_one(rig, 0, 3)
    assert rig.dev.irqs == []
    rig.mem.write_u16(rig.layouts[0].avail_flags_addr, 0)
    one_by_one(rig, 0, 1)
    assert rig.dev.irqs == [0]


@pytest.mark.parametrize("used_event", [0, 1, 2, 5, 0xFFFF])
def test_s4_6_event_idx_used_event(used_event):
    """SPEC 4.6 / Q16: with EVENT_IDX the first used.idx write after enable notifies unconditionally; later writes
    notify iff vring_need_event(used_event, new, old); avail.flags bit 0 is ignored."""
    rig = Rig.running(msix=True, queues=(0,))
    lay = rig.layouts[0]
    rig.mem.write_u16(lay.avail_flags_addr, c.VIRTQ_AVAIL_F_NO_INTERRUPT)
    rig.mem.write_u16(lay.used_event_addr, used_event)
    notified = []
    for n in range(1, 6):
        before = len(rig.dev.irqs)
        one_by_one(rig, 0, 1)
        notified.append(len(rig.dev.irqs) > before)
    expected = [True] + [vring_need_event(used_event, new, new - 1) for new in range(2, 6)]
    assert notified == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event_idx", [True, False])
def test_s4_6_first_write_after_resume(mode, event_idx):
    """SPEC 4.6 / Q16: with EVENT_IDX the first used.idx write after resume completion notifies unconditionally, the
    next follows used_event; without EVENT_IDX no exception (avail.flags = NO_INTERRUPT suppresses it)."""
    rig = Rig.running(mode, msix=True, queues=(0,), features=feature_set(event_idx=event_idx))
    lay = rig.layouts[0]
    one_by_one(rig, 0, 2)
    rig.mem.write_u16(lay.used_event_addr, 0x8000)
    rig.mem.write_u16(lay.avail_flags_addr, c.VIRTQ_AVAIL_F_NO_INTERRUPT)
    rig.dev.irqs.clear()
    rig.write_status(0x1F)
    rig.run()
    rig.write_status(0x1F if mode == V14 else 0x0F)
    rig.run()
    one_by_one(rig, 0, 2)
    assert rig.dev.irqs == ([0] if event_idx else [])


def test_s4_6_first_write_after_queue_enable_in_running():
    """SPEC 4.6: the first used.idx write after queue_enable 0->1 (here in RUNNING) notifies unconditionally."""
    rig = Rig.running(msix=True, queues=(0,))
    lay = rig.setup_queue(1, vector=1, used_event=0x8000, enable=False)
    rig.select(1)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    rig.run()
    one_by_one(rig, 1, 2)
    assert rig.dev.irqs == [1]
    assert lay.used_event_addr


def test_s4_6_no_vector_sends_nothing():
    """SPEC 5.1 / 4.6: a decision to notify a queue whose vector is NO_VECTOR sends nothing with MSI-X enabled."""
    rig = Rig.running(msix=True, vectors={0: c.NO_VECTOR})
    one_by_one(rig, 0, 2)
    assert rig.dev.irqs == [] and rig.read_isr() == 0


# ------------------------------------------------------------------------------------------------------ rule 8.2
def _avail_event_writes(rig, q):
    lay = rig.layouts[q]
    return [int.from_bytes(d, "little") for k, a, d in rig.log.events if k == "write" and a == lay.avail_event_addr]


@pytest.mark.parametrize("mode", MODES)
def test_r8_2_avail_event_after_each_burst_and_entry_into_running(mode):
    """R8.2 / B17: with EVENT_IDX avail_event = last_avail_idx is written at the DRIVER_OK entry, after every burst that
    took a head, and at resume completion; each write is followed by an avail.idx re-read; used.flags never written."""
    rig = Rig.init(mode, queues=(0,))
    lay = rig.layouts[0]
    rig.driver_ok()
    rig.run()
    assert _avail_event_writes(rig, 0) == [0]
    for n in range(1, 4):
        rig.post(0, [(4, False), (4, True)], kick=True)
        rig.run()
        assert _avail_event_writes(rig, 0)[-1] == n
        assert rig.avail_event(0) == n
    events = [(k, a) for k, a, _ in rig.log.events]
    for i, (k, a) in enumerate(events):
        if (k, a) == ("write", lay.avail_event_addr):
            assert ("read", lay.avail_idx_addr) in events[i + 1:]
            nxt = [e for e in events[i + 1:] if e[1] in (lay.avail_idx_addr, lay.avail_event_addr)][0]
            assert nxt == ("read", lay.avail_idx_addr)
    count = len(_avail_event_writes(rig, 0))
    rig.write_status(0x1F)
    rig.run()
    assert len(_avail_event_writes(rig, 0)) == count  # none in SUSPENDING / SUSPENDED
    rig.write_status(0x1F if mode == V14 else 0x0F)
    rig.run()
    assert _avail_event_writes(rig, 0)[count:] == [3]  # one at the resume entry
    assert rig.log.touching(lay.used_flags_addr, lay.used_flags_addr + 2) == []


def test_r8_2_burst_of_several_heads_one_avail_event():
    """R8.2: a burst that takes several heads ends with avail_event = last_avail_idx after the last take."""
    rig = Rig.running(queues=(0,), backend=GatedBackend(hold=(0,)))
    for _ in range(3):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.step_until(lambda: rig.requests_issued() == 3)
    rig.run()
    assert rig.avail_event(0) == 3


def test_r8_2_without_event_idx_no_avail_event_no_used_flags():
    """R8.2: without EVENT_IDX neither avail_event nor used.flags is ever written."""
    rig = Rig.running(features=feature_set(event_idx=False), queues=(0,))
    lay = rig.layouts[0]
    one_by_one(rig, 0, 3)
    assert rig.log.touching(lay.avail_event_addr, lay.avail_event_addr + 2) == []
    assert rig.log.touching(lay.used_flags_addr, lay.used_flags_addr + 2) == []


@pytest.mark.parametrize("mode", MODES)
def test_r8_2_no_avail_event_after_fetch_stop(mode):
    """R8.2: avail_event is never written after the fetch stop in SUSPENDING, though heads were taken before it."""
    rig = Rig.running(mode, queues=(0,), backend=GatedBackend(hold=(0,)))
    for _ in range(2):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.step_until(lambda: rig.requests_issued() == 2)
    rig.write_status(0x1F)
    mark = len(rig.log.events)
    rig.dev.backend.hold.clear()
    rig.run()
    lay = rig.layouts[0]
    assert [e for e in rig.log.events[mark:] if e[1] == lay.avail_event_addr] == []


# ------------------------------------------------------------------------------------------------------ rule 8.1
@pytest.mark.parametrize("fetch_ahead", [1, 2, 4])
def test_r8_1_fetch_ahead_bound(fetch_ahead):
    """R8.1 / 8.7: never more than FETCH_AHEAD chains held per queue (backend never answers); the remaining heads are
    not read; once chains complete the queue is served again without a kick."""
    rig = Rig.running(queues=(0,), FETCH_AHEAD=fetch_ahead, backend=GatedBackend(hold=(0,)))
    lay = rig.layouts[0]
    for _ in range(7):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.run()
    assert rig.requests_issued() == fetch_ahead
    assert rig.vq_state(0)[0] == fetch_ahead
    ring_reads = [a for k, a, _ in rig.log.events if k == "read" and lay.avail_ring_addr(0) <= a < lay.used_event_addr]
    assert len(ring_reads) == fetch_ahead
    rig.dev.backend.hold.clear()
    held = []
    while True:
        held.append(rig.in_flight(0))
        if not rig.dev.step() and not rig.dev.backend.pending:
            break
    rig.run()
    assert max(held) <= fetch_ahead
    assert rig.used_idx(0) == 7


def test_r8_1_never_complete_backend_counts_held_chains():
    """R8.1 with BackendModel(never_complete=True): FETCH_AHEAD (default 4) requests, no more avail.ring reads."""
    rig = Rig.running(queues=(0,), backend=BackendModel(never_complete=True))
    for _ in range(9):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.run()
    assert len(rig.dev.backend.pending) == rig.params.FETCH_AHEAD == 4
    rig.kick(0)
    rig.run()
    assert len(rig.dev.backend.pending) == 4


# ------------------------------------------------------------------------------------------------------ rule 8.11
def _completion_order_run(seed):
    """Two queues of 6 chains under a reordering backend: (completion-acceptance order, used order) per queue."""
    rig = Rig.running(seed=seed, record=True, backend=BackendModel(seed, latency=(0, 30), reorder=True))
    for q in (0, 1):
        for _ in range(6):
            rig.post(q, [(4, False), (4, True)])
        rig.kick(q)
    rig.run()
    tag_head, order = {}, {0: [], 1: []}
    for e in rig.dev.trace:
        if isinstance(e, ev.BeRequest):
            tag_head[e.tag] = (e.queue, e.head)
        elif isinstance(e, ev.BeCompletion):
            q, head = tag_head.pop(e.tag)
            order[q].append(head)
    return order, {q: [h for h, _ in rig.used_elems(q)] for q in (0, 1)}


@pytest.mark.parametrize("seed", range(5))
def test_r8_11_used_order_is_completion_acceptance_order(seed):
    """R8.11 / 8.8 / B22: under reordered completions, each queue's used elements follow completion-acceptance order
    (the order of be_cpl handshakes), not request order."""
    order, used = _completion_order_run(seed)
    assert used == order


def test_r8_11_reordering_really_happens():
    """R8.11: the seeds above include runs whose completion order differs from request (ring) order."""
    reordered = [any(o != sorted(o) for o in _completion_order_run(seed)[0].values()) for seed in range(5)]
    assert any(reordered)


class ScriptedBackend(BackendModel):
    """Answers with a scripted (be_cpl_len, data) per request, in arrival order (rule 8.11 length errors)."""

    def __init__(self, script, **kw):
        super().__init__(**kw)
        self.script = list(script)

    def complete(self, pending):
        self.pending.remove(pending)
        length, data = self.script.pop(0)
        return ev.BeCompletion(pending.request.tag, length, data=data)


@pytest.mark.parametrize("length, data, written", [
    (20, bytes(range(20)), 12),        # be_cpl_len above the writable capacity (12)
    (8, bytes(range(5)), 5),           # packet shorter than be_cpl_len
    (4, bytes(range(9)), 4),           # packet longer than be_cpl_len
    (30, bytes(range(7)), 7),          # both: min(len, packet, capacity)
], ids=["over_capacity", "short_packet", "long_packet", "short_and_over"])
def test_r8_11_length_errors(length, data, written):
    """R8.11 / B22: a completion longer than the capacity, or a packet of another length than be_cpl_len: the engine
    writes min(be_cpl_len, packet, capacity) bytes in chain order, used.len = bytes written, the sticky diagnostic is
    raised, and NEEDS_RESET is not set."""
    rig = Rig.running(queues=(0,), backend=ScriptedBackend([(length, data)]))
    p = rig.post(0, [(4, False), (5, True), (7, True)], kick=True)
    rig.run()
    assert rig.used_elems(0) == [(p.head, written)]
    assert rig.dev.core.diag["cpl_len_err"]
    assert rig.state == St.RUNNING and rig.status == 0x0F
    (a0, n0), (a1, n1) = p.writable
    got = rig.mem.read(a0, n0) + rig.mem.read(a1, n1)
    assert got[:written] == data[:written]
    lay = rig.layouts[0]
    scattered = 0
    for a, d in rig.log.writes():
        inside = any(ba <= a and a + len(d) <= ba + bl for ba, bl in p.writable)
        assert inside or lay.used <= a < lay.used + lay.used_bytes, hex(a)
        scattered += len(d) if inside else 0
    assert scattered == written


def test_r8_11_exact_completion_no_diag():
    """R8.11: a completion of exactly be_cpl_len bytes within the capacity raises no diagnostic."""
    rig = Rig.running(queues=(0,), backend=ScriptedBackend([(3, b"xyz")]))
    p = rig.post(0, [(4, False), (5, True)], kick=True)
    rig.run()
    assert rig.used_elems(0) == [(p.head, 3)] and not rig.dev.core.diag["cpl_len_err"]


@pytest.mark.parametrize("mode", MODES)
def test_r8_11_error_completion_needs_reset(mode):
    """R8.11 / 8.9: be_cpl_err = 1 -> NEEDS_RESET + HALTED (0x4F), nothing written or published for that chain, one
    config notification."""
    backend = BackendModel()
    rig = Rig.running(mode, msix=True, queues=(0,), backend=backend)
    p = rig.post(0, [(4, False), (4, True)])
    backend.error_heads.add(p.head)
    before = rig.mem.read(p.writable[0][0], 4)
    rig.log.clear()
    rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    assert rig.dev.irqs == [2]  # the config vector (NUM_QUEUES), once
    assert rig.mem.read(p.writable[0][0], 4) == before and rig.used_idx(0) == 0
    assert all(a == rig.layouts[0].avail_event_addr for a, _ in rig.log.writes())  # no scatter, no used write


def test_r8_11_gather_scatter_odd_addresses_zero_length_mixed_indirect():
    """R8.11 / B22: odd addresses and lengths, a 4 KB crossing, zero-length descriptors and a mixed indirect table:
    the be_rd packet is the readable bytes in chain order, the writable buffers get the be_wr packet in chain order,
    zero-length descriptors cause no DMA, and no byte outside the writable buffers is written."""
    captured = []

    def answer(tag, readable, wr_len):
        captured.append(readable)
        return bytes((0xA0 + i) & 0xFF for i in range(wr_len))

    rig = Rig.running(queues=(0,), backend=BackendModel(answer=answer))
    base = 0x300000
    r0, r1, z0, w0, w1, z1 = base + 0x0FFD, base + 0x2001, base + 0x3000, base + 0x4FFB, base + 0x6003, base + 0x7000
    for addr, n in ((r0, 7), (r1, 3)):
        rig.mem.write(addr, bytes((addr + i) & 0xFF for i in range(n)))
    table = base + 0x8000
    rig.put_table(table, [
        Descriptor(r1, 3, NEXT, 1),
        Descriptor(z0, 0, NEXT | WRITE, 2),
        Descriptor(w0, 9, NEXT | WRITE, 3),
        Descriptor(z1, 0, NEXT | WRITE, 4),
        Descriptor(w1, 2, WRITE, 0),
    ])
    rig.put_desc(0, 0, r0, 7, NEXT, 1)
    rig.put_desc(0, 1, base + 0x9000, 0, NEXT, 2)  # zero-length readable in the direct part
    rig.put_desc(0, 2, table, 5 * 16, INDIRECT | WRITE, 0)  # WRITE on the pointer is ignored (SPEC 4.4)
    rig.publish(0, 0)
    rig.kick(0)
    rig.run()
    want_rd = bytes((r0 + i) & 0xFF for i in range(7)) + bytes((r1 + i) & 0xFF for i in range(3))
    assert captured == [want_rd]
    assert rig.used_elems(0) == [(0, 11)]
    packet = bytes((0xA0 + i) & 0xFF for i in range(11))
    assert rig.mem.read(w0, 9) == packet[:9] and rig.mem.read(w1, 2) == packet[9:]
    for k, a, d in rig.log.events:
        assert not (z0 <= a < z0 + 1 or z1 <= a < z1 + 1 or base + 0x9000 == a)
    lay = rig.layouts[0]
    for a, d in rig.log.writes():
        inside = any(ba <= a and a + len(d) <= ba + bl for ba, bl in ((w0, 9), (w1, 2)))
        assert inside or lay.used <= a < lay.used + lay.used_bytes, hex(a)


# ------------------------------------------------------------------------------------------------------ rule 8.3
def _used_batch_run(seed):
    """USED_BATCH = 3, 8 chains completed together: the rig and the steps of its used.idx writes."""
    rig = Rig.running(queues=(0,), seed=seed, USED_BATCH=3, FETCH_AHEAD=8,
                      backend=GatedBackend(hold=(0,), seed=seed))
    lay = rig.layouts[0]
    for _ in range(8):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.step_until(lambda: rig.requests_issued() == 8)
    rig.dev.backend.hold.clear()
    rig.run()
    values = [int.from_bytes(d, "little") for a, d in rig.log.writes() if a == lay.used_idx_addr]
    return rig, values, [u16(b - a) for a, b in zip([0] + values, values)]


@pytest.mark.parametrize("seed", range(3))
def test_r8_3_used_batch_steps_at_most_3(seed):
    """R8.3: with USED_BATCH = 3, every used.idx write advances by 1 to 3, and every element is published."""
    rig, values, steps = _used_batch_run(seed)
    assert all(1 <= s <= 3 for s in steps) and values[-1] == 8
    rig.write_status(0x1F)
    rig.run()
    assert rig.used_idx(0) == 8 and rig.vq_state(0) == (8, 8)


def test_r8_3_used_batch_really_batches():
    """R8.3: the seeds above include used.idx writes that publish more than one element."""
    assert any(any(s > 1 for s in _used_batch_run(seed)[2]) for seed in range(3))


def test_r8_3_used_batch_flushed_before_suspended():
    """R8.3 / SUS-06: with USED_BATCH = 3, chains completing in the drain are all published before SUSPENDED."""
    rig = Rig.running(queues=(0,), USED_BATCH=3, backend=GatedBackend(hold=(0,)))
    for _ in range(4):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.step_until(lambda: rig.requests_issued() == 4)
    rig.write_status(0x1F)
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.used_idx(0) == 4 and rig.vq_state(0) == (4, 4)


# ------------------------------------------------------------------------------------------------------ rule 8.9
def _dma_case(kind, resp):
    """RUNNING (MSI-X, EVENT_IDX) with one chain already published, then an injected error on `kind`.

    Returns (rig, posted chain that meets the error)."""
    event_idx = kind != "decision"
    rig = Rig.running(msix=True, queues=(0,), record=True, features=feature_set(event_idx=event_idx))
    lay = rig.layouts[0]
    first = rig.post(0, [(8, False), (8, True)], kick=True)
    rig.run()
    assert rig.used_idx(0) == 1
    if kind == "indirect":
        p = rig.post_indirect(0, [(8, False), (8, True)])
        table = rig.mem.read_u64(lay.desc_addr(p.head))
        rig.mem.inject_error(table + 16, 16, resp, on="read")
    else:
        p = rig.post(0, [(8, False), (8, True)])
        target = {
            "avail_idx": (lay.avail_idx_addr, 2, "read"),
            "avail_ring": (lay.avail_ring_addr(1), 2, "read"),
            "descriptor": (lay.desc_addr(p.head), 16, "read"),
            "gather": (p.readable[0][0], 8, "read"),
            "scatter": (p.writable[0][0], 8, "write"),
            "used_elem": (lay.used_elem_addr(1), 8, "write"),
            "used_idx": (lay.used_idx_addr, 2, "write"),
            "avail_event": (lay.avail_event_addr, 2, "write"),
            "decision": (lay.avail_flags_addr, 2, "read"),
        }[kind]
        rig.mem.inject_error(target[0], target[1], resp, on=target[2])
    return rig, first, p


KINDS = ["avail_idx", "avail_ring", "descriptor", "indirect", "gather", "scatter", "used_elem", "used_idx",
         "avail_event", "decision"]


@pytest.mark.parametrize("resp", ["SLVERR", "DECERR"])
@pytest.mark.parametrize("kind", KINDS)
def test_r8_9_dma_error_each_access(kind, resp):
    """R8.9 / B19: an SLVERR or DECERR on each kind of access -> NEEDS_RESET + HALTED (0x4F), be_flush, one config
    notification (DRIVER_OK is shown), no DMA after the error, and data already written stays."""
    rig, first, p = _dma_case(kind, resp)
    irqs = list(rig.dev.irqs)
    rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    assert rig.dev.irqs[len(irqs):] == [2]
    dmas = dma_events(rig)
    bad = [i for i, e in enumerate(dmas) if e.resp != ev.OKAY]
    assert len(bad) == 1 and bad[0] == len(dmas) - 1  # nothing after the failing transaction
    assert any(isinstance(e, ev.BeFlush) for e in rig.dev.trace)
    # Data already written stays: the first chain's element and index; and whatever the second chain wrote.
    assert rig.used_elem(0, 0) == (first.head, 8)
    assert rig.used_idx(0) == (2 if kind == "decision" else 1)  # the decision read follows the used.idx write
    if kind in ("used_idx", "decision"):
        assert rig.used_elem(0, 1) == (p.head, 8)  # element written before the failing index write
        assert rig.mem.read(p.writable[0][0], 8) != bytes(8)


def test_r8_9_address_overflow_caught_by_walk_no_request():
    """R8.9 / B19: a data descriptor whose address + length overflows 2^64 is caught during the walk: no access to
    it, no backend request, NEEDS_RESET + HALTED."""
    rig = Rig.running(queues=(0,), record=True)
    rig.put_desc(0, 0, (1 << 64) - 4, 8, 0, 0)
    rig.publish(0, 0)
    rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    assert not any(isinstance(e, ev.BeRequest) for e in rig.dev.trace)


@pytest.mark.parametrize("mode", MODES)
def test_r8_9_dma_error_in_suspending_sus12(mode):
    """R8.9 / SUS-12: a DMA error during the drain (used.idx write of queue 1) -> 0x4F, the forced notification of
    the marked queue 0, then the config notification; queue 0's published element stays."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0, 1)))
    rig.post(0, [(8, False), (8, True)], kick=True)
    rig.post(1, [(8, False), (8, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 2)
    rig.write_status(0x1F)
    rig.dev.backend.hold = {1}
    rig.step_until(lambda: rig.used_idx(0) == 1)
    rig.mem.inject_error(rig.layouts[1].used_idx_addr, 2, on="write")
    rig.dev.backend.hold = set()
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    assert rig.dev.irqs == [0, 2]
    assert rig.used_idx(0) == 1 and rig.used_idx(1) == 0


# ------------------------------------------------------------------------------------------------------ SPEC 4.8
@pytest.mark.parametrize("mode", MODES)
def test_s4_8_queue_reset_in_running_abandons_only_that_queue(mode):
    """SPEC 4.8 / rule 8.11 / B22: a queue reset in RUNNING abandons that queue's in-flight chain (be_flush, its tag
    void, its later completion dropped with no memory write), returns its per-queue values to reset values, while the
    other queue's completion is still published."""
    rig = Rig.running(mode, record=True, backend=GatedBackend(hold=(0, 1)))
    p0 = rig.post(0, [(8, False), (8, True)], kick=True)
    rig.post(1, [(8, False), (8, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 2)
    flushes = rig.flushes()
    rig.select(0)
    rig.write(c.CC_QUEUE_RESET, 1, 2)
    assert rig.flushes() == flushes + 1
    assert (rig.read(c.CC_QUEUE_RESET, 2), rig.read(c.CC_QUEUE_ENABLE, 2)) == (0, 0)
    assert rig.vq_state(0) == (0, 0)
    before = rig.mem.read(p0.writable[0][0], 8)
    rig.dev.backend.hold.clear()
    rig.run()
    assert rig.mem.read(p0.writable[0][0], 8) == before and rig.used_idx(0) == 0
    assert rig.used_idx(1) == 1 and rig.state == St.RUNNING
    assert not rig.dev.core.diag["cpl_bad_tag"]


def test_r8_11_unknown_tag_dropped_with_diagnostic():
    """R8.11: a completion whose tag is neither live nor void is dropped with its packet and sets the sticky
    diagnostic; it never sets NEEDS_RESET."""
    rig = Rig.running(queues=(0,))
    rig.log.clear()
    rig.dev.core.observe(ev.BeCompletion(tag=50, length=4, data=b"abcd"))
    assert rig.dev.core.diag["cpl_bad_tag"]
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F) and rig.log.events == []
    rig.dev.core.observe(ev.BeCompletion(tag=51, length=0, err=True))
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)


@pytest.mark.parametrize("abandon", ["queue_reset", "device_reset", "failed"])
def test_r8_11_be_rd_packet_after_abandoned_partial_gather(abandon):
    """R8.11: every be_rd packet is exactly the readable bytes of its own chain, also for chains taken after another
    chain was abandoned part-way through its gather (queue reset, device reset, HALTED entry), many times over."""
    rig = Rig.running(queues=(0,), backend=GatedBackend(hold=(0,)))
    for _ in range(300):
        rig.dev.backend.hold = {0}
        rig.post(0, [(8, False), (8, False), (8, True)], kick=True)
        rig.step_until(lambda: any(f.gathered == 1 for f in rig.dev.core.queues[0].flights))
        if abandon == "queue_reset":
            rig.select(0)
            rig.write(c.CC_QUEUE_RESET, 1, 2)
            rig.setup_queue(0)
        else:
            rig.write_status(0x8F if abandon == "failed" else 0)
            rig.negotiate()
            rig.setup_queue(0)
            rig.driver_ok()
        p = rig.post(0, [(8, False), (8, False), (8, True)], kick=True)
        rig.dev.backend.hold = set()
        rig.run()  # the core checks each be_rd packet against the chain's readable bytes (rule 8.11)
        assert rig.used_elems(0)[-1] == (p.head, 8)
