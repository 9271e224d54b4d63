"""SUS-01 .. SUS-25 (SPEC chapter 1), one or more tests per rule, on the standalone model Device (SUS-21's pending
decision is driven through DeviceCore.observe with hand-written events).

Expected values are derived from the SPEC text; the helpers (tests/model/helpers.py) only build the starting states.
"""

import pytest

from helpers import (ACK, DRIVER, DRIVER_OK, FEATURES_OK, MODES, NEEDS_RESET, NEXT, QUEUE_BASES, SUSPEND, WRITE,
                     GatedBackend, Rig, feature_set, queue_reset_values, reset_values, sid)
from virtio_golden import constants as c
from virtio_golden import events as ev
from virtio_golden.constants import EngineState as St
from virtio_golden.core import DeviceCore, Mismatch
from virtio_golden.memory import GuestMem
from virtio_golden.params import Params
from virtio_golden.ring import Descriptor, RingLayout

pytestmark = pytest.mark.model

V14, RFC = "V14", "RFC"
SUSPENDED_P = {V14: 0x1B, RFC: 0x1F}


def suspend_write(rig):
    rig.write_status(ACK | DRIVER | FEATURES_OK | DRIVER_OK | SUSPEND)


def resume_write(rig, mode):
    """V14: set DRIVER_OK (S | 0x04 = 0x1F); RFC: the 2024 prototype's clear (0x0F)."""
    rig.write_status(0x1F if mode == V14 else 0x0F)


def drained_with_held_chains(mode, chains=1, queues=(0, 1), **kw):
    """SUSPENDING with `chains` chains per queue held by a GatedBackend (release with rig.dev.backend.hold)."""
    rig = Rig.running(mode, backend=GatedBackend(hold=queues), queues=queues, **kw)
    posted = {q: [rig.post(q, [(8, False), (16, True)]) for _ in range(chains)] for q in queues}
    for q in queues:
        rig.kick(q)
    rig.step_until(lambda: rig.requests_issued() == chains * len(queues))
    suspend_write(rig)
    assert rig.state == St.SUSPENDING
    return rig, posted


# ------------------------------------------------------------------------------------------------------- SUS-01
@pytest.mark.parametrize("mode", MODES)
def test_sus01_suspend_is_bit4_and_bit5_never_set(mode):
    """SUS-01: SUSPEND is 0x10; bit 5 (0x20) is never set by the device and ignored on writes, in every state."""
    assert c.S_SUSPEND == 0x10
    rig = Rig.running(mode)
    rig.write_status(0x2F)
    assert rig.status == 0x0F
    rig.write_status(0x3F)
    rig.run()
    assert rig.status == SUSPENDED_P[mode] and rig.status & 0x10
    rig.write_status(0x3B)
    assert not rig.status & 0x20
    resume_write(rig, mode)
    rig.run()
    assert rig.status == 0x0F


# ------------------------------------------------------------------------------------------------------- SUS-02
def test_sus02_default_offers_bit_43():
    """SUS-02 / SPEC 3.3: VIRTIO_F_SUSPEND is bit 43 by default: device_feature select 1 shows bit 11."""
    rig = Rig()
    rig.write(c.CC_DEVICE_FEATURE_SELECT, 1)
    assert rig.read(c.CC_DEVICE_FEATURE) >> (43 - 32) & 1 == 1
    assert rig.read(c.CC_DEVICE_FEATURE) >> (42 - 32) & 1 == 0


@pytest.mark.parametrize("mode", MODES)
def test_sus02_f_suspend_bit_parameter_42(mode):
    """SUS-02: with F_SUSPEND_BIT = 42 (prototype tests), negotiating bit 42 makes SUSPEND eligible."""
    feats42 = c.feature_mask(c.F_VERSION_1, 42, c.F_EVENT_IDX, c.F_INDIRECT_DESC, c.F_RING_RESET)
    rig = Rig.running(mode, features=feature_set(suspend_bit=42), F_SUSPEND_BIT=42, DEVICE_FEATURES=feats42)
    suspend_write(rig)
    rig.run()
    assert (rig.state, rig.status) == (St.SUSPENDED, SUSPENDED_P[mode])


@pytest.mark.parametrize("mode", MODES)
def test_sus02_bit_43_not_suspend_when_parameter_is_42(mode):
    """SUS-02: with F_SUSPEND_BIT = 42, bit 43 is not offered: accepting it is refused at FEATURES_OK (SPEC 3.3)."""
    feats42 = c.feature_mask(c.F_VERSION_1, 42)
    rig = Rig(mode, F_SUSPEND_BIT=42, DEVICE_FEATURES=feats42)
    rig.negotiate(feature_set(event_idx=False, indirect=False, ring_reset=False, suspend_bit=43), features_ok=False)
    rig.write_status(0x0B)
    assert rig.status == 0x03


# ------------------------------------------------------------------------------------------------------- SUS-03
def test_sus03_v14_ignores_suspend_before_driver_ok():
    """SUS-03 / B2: mode V14 ignores SUSPEND before DRIVER_OK: bit 4 never reads back, engine stays INIT."""
    rig = Rig.init(V14)
    rig.write_status(0x1B)
    assert (rig.state, rig.status) == (St.INIT, 0x0B)
    rig.write_status(0x1F)  # eligibility judged on P before the write: DRIVER_OK merged, SUSPEND dropped
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)


def test_sus03_rfc_honours_suspend_at_features_ok_with_empty_drain():
    """SUS-03 / B2: RFC with FEATURES_OK: 0x0B, W=0x1B -> 0x1B in the same update with no bus transaction; then
    W=0x1F -> RESUMING -> 0x0F, RUNNING, and the scan reads avail.idx."""
    rig = Rig.init(RFC)
    rig.log.clear()
    rig.write_status(0x1B)
    assert (rig.state, rig.status) == (St.SUSPENDED, 0x1B)
    assert not rig.dev.core.quiesce
    rig.run()
    assert rig.log.events == []
    rig.write_status(0x1F)
    assert (rig.state, rig.status) == (St.RESUMING, 0x1B)
    rig.run()
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)
    assert any(a == rig.layouts[0].avail_idx_addr for a, _ in rig.log.reads())


def test_sus03_rfc_combined_write_0x1f_from_init_suspends_with_driver_ok():
    """SUS-03: RFC, 0x0B, W=0x1F merges DRIVER_OK first: suspended with DRIVER_OK=1, shows 0x1F; no scan."""
    rig = Rig.init(RFC)
    rig.log.clear()
    rig.write_status(0x1F)
    assert (rig.state, rig.status) == (St.SUSPENDED, 0x1F)
    rig.run()
    assert rig.log.events == []
    rig.write_status(0x0F)
    rig.run()
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)


@pytest.mark.parametrize("mode", MODES)
def test_sus03_ignored_without_features_ok(mode):
    """SUS-03 / B2: with FEATURES_OK=0 both modes ignore SUSPEND (bit 4 dropped, rest merged)."""
    rig = Rig.init(mode, features_ok=False)
    rig.write_status(0x13)
    assert (rig.state, rig.status) == (St.INIT, 0x03)


@pytest.mark.parametrize("mode", MODES)
def test_sus03_ignored_when_not_negotiated(mode):
    """SUS-03: F_SUSPEND not accepted -> the request does not count, in RUNNING (and in INIT for RFC)."""
    rig = Rig.running(mode, features=feature_set(suspend=False))
    suspend_write(rig)
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)
    rig = Rig.init(mode, features=feature_set(suspend=False))
    rig.write_status(0x1B)
    assert (rig.state, rig.status) == (St.INIT, 0x0B)


@pytest.mark.parametrize("mode", MODES)
def test_sus03_no_effect_in_halted(mode):
    """SUS-03 / SUS-15: a request while FAILED or NEEDS_RESET is set has no effect."""
    for via, shown in (("failed", 0x8F), ("fault", 0x4F)):
        rig = Rig.halted(mode, via=via)
        suspend_write(rig)
        rig.run()
        assert (rig.state, rig.status) == (St.HALTED, shown)


# ------------------------------------------------------------------------------------------------------- SUS-04
@pytest.mark.parametrize("mode", MODES)
def test_sus04_presented_value_during_drain_then_single_flip(mode):
    """SUS-04: while draining P stays as the request left it (0x0F); on completion it flips in one update to the
    mode's suspended encoding (V14 0x1B, RFC 0x1F): no read ever shows anything in between."""
    rig, _ = drained_with_held_chains(mode, chains=2, msix=True)
    rig.dev.backend.hold.clear()
    seen = []
    while rig.state == St.SUSPENDING:
        seen.append(rig.status)
        rig.dev.step()
    seen.append(rig.status)
    assert set(seen[:-1]) == {0x0F}
    assert seen[-1] == SUSPENDED_P[mode]
    assert rig.dev.irqs == [0, 1]  # SUS-05 (d): the forced notifications were sent before the flip


@pytest.mark.parametrize("mode", MODES)
def test_sus05_be_quiesce_high_exactly_in_suspending(mode):
    """SUS-05 / rule 8.11 / B3: be_quiesce rises at the latch and falls at the flip; it stays low through
    SUSPENDED, RESUMING and RUNNING; an RFC suspend from INIT (empty drain) never raises it."""
    rig, _ = drained_with_held_chains(mode, record=True)
    levels = lambda: [e.level for e in rig.dev.trace if isinstance(e, ev.Quiesce)]
    assert levels() == [True]
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert levels() == [True, False]
    resume_write(rig, mode)
    rig.run()
    assert levels() == [True, False]
    if mode == RFC:
        rig = Rig.init(RFC, record=True)
        rig.write_status(0x1B)
        assert rig.state == St.SUSPENDED and levels() == []


# ------------------------------------------------------------------------------------------------------- SUS-05
@pytest.mark.parametrize("mode", MODES)
def test_sus05a_no_avail_access_after_request(mode):
    """SUS-05 (a) / B4: after the request no avail.idx, avail.ring, avail.flags/used_event read and no avail_event
    write; FETCH_AHEAD chains drain; available-but-untaken entries stay and are processed after resume."""
    rig = Rig.running(mode, backend=GatedBackend(hold=(0,)), queues=(0,))
    for _ in range(6):
        rig.post(0, [(8, False), (16, True)])
    rig.kick(0)
    fa = rig.params.FETCH_AHEAD
    rig.step_until(lambda: rig.requests_issued() == fa)
    suspend_write(rig)
    rig.log.clear()
    lay = rig.layouts[0]
    rig.kick(0)
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.log.touching(lay.avail, lay.avail + lay.avail_bytes) == []
    assert rig.log.touching(lay.avail_event_addr, lay.avail_event_addr + 2) == []
    assert rig.used_idx(0) == fa
    assert rig.vq_state(0) == (fa, fa)
    resume_write(rig, mode)
    rig.run()
    assert rig.used_idx(0) == 6


@pytest.mark.parametrize("mode", MODES)
def test_sus05b_in_flight_chains_published_before_flip(mode):
    """SUS-05 (b) / B3: 3 chains in flight are all published (element, then used.idx) before the status flips, while
    P still shows 0x0F; be_quiesce is high during the drain and low in SUSPENDED."""
    rig, posted = drained_with_held_chains(mode, chains=3, queues=(0,))
    lay = rig.layouts[0]
    at_write = []
    rig.mem.listeners.append(lambda kind, addr, data: at_write.append((addr, rig.dev.presented, rig.state))
                             if kind == "write" and addr == lay.used_idx_addr else None)
    assert rig.dev.core.quiesce
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert [p for _, p, _ in at_write] == [0x0F] * 3
    assert all(s == St.SUSPENDING for _, _, s in at_write)
    assert sorted(h for h, _ in rig.used_elems(0)) == sorted(p.head for p in posted[0])
    assert not rig.dev.core.quiesce


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event_idx", [False, True])
def test_sus05d_one_forced_notification_per_marked_queue(mode, event_idx):
    """SUS-05 (d) / SUS-21 / B3: no per-write decision during the drain (avail.flags / used_event never read); exactly
    one forced notification per queue that published since the request, ignoring suppression; none for a queue that
    published nothing."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0, 1)),
                      features=feature_set(event_idx=event_idx))
    lay0 = rig.layouts[0]
    rig.mem.write_u16(lay0.avail_flags_addr, c.VIRTQ_AVAIL_F_NO_INTERRUPT)  # suppression would say "no"
    rig.mem.write_u16(lay0.used_event_addr, 0x8000)
    for _ in range(3):
        rig.post(0, [(8, False), (16, True)])
    rig.kick(0)
    rig.step_until(lambda: rig.requests_issued() == 3)
    suspend_write(rig)
    rig.log.clear()
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.used_idx(0) == 3
    assert rig.log.touching(lay0.avail_flags_addr, lay0.avail_flags_addr + 2) == []
    assert rig.log.touching(lay0.used_event_addr, lay0.used_event_addr + 2) == []
    assert rig.dev.irqs == [0]  # queue 1 (vector 1) published nothing


@pytest.mark.parametrize("mode", MODES)
def test_sus05d_no_vector_with_msix_sends_nothing(mode):
    """SUS-05 (d) / SUS-21 / B3: with MSI-X enabled, a marked queue whose vector is NO_VECTOR gets nothing."""
    rig = Rig.running(mode, msix=True, vectors={0: c.NO_VECTOR, 1: 1}, backend=GatedBackend(hold=(0, 1)))
    for q in (0, 1):
        rig.post(q, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 2)
    suspend_write(rig)
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.used_idx(0) == 1 and rig.used_idx(1) == 1
    assert rig.dev.irqs == [1]
    assert rig.read_isr() == 0  # ISR bit 0 is not set with MSI-X (SPEC 5.1)


@pytest.mark.parametrize("mode", MODES)
def test_sus05d_forced_notification_without_msix_sets_isr(mode):
    """SUS-21 / SPEC 5.1: with MSI-X disabled the forced notification sets ISR bit 0 and INTx."""
    rig, _ = drained_with_held_chains(mode, queues=(0,))
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.dev.intx
    assert rig.read_isr() == c.ISR_QUEUE


@pytest.mark.parametrize("mode", MODES)
def test_sus05_idle_drain_sends_nothing(mode):
    """SUS-21: an idle drain (nothing published) sends no used-buffer notification and no DMA at all."""
    rig = Rig.running(mode, msix=True)
    rig.log.clear()
    suspend_write(rig)
    rig.run()
    assert rig.state == St.SUSPENDED
    assert rig.dev.irqs == [] and rig.log.events == []


@pytest.mark.parametrize("mode", MODES)
def test_sus05_config_change_during_drain_notified(mode):
    """SUS-05 / SUS-08: during SUSPENDING a device-side config change is applied and notified normally."""
    rig, _ = drained_with_held_chains(mode, msix=True)
    rig.dev.devcfg_write(0, 0x55)
    assert rig.dev.irqs == [2]
    assert rig.read(c.BAR_DEVICE_CFG) == 0x55


# ------------------------------------------------------------------------------------------------------- SUS-06
@pytest.mark.parametrize("mode", MODES)
def test_sus06_last_avail_equals_shadow_used_at_suspended(mode):
    """SUS-06: at SUSPENDED last_avail_idx == shadow_used_idx for every enabled queue (no state written)."""
    rig, posted = drained_with_held_chains(mode, chains=2)
    for q in (0, 1):
        rig.post(q, [(4, False)])  # available, not taken: not in flight
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    for q in (0, 1):
        avail, used = rig.vq_state(q)
        assert avail == used == 2
        assert rig.used_idx(q) == 2


@pytest.mark.parametrize("mode", MODES)
def test_sus06_difference_preserved_after_state_write(mode):
    """SUS-06: with a written state avail != used, (u16)(last_avail - shadow_used) at SUSPENDED equals its value
    right after the write, because every chain taken since then is used exactly once."""
    rig = Rig.init(mode, queues=())
    rig.setup_queue(0, enable=False)
    rig.select(0)
    rig.write(c.CC_QUEUE_AVAIL_STATE, 5, 2)
    rig.write(c.CC_QUEUE_USED_STATE, 3, 2)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    rig.set_avail_idx(0, 5)
    rig.driver_ok()
    rig.run()
    for _ in range(3):
        rig.post(0, [(4, False), (4, True)], kick=True)
    rig.run()
    suspend_write(rig)
    rig.run()
    avail, used = rig.vq_state(0)
    assert (avail, used) == (8, 6) and (avail - used) & 0xFFFF == 2


# ------------------------------------------------------------------------------------------------------- SUS-07
@pytest.mark.parametrize("mode", MODES)
def test_sus07_no_dma_no_interrupt_while_suspended(mode):
    """SUS-07 / SUS-25: in SUSPENDED zero DMA reads or writes and zero interrupts, whatever the driver and the
    device side do; register reads stay functional."""
    rig = Rig.suspended(mode, msix=True)
    rig.log.clear()
    irqs = list(rig.dev.irqs)
    for q in (0, 1):
        rig.post(q, [(8, False), (8, True)])
        rig.kick(q)
    rig.dev.devcfg_write(0, 0x77)
    for _ in range(200):
        rig.dev.step()
    assert rig.log.events == []
    assert rig.dev.irqs == irqs and rig.read_isr() == 0
    assert rig.status == SUSPENDED_P[mode]
    assert rig.read(c.CC_NUM_QUEUES, 2) == 2
    assert not rig.dev.core.quiesce


# ------------------------------------------------------------------------------------------------------- SUS-08
@pytest.mark.parametrize("mode", MODES)
def test_sus08_config_change_latched_coalesced_one_notification_at_resume(mode):
    """SUS-08 / B6: changes while SUSPENDED are latched (registers unchanged, no irq, generation unchanged), coalesce
    (latest values win), give exactly one notification at resume, and the first device-config read after it shows a
    changed generation."""
    rig = Rig.suspended(mode, msix=True)
    gen0 = rig.read(c.CC_CONFIG_GENERATION, 1)
    old = rig.read(c.BAR_DEVICE_CFG)
    rig.dev.devcfg_write(0, 0x11)
    rig.dev.devcfg_write(0, 0x22)
    rig.dev.devcfg_write(4, 0x33)
    assert rig.read(c.BAR_DEVICE_CFG) == old
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == gen0
    assert rig.dev.irqs == [] and rig.read_isr() == 0
    resume_write(rig, mode)
    rig.dev.devcfg_write(0, 0x44)  # RESUMING: latched as well; the latest value wins
    assert rig.dev.irqs == []
    rig.step_until(lambda: rig.state == St.RUNNING)
    assert rig.dev.irqs == [2]
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == gen0  # resume itself does not change the generation
    assert rig.read(c.BAR_DEVICE_CFG) == 0x44
    assert rig.read(c.BAR_DEVICE_CFG + 4) == 0x33
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == (gen0 + 1) & 0xFF
    rig.read(c.BAR_DEVICE_CFG)
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == (gen0 + 1) & 0xFF  # only the first read counts


@pytest.mark.parametrize("mode", MODES)
def test_sus08_change_in_suspending_applied_and_first_read_in_suspended(mode):
    """SUS-08 / B6: a change during SUSPENDING is applied and notified at once; a first read of it in SUSPENDED
    shows a changed generation (SPEC 2.6)."""
    rig, _ = drained_with_held_chains(mode, queues=(0,))
    gen0 = rig.read(c.CC_CONFIG_GENERATION, 1)
    rig.dev.devcfg_write(0, 0x99)
    assert rig.read_isr() & c.ISR_CONFIG
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.read(c.BAR_DEVICE_CFG) == 0x99
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == (gen0 + 1) & 0xFF


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["SUSPENDED", "HALTED"])
def test_sus08_pending_change_applied_silently_at_reset(mode, where):
    """SUS-08 / B6 / rule 8.5: a change latched while suspended (or in HALTED) and followed by a reset is applied
    silently; the first device-config read after the reset shows a changed generation."""
    rig = Rig.suspended(mode, msix=True) if where == "SUSPENDED" else Rig.halted(mode, msix=True)
    irqs = list(rig.dev.irqs)
    rig.dev.devcfg_write(0, 0xC0DE)
    rig.write_status(0)
    assert rig.dev.irqs == irqs and rig.read_isr() == 0
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 0
    assert rig.read(c.BAR_DEVICE_CFG) == 0xC0DE
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 1
    assert rig.dev.core.cfg_pending == {}


# ------------------------------------------------------------------------------------------------------- SUS-09
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.SUSPENDING, St.SUSPENDED, St.RESUMING, St.HALTED], ids=sid)
def test_sus09_driver_devcfg_writes_dropped(mode, state):
    """SUS-09 / rule 8.10: driver writes to the device-specific configuration are dropped in SUSPENDING,
    SUSPENDED, RESUMING and HALTED (word 2 is driver-writable in RUNNING)."""
    rig = Rig.in_state(state, mode)
    before = rig.read(c.BAR_DEVICE_CFG + 8)
    rig.write(c.BAR_DEVICE_CFG + 8, 0xDEADBEEF)
    assert rig.read(c.BAR_DEVICE_CFG + 8) == before == 0


@pytest.mark.parametrize("mode", MODES)
def test_sus09_driver_devcfg_writes_accepted_in_running(mode):
    """SUS-09 contrast (rule 8.6): device-specific configuration writes are accepted in RUNNING (words 2-3)."""
    rig = Rig.running(mode)
    rig.write(c.BAR_DEVICE_CFG + 8, 0xDEADBEEF)
    assert rig.read(c.BAR_DEVICE_CFG + 8) == 0xDEADBEEF


# ------------------------------------------------------------------------------------------------------- SUS-10
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.SUSPENDING, St.SUSPENDED, St.RESUMING], ids=sid)
def test_sus10_kick_latched_no_dma_then_scan_at_resume(mode, state):
    """SUS-10 / B5: a kick while SUSPENDING, SUSPENDED or RESUMING sets kick_pending and causes no DMA; the chain is
    processed after resume."""
    if state == St.SUSPENDING:
        rig, _ = drained_with_held_chains(mode, queues=(0,))
    else:
        rig = Rig.in_state(state, mode, queues=(0,))
    lay = rig.layouts[0]
    p = rig.post(0, [(4, False), (4, True)])
    rig.log.clear()
    rig.kick(0)
    assert rig.dev.core.queues[0].kick_pending
    assert rig.log.touching(lay.avail, lay.avail + lay.avail_bytes) == []
    if state == St.SUSPENDING:
        rig.dev.backend.hold.clear()
        rig.step_until(lambda: rig.state == St.SUSPENDED)
        assert rig.log.touching(lay.avail, lay.avail + lay.avail_bytes) == []
    if rig.state == St.SUSPENDED:
        resume_write(rig, mode)
    rig.run()
    assert rig.state == St.RUNNING
    assert p.head in [h for h, _ in rig.used_elems(0)]


@pytest.mark.parametrize("mode", MODES)
def test_sus10_scan_at_resume_without_kick(mode):
    """SUS-10: resume completion scans every enabled queue regardless of kicks."""
    rig = Rig.suspended(mode)
    posted = [rig.post(q, [(4, False), (4, True)]) for q in (0, 1)]
    resume_write(rig, mode)
    rig.run()
    for p in posted:
        assert rig.used_elems(p.queue) == [(p.head, 4)]


@pytest.mark.parametrize("mode", MODES)
def test_sus10_scan_at_driver_ok_without_kick(mode):
    """SUS-10 / rule 8.7: DRIVER_OK accepted in INIT is an entry into RUNNING: chains made available before it are
    processed without a kick."""
    rig = Rig.init(mode)
    p = rig.post(0, [(4, False), (4, True)])
    rig.driver_ok()
    rig.run()
    assert rig.used_elems(0) == [(p.head, 4)]


# ------------------------------------------------------------------------------------------------------- SUS-11
def test_sus11_v14_resume_by_setting_driver_ok():
    """SUS-11 V14: in SUSPENDED a write with DRIVER_OK=1 and FAILED=0 starts RESUMING; the register shows 0x1B until
    completion, then SUSPEND=0 DRIVER_OK=1 (0x0F); a write with DRIVER_OK=0 does not resume."""
    rig = Rig.suspended(V14)
    rig.write_status(0x0B)
    rig.write_status(0x13)
    assert rig.state == St.SUSPENDED
    rig.write_status(0x1F)
    assert (rig.state, rig.status) == (St.RESUMING, 0x1B)
    rig.step_until(lambda: rig.state == St.RUNNING)
    assert rig.status == 0x0F


@pytest.mark.parametrize("w", [0x0F, 0x1F, 0x5F])
def test_sus11_rfc_resume_on_any_driver_ok_write(w):
    """SUS-11 RFC: in SUSPENDED (0x1F) any non-zero write with DRIVER_OK=1 and FAILED=0 resumes, whatever its
    SUSPEND bit; the register keeps 0x1F until completion, then 0x0F."""
    rig = Rig.suspended(RFC)
    rig.write_status(w)
    assert (rig.state, rig.status) == (St.RESUMING, 0x1F)
    rig.step_until(lambda: rig.state == St.RUNNING)
    assert rig.status == 0x0F


def test_sus11_rfc_prototype_before_driver_ok_back_to_init_then_running():
    """SUS-11 / B13: RFC suspend before DRIVER_OK (W=0x1B -> 0x1B), resume with W=0x0B -> INIT 0x0B (no scan); a
    later W=0x0F reaches RUNNING with a scan."""
    rig = Rig.suspended(RFC, before_driver_ok=True)
    p = rig.post(0, [(4, False), (4, True)])
    rig.write_status(0x0B)
    rig.run()
    assert (rig.state, rig.status) == (St.INIT, 0x0B)
    assert rig.log.events == []
    rig.write_status(0x0F)
    rig.run()
    assert (rig.state, rig.status) == (St.RUNNING, 0x0F)
    assert rig.used_elems(0) == [(p.head, 4)]


@pytest.mark.parametrize("mode", MODES)
def test_sus11_resume_loads_nothing_and_is_an_entry_into_running(mode):
    """SUS-11 / SUS-19 / rule 8.2: resuming leaves the vq counters unchanged; completion writes avail_event (EVENT_IDX)
    before the first avail.idx read of each queue."""
    rig = Rig.running(mode, queues=(0,))
    for _ in range(3):
        rig.post(0, [(4, False), (4, True)], kick=True)
    rig.run()
    suspend_write(rig)
    rig.run()
    state = rig.vq_state(0)
    assert state == (3, 3)
    resume_write(rig, mode)
    rig.log.clear()
    rig.run()
    lay = rig.layouts[0]
    assert rig.vq_state(0) == state
    kinds = [(k, a) for k, a, _ in rig.log.events]
    assert kinds[0] == ("write", lay.avail_event_addr)
    assert kinds[1] == ("read", lay.avail_idx_addr)
    assert rig.avail_event(0) == 3


# ------------------------------------------------------------------------------------------------------- SUS-12
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", [St.SUSPENDED, St.RESUMING], ids=sid)
def test_sus12_resume_failure(mode, where):
    """SUS-12 / B15: fault_inj in SUSPENDED or RESUMING: V14 0x5B with no interrupt, RFC 0x5F with exactly one
    config interrupt; a later resume write has no effect."""
    rig = Rig.in_state(where, mode, msix=True)
    rig.dev.fault_inj()
    assert rig.state == St.HALTED
    assert rig.status == {V14: 0x5B, RFC: 0x5F}[mode]
    assert rig.dev.irqs == ({V14: [], RFC: [2]}[mode])
    resume_write(rig, mode)
    rig.run()
    assert rig.state == St.HALTED and rig.dev.irqs == ({V14: [], RFC: [2]}[mode])


@pytest.mark.parametrize("mode", MODES)
def test_sus12_drain_failure_forced_notifications_then_config(mode):
    """SUS-12 / B9: a failure in SUSPENDING -> 0x4F (SUSPEND never visible), one forced notification per marked
    queue, then the config interrupt; HALTED."""
    rig, _ = drained_with_held_chains(mode, msix=True)
    rig.dev.backend.hold = {1}
    rig.step_until(lambda: rig.used_idx(0) == 1)
    rig.dev.fault_inj()
    assert (rig.state, rig.status) == (St.HALTED, 0x4F)
    assert rig.dev.irqs == [0, 2]
    rig.run()
    assert rig.status == 0x4F and rig.used_idx(1) == 0


@pytest.mark.parametrize("mode", MODES)
def test_sus12_drain_failure_without_msix_isr_bits(mode):
    """SUS-12 with MSI-X disabled: the forced notification sets ISR bit 0, the config notification bit 1."""
    rig, _ = drained_with_held_chains(mode)
    rig.dev.backend.hold = {1}
    rig.step_until(lambda: rig.used_idx(0) == 1)
    assert rig.read_isr() == 0
    rig.dev.fault_inj()
    assert rig.read_isr() == c.ISR_QUEUE | c.ISR_CONFIG


# ------------------------------------------------------------------------------------------------------- SUS-13
ALL_STATES = [St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING, St.HALTED]


def _dirty(rig):
    """Leave non-reset values in every register and latch the driver can reach."""
    rig.write(c.CC_DEVICE_FEATURE_SELECT, 1)
    rig.write(c.CC_DRIVER_FEATURE_SELECT, 1)
    rig.select(1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", ALL_STATES, ids=sid)
def test_sus13_reset_from_every_state_gives_rule_8_5_values(mode, state):
    """SUS-13 / B8 / rule 8.5: a write of 0 is honoured in every state; the first read returns 0, and every register
    and latch has its reset value: status, selectors, features, vectors, ISR/INTx, generation, cfg_dirty, per queue
    size = max, enable/reset 0, addresses 0, vq state 0, kick_pending 0."""
    rig = Rig.in_state(state, mode, record=True)
    rig.dev.devcfg_write(0, 0x1)  # makes cfg_dirty (or a pending change) where the state allows
    for q in (0, 1):
        rig.kick(q)
    _dirty(rig)
    flushes = rig.flushes()
    rig.write_status(0)
    assert rig.flushes() == flushes + 1  # be_flush pulsed at the reset
    assert rig.state == St.INIT and rig.status == 0
    assert not rig.dev.intx
    assert rig.dev.core.isr.value == 0
    got = rig.common()
    want = reset_values(rig.params)
    assert {k: got[k] for k in want} == want
    for q in range(rig.params.NUM_QUEUES):
        assert rig.queue_fields(q) == queue_reset_values(rig.params, q)
        core_q = rig.dev.core.queues[q]
        assert not core_q.kick_pending and not core_q.first_write and not core_q.flights
        assert not core_q.reset_latched and not core_q.marked
    assert not rig.dev.core.quiesce and not rig.dev.core.cfg_pending
    # cfg_dirty is 1 after the reset only if a latched change was applied by it (rule 8.5, SPEC 2.6).
    latched = state in (St.SUSPENDED, St.RESUMING, St.HALTED)
    rig.read(c.BAR_DEVICE_CFG)
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == (1 if latched else 0)
    rig.log.clear()
    rig.run()
    assert rig.log.events == []  # after reset the device touches no queue until re-initialized (SPEC 2.2)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.RUNNING, St.SUSPENDING], ids=sid)
def test_sus13_void_tags_completions_dropped(mode, state):
    """SUS-13 / B8 / rule 8.11: in-flight work is abandoned at a reset (no used writes, no notification); be_flush
    makes every tag void; the backend's later answers for them are dropped with no memory write; void tags are not
    reissued while owed."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0, 1)), record=True)
    for q in (0, 1):
        rig.post(q, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 2)
    old_tags = {p.request.tag for p in rig.dev.backend.pending}
    if state == St.SUSPENDING:
        suspend_write(rig)
    rig.write_status(0)
    assert rig.dev.core.void_tags == old_tags
    # Re-initialize and post a new chain while the void tags are still owed: a fresh tag is used.
    rig.negotiate()
    for q in (0, 1):
        rig.setup_queue(q)
    rig.driver_ok()
    rig.dev.backend.hold = {0, 1}
    rig.post(0, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 3)
    new_tag = [p.request.tag for p in rig.dev.backend.pending if p.request.tag not in old_tags]
    assert len(new_tag) == 1
    rig.log.clear()
    irqs = list(rig.dev.irqs)
    rig.dev.backend.hold = {0}  # answer only queue 1: its request is void
    rig.run()
    assert rig.log.writes() == [] and rig.dev.irqs == irqs
    assert not rig.dev.core.diag["cpl_bad_tag"]
    rig.dev.backend.hold = set()
    rig.run()
    assert rig.used_idx(0) == 1 and not rig.dev.core.void_tags


@pytest.mark.parametrize("mode", MODES)
def test_sus13_reset_aborts_drain_without_forced_notification(mode):
    """SUS-13 / SUS-21: a drain aborted by a reset sends no forced notification, even for a marked queue."""
    rig, _ = drained_with_held_chains(mode, msix=True)
    rig.dev.backend.hold = {1}
    rig.step_until(lambda: rig.used_idx(0) == 1)  # queue 0 marked
    rig.write_status(0)
    rig.run()
    assert rig.dev.irqs == [] and rig.read_isr() == 0


# ------------------------------------------------------------------------------------------------------- SUS-14
@pytest.mark.parametrize("w, resumes, halted", [
    (0x9B, False, True), (0x9F, False, True), (0x1F, True, False), (0x0F, True, False), (0x5F, True, False),
    (0x1B, False, False), (0x10, False, False), (0x5B, False, False), (0x3B, False, False), (0x0B, False, False),
    (0x03, False, False),
])
def test_sus14_v14_table(w, resumes, halted):
    """SUS-14 V14 table (S = 0x1B), rows top to bottom on the Device."""
    rig = Rig.suspended(V14)
    rig.write_status(w)
    if halted:
        assert (rig.state, rig.status) == (St.HALTED, 0x9B)
    elif resumes:
        assert (rig.state, rig.status) == (St.RESUMING, 0x1B)
    else:
        assert (rig.state, rig.status) == (St.SUSPENDED, 0x1B)


@pytest.mark.parametrize("s, w, result", [
    (0x1F, 0x9F, "halted"), (0x1F, 0x0F, "running"), (0x1F, 0x1F, "running"), (0x1F, 0x5F, "running"),
    (0x1F, 0x1B, "ignored"), (0x1F, 0x5B, "ignored"), (0x1F, 0x3B, "ignored"), (0x1F, 0x0B, "ignored"),
    (0x1B, 0x9B, "halted"), (0x1B, 0x0B, "init"), (0x1B, 0x0F, "running"), (0x1B, 0x1B, "ignored"),
    (0x1B, 0x5B, "ignored"), (0x1B, 0x3B, "ignored"),
])
def test_sus14_rfc_table(s, w, result):
    """SUS-14 RFC table (S = 0x1F, or 0x1B suspended before DRIVER_OK), rows top to bottom, run to completion."""
    rig = Rig.suspended(RFC, before_driver_ok=s == 0x1B)
    assert rig.status == s
    rig.write_status(w)
    rig.run()
    expected = {"halted": (St.HALTED, s | 0x80), "running": (St.RUNNING, (s & ~0x10) | 0x04),
                "init": (St.INIT, w), "ignored": (St.SUSPENDED, s)}[result]
    assert (rig.state, rig.status) == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state, hold", [(St.SUSPENDING, "never"), (St.SUSPENDING, "latency"),
                                         (St.SUSPENDING, "gate"), (St.RESUMING, None)], ids=sid)
def test_sus14_request_cannot_be_cancelled(mode, state, hold):
    """SUS-14: in SUSPENDING (held open by a never-completing backend, a long-latency backend that is not stepped, or
    a gated one) and RESUMING every non-zero write except FAILED is ignored; the request is latched."""
    rig = Rig.suspending(mode, hold=hold) if hold else Rig.resuming(mode)
    shown = rig.status
    for w in (0x0B, 0x0F, 0x1B, 0x1F, 0x5F, 0x2F, 0x4B):
        rig.write_status(w)
        assert (rig.state, rig.status) == (state, shown)


# ------------------------------------------------------------------------------------------------------- SUS-15
@pytest.mark.parametrize("mode", MODES)
def test_sus15_failed_in_suspending_no_forced_notification(mode):
    """SUS-15 / B14: FAILED in SUSPENDING (a queue already marked) -> HALTED 0x8F, in-flight chains abandoned (no
    further used writes), be_flush, no forced notification and no config notification; DRIVER_OK does not resume."""
    rig, _ = drained_with_held_chains(mode, msix=True, record=True)
    rig.dev.backend.hold = {1}
    rig.step_until(lambda: rig.used_idx(0) == 1)
    flushes = rig.flushes()
    rig.write_status(0x8F)
    assert (rig.state, rig.status) == (St.HALTED, 0x8F)
    assert rig.flushes() == flushes + 1
    rig.log.clear()
    rig.dev.backend.hold = set()
    rig.run()
    assert rig.log.events == [] and rig.dev.irqs == []
    rig.write_status(0x0F)
    rig.write_status(0x1F)
    assert (rig.state, rig.status) == (St.HALTED, 0x8F)
    rig.write_status(0x80)
    assert rig.status == 0x8F
    rig.write_status(0)
    assert (rig.state, rig.status) == (St.INIT, 0)


@pytest.mark.parametrize("mode", MODES)
def test_sus15_halted_entry_performs_latched_queue_reset(mode):
    """SUS-15 / SUS-17: a queue reset latched in RESUMING is performed on entering HALTED."""
    rig = Rig.resuming(mode)
    rig.select(0)
    rig.write(c.CC_QUEUE_RESET, 1, 2)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 1
    rig.write_status(0x80)
    assert rig.state == St.HALTED
    assert rig.queue_fields(0) == queue_reset_values(rig.params, 0)


@pytest.mark.parametrize("mode", MODES)
def test_sus15_running_failed_abandons_in_flight(mode):
    """SUS-15: FAILED in RUNNING abandons in-flight chains: no used write after it, no interrupt."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0,)))
    rig.post(0, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 1)
    rig.write_status(0x8F)
    rig.log.clear()
    rig.dev.backend.hold = set()
    rig.run()
    assert rig.log.events == [] and rig.dev.irqs == [] and rig.used_idx(0) == 0


# ------------------------------------------------------------------------------------------------------- SUS-16
@pytest.mark.parametrize("mode", MODES)
def test_sus16_needs_reset_blocks_suspend_and_resume(mode):
    """SUS-16: with NEEDS_RESET set a SUSPEND request has no effect; NEEDS_RESET raised in SUSPENDED enters HALTED and
    a later DRIVER_OK write does not resume."""
    rig = Rig.halted(mode, via="fault")
    suspend_write(rig)
    assert rig.status == 0x4F
    rig = Rig.suspended(mode)
    rig.dev.fault_inj()
    shown = rig.status
    assert shown & NEEDS_RESET and rig.state == St.HALTED
    resume_write(rig, mode)
    rig.run()
    assert (rig.state, rig.status) == (St.HALTED, shown)


# ------------------------------------------------------------------------------------------------------- SUS-17
def _queue_reset(rig, q):
    rig.select(q)
    rig.write(c.CC_QUEUE_RESET, 1, 2)


@pytest.mark.parametrize("mode", MODES)
def test_sus17_queue_reset_in_suspended_honoured_without_dma(mode):
    """SUS-17 / B7: queue_reset=1 in SUSPENDED is performed at once without DMA: queue_reset and queue_enable read 0,
    vq state 0, size max, addresses 0, vector NO_VECTOR; the other queue is untouched."""
    rig = Rig.running(mode, msix=True)
    for q in (0, 1):
        rig.post(q, [(4, False), (4, True)], kick=True)
    rig.run()
    suspend_write(rig)
    rig.run()
    rig.log.clear()
    _queue_reset(rig, 0)
    assert rig.log.events == []
    assert rig.queue_fields(0) == queue_reset_values(rig.params, 0)
    assert rig.vq_state(1) == (1, 1)
    rig.select(1)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1


@pytest.mark.parametrize("mode", MODES)
def test_sus17_queue_reset_latched_in_suspending(mode):
    """SUS-17 / B7: in SUSPENDING queue_reset reads 1 until SUSPENDED; the queue's chains still drain first; the
    reset is then performed."""
    rig, _ = drained_with_held_chains(mode, queues=(0,))
    _queue_reset(rig, 0)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 1
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1
    rig.dev.backend.hold = set()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    assert rig.used_idx(0) == 1  # drained normally before the latched reset
    assert rig.queue_fields(0) == queue_reset_values(rig.params, 0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("end", ["resume", "fault", "failed"])
def test_sus17_queue_reset_latched_in_resuming(mode, end):
    """SUS-17 / B7: in RESUMING queue_reset reads 1 until RUNNING is reached or HALTED entered, then is performed."""
    rig = Rig.resuming(mode)
    _queue_reset(rig, 1)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 1
    if end == "resume":
        rig.step_until(lambda: rig.state == St.RUNNING)
    elif end == "fault":
        rig.dev.fault_inj()
    else:
        rig.write_status(0x80)
    assert rig.queue_fields(1) == queue_reset_values(rig.params, 1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.RUNNING, St.SUSPENDED], ids=sid)
def test_sus17_queue_reset_without_ring_reset_ignored(mode, state):
    """SUS-17 / 4.8 / B7: without RING_RESET negotiated a queue_reset write is ignored and the field reads 0."""
    rig = Rig.in_state(state, mode, features=feature_set(ring_reset=False))
    _queue_reset(rig, 0)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 0
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.SUSPENDED, St.RESUMING], ids=sid)
def test_sus17_cfg_lock_drops_queue_reset(mode, state):
    """SUS-17 / B26: with SUSPENDED_CFG_LOCK = 1 queue_reset is dropped in SUSPENDED and RESUMING (not latched)."""
    rig = Rig.in_state(state, mode, SUSPENDED_CFG_LOCK=1)
    rig.write(c.CC_QUEUE_RESET, 1, 2)  # to the queue selected before suspending (an enabled one)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 0
    rig.run()
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.SUSPENDING, St.SUSPENDED, St.RESUMING], ids=sid)
def test_sus17_queue_configuration_ignored_selectors_writable(mode, state):
    """SUS-17 / B7: queue_enable=1, queue_size, addresses and both vectors are ignored in SUSPENDING, SUSPENDED and
    RESUMING; queue_select and the feature selectors stay writable."""
    rig = Rig.in_state(state, mode, queues=(0,))
    rig.select(1)  # queue 1 is disabled
    assert rig.read(c.CC_QUEUE_SELECT, 2) == 1
    before = rig.queue_fields(1)
    rig.select(1)
    rig.write(c.CC_QUEUE_SIZE, 4, 2)
    rig.write(c.CC_QUEUE_DESC_LO, 0x1000)
    rig.write(c.CC_QUEUE_DRIVER_HI, 0x1)
    rig.write(c.CC_QUEUE_DEVICE_LO, 0x2000)
    rig.write(c.CC_QUEUE_MSIX_VECTOR, 1, 2)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    rig.write(c.CC_CONFIG_MSIX_VECTOR, 0, 2)
    assert rig.queue_fields(1) == before
    assert rig.read(c.CC_CONFIG_MSIX_VECTOR, 2) == c.NO_VECTOR
    rig.write(c.CC_DEVICE_FEATURE_SELECT, 1)
    rig.write(c.CC_DRIVER_FEATURE_SELECT, 1)
    assert rig.read(c.CC_DEVICE_FEATURE_SELECT) == 1 and rig.read(c.CC_DRIVER_FEATURE_SELECT) == 1


# ------------------------------------------------------------------------------------------------------- SUS-18/19/20
def _state_write(rig, q, avail, used):
    rig.select(q)
    rig.write(c.CC_QUEUE_AVAIL_STATE, avail, 2)
    rig.write(c.CC_QUEUE_USED_STATE, used, 2)


@pytest.mark.parametrize("mode", MODES)
def test_sus19_window1_restore_in_init_then_first_used_at_restored_slot(mode):
    """SUS-18 / SUS-19 window 1 / B10: INIT, FEATURES_OK=1, queue disabled: the written state is the live counter;
    enable leaves it; after DRIVER_OK the scan runs without a kick, the first used element lands at slot
    used_state % Q and processing starts at avail_state; with EVENT_IDX the first used.idx write notifies."""
    rig = Rig.init(mode, queues=())
    rig.dev.set_msix_enable(True)
    lay = rig.setup_queue(0, enable=False, vector=0, used_event=0x100)
    _state_write(rig, 0, 0xFFFE, 0x0005)
    assert rig.vq_state(0) == (0xFFFE, 0x0005)
    rig.select(0)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    assert rig.vq_state(0) == (0xFFFE, 0x0005)  # not reloaded or cleared at enable
    rig.set_avail_idx(0, 0xFFFE)
    p = rig.post(0, [(4, False), (4, True)])
    rig.driver_ok()
    rig.run()
    assert rig.mem.read_u16(lay.used_idx_addr) == 6
    assert rig.used_elem(0, 5) == (p.head, 4)
    assert rig.vq_state(0) == (0xFFFF, 6)
    assert rig.dev.irqs == [0]  # first write notifies despite used_event


@pytest.mark.parametrize("mode", MODES)
def test_sus19_window1_closed_without_features_ok_or_enabled(mode):
    """SUS-19: in INIT the write is dropped without FEATURES_OK, and for an enabled queue."""
    rig = Rig.init(mode, features_ok=False)
    rig.setup_queue(0, enable=False)
    _state_write(rig, 0, 7, 7)
    assert rig.vq_state(0) == (0, 0)
    rig = Rig.init(mode)  # queues 0 and 1 enabled
    _state_write(rig, 0, 7, 7)
    assert rig.vq_state(0) == (0, 0)


@pytest.mark.parametrize("mode", MODES)
def test_sus19_window2_suspended_injection_used_after_resume(mode):
    """SUS-19 window 2: in SUSPENDED the write changes the live counter; resume loads nothing, so processing
    continues from the written values."""
    rig = Rig.suspended(mode, queues=(0,))
    rig.log.clear()
    _state_write(rig, 0, 10, 10)
    assert rig.log.events == []  # a state write never causes a used.idx write (SUS-19)
    rig.set_avail_idx(0, 10)
    p = rig.post(0, [(4, False), (4, True)])
    resume_write(rig, mode)
    rig.run()
    assert rig.used_idx(0) == 11 and rig.used_elem(0, 10) == (p.head, 4)
    assert rig.vq_state(0) == (11, 11)


@pytest.mark.parametrize("mode", MODES)
def test_sus19_window3_running_disabled_queue(mode):
    """SUS-19 window 3 / B10: RUNNING with the queue disabled accepts the write; enabling it after DRIVER_OK scans
    from the restored state; RUNNING with the queue enabled drops it."""
    rig = Rig.running(mode, queues=(0,))
    _state_write(rig, 0, 9, 9)
    assert rig.vq_state(0) == (0, 0)
    lay = rig.setup_queue(1, enable=False)
    _state_write(rig, 1, 3, 3)
    assert rig.vq_state(1) == (3, 3)
    rig.set_avail_idx(1, 3)
    p = rig.post(1, [(4, False), (4, True)])
    rig.select(1)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    rig.run()
    assert rig.mem.read_u16(lay.used_idx_addr) == 4 and rig.used_elem(1, 3) == (p.head, 4)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.SUSPENDING, St.RESUMING, St.HALTED], ids=sid)
def test_sus19_writes_dropped_outside_windows(mode, state):
    """SUS-19: vq-state writes are dropped in SUSPENDING, RESUMING and HALTED."""
    rig = Rig.in_state(state, mode)
    before = rig.vq_state(0)
    _state_write(rig, 0, 0x1234, 0x4321)
    assert rig.vq_state(0) == before


def test_sus19_window2_closed_with_cfg_lock():
    """SUS-19 / SUS-17: with SUSPENDED_CFG_LOCK = 1 window 2 is closed."""
    rig = Rig.suspended(V14, SUSPENDED_CFG_LOCK=1)
    _state_write(rig, 0, 0x1234, 0x4321)
    assert rig.vq_state(0) == (0, 0)


@pytest.mark.parametrize("mode", MODES)
def test_sus19_live_counters_in_running(mode):
    """SUS-18 / SUS-19: avail_state / used_state read the live last_avail_idx / shadow_used_idx in every state."""
    rig = Rig.running(mode, queues=(0,), backend=GatedBackend(hold=(0,)))
    for _ in range(2):
        rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    rig.step_until(lambda: rig.requests_issued() == 2)
    assert rig.vq_state(0) == (2, 0)  # taken, not yet used
    rig.dev.backend.hold = set()
    rig.run()
    assert rig.vq_state(0) == (2, 2)


def test_sus20_vq_state_regs_zero_offsets_read_zero():
    """SUS-20: with VQ_STATE_REGS = 0 the offsets 0x40 / 0x42 read 0 and ignore writes, in every window."""
    rig = Rig.init(V14, queues=(), VQ_STATE_REGS=0)
    rig.setup_queue(0, enable=False)
    _state_write(rig, 0, 5, 6)
    assert rig.read(c.CC_QUEUE_AVAIL_STATE, 2) == 0 and rig.read(c.CC_QUEUE_USED_STATE, 2) == 0
    assert rig.read(0x40) == 0
    rig.select(0)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    rig.set_avail_idx(0, 0)
    rig.post(0, [(4, False), (4, True)])
    rig.driver_ok()
    rig.run()
    assert rig.used_idx(0) == 1  # the write was ignored: counters started at 0


def test_sus20_queue_state_bit_not_offered_by_default():
    """SUS-20 / B1: F_QUEUE_STATE_BIT (44) is not offered by default; accepting it is refused at FEATURES_OK."""
    rig = Rig()
    rig.write(c.CC_DEVICE_FEATURE_SELECT, 1)
    assert not rig.read(c.CC_DEVICE_FEATURE) >> (44 - 32) & 1
    rig.negotiate(feature_set(extra=[44]), features_ok=False)
    rig.write_status(0x0B)
    assert rig.status == 0x03


def test_sus20_queue_state_bit_when_offered_changes_nothing():
    """SUS-20: a build offering bit 44 accepts it, and negotiating it changes nothing (state windows identical)."""
    offered = c.DEFAULT_DEVICE_FEATURES | 1 << 44
    for feats in (feature_set(), feature_set(extra=[44])):
        rig = Rig.init(V14, features=feats, queues=(), DEVICE_FEATURES=offered)
        assert rig.status == 0x0B
        rig.setup_queue(0, enable=False)
        _state_write(rig, 0, 4, 4)
        assert rig.vq_state(0) == (4, 4)


# ------------------------------------------------------------------------------------------------------- SUS-21
def _core_rig(event_idx: bool):
    """A DeviceCore driven only by hand-written events: RUNNING, MSI-X on, queue 0 (Q=8) on vector 0, one chain
    (readable 4 B at 0x40000, writable 4 B at 0x50000) completed and published with used.idx 0 -> 1."""
    params = Params()
    mem = GuestMem()
    core = DeviceCore(params, mem)
    desc, avail, used = QUEUE_BASES[0]
    lay = RingLayout(desc, avail, used, 8)

    def wr(addr, value, size=4):
        lane = addr & 3
        core.observe(ev.RegWrite(addr & ~3, value << 8 * lane & 0xFFFF_FFFF, (1 << size) - 1 << lane))

    feats = feature_set(event_idx=event_idx)
    wr(c.CC_DEVICE_STATUS, ACK, 1)
    wr(c.CC_DEVICE_STATUS, ACK | DRIVER, 1)
    for sel in (0, 1):
        wr(c.CC_DRIVER_FEATURE_SELECT, sel)
        wr(c.CC_DRIVER_FEATURE, feats >> 32 * sel & 0xFFFF_FFFF)
    wr(c.CC_DEVICE_STATUS, 0x0B, 1)
    core.observe(ev.MsixEnable(True))
    wr(c.CC_QUEUE_SELECT, 0, 2)
    wr(c.CC_QUEUE_SIZE, 8, 2)
    wr(c.CC_QUEUE_DESC_LO, desc)
    wr(c.CC_QUEUE_DRIVER_LO, avail)
    wr(c.CC_QUEUE_DEVICE_LO, used)
    wr(c.CC_QUEUE_MSIX_VECTOR, 0, 2)
    wr(c.CC_QUEUE_ENABLE, 1, 2)
    wr(c.CC_DEVICE_STATUS, 0x0F, 1)
    assert core.state == St.RUNNING
    return core, mem, lay, wr


def _publish_one(core, mem, lay, n: int, event_idx: bool):
    """Hand-written events for chain n (head n): fetch, walk, gather, request, completion, scatter, element, idx."""
    d0, d1 = 2 * n, 2 * n + 1
    rd, wrbuf = 0x40000 + 0x100 * n, 0x50000 + 0x100 * n
    mem.write(rd, b"abcd")
    mem.write(lay.desc_addr(d0), Descriptor(rd, 4, NEXT, d1).pack())
    mem.write(lay.desc_addr(d1), Descriptor(wrbuf, 4, WRITE, 0).pack())
    mem.write_u16(lay.avail_ring_addr(n), d0)
    mem.write_u16(lay.avail_idx_addr, n + 1)
    o = core.observe
    if event_idx:
        o(ev.DmaWrite(lay.avail_event_addr, n.to_bytes(2, "little")))
    o(ev.DmaRead(lay.avail_idx_addr, 2, (n + 1).to_bytes(2, "little")))
    o(ev.DmaRead(lay.avail_ring_addr(n), 2, d0.to_bytes(2, "little")))
    o(ev.DmaRead(lay.desc_addr(d0), 16, mem.read(lay.desc_addr(d0), 16)))
    o(ev.DmaRead(lay.desc_addr(d1), 16, mem.read(lay.desc_addr(d1), 16)))
    o(ev.DmaRead(rd, 4, b"abcd"))
    o(ev.BeRequest(0, d0, n, 4, 4, b"abcd"))
    o(ev.BeCompletion(n, 4, data=b"wxyz"))
    o(ev.DmaWrite(wrbuf, b"wxyz"))
    o(ev.DmaWrite(lay.used_elem_addr(n), d0.to_bytes(4, "little") + (4).to_bytes(4, "little")))
    o(ev.DmaWrite(lay.used_idx_addr, (n + 1).to_bytes(2, "little")))


@pytest.mark.parametrize("event_idx", [False, True])
def test_sus21_decision_pending_at_latch_dropped_replaced_by_one_forced(event_idx):
    """SUS-21 / rule 8.3 / B21: a used.idx write made in RUNNING whose decision read (avail.flags, or used_event with
    EVENT_IDX) has not returned when SUSPEND is latched: the decision is dropped, the queue is marked, exactly one
    forced notification is sent; the decision read, outstanding at the latch, may still return once and decides
    nothing, and no other decision read is allowed."""
    core, mem, lay, wr = _core_rig(event_idx)
    if event_idx:
        # The first used.idx write after enable notifies unconditionally (4.6, Q16); use the second one.
        _publish_one(core, mem, lay, 0, event_idx)
        core.observe(ev.Irq(0))
        core.observe(ev.DmaWrite(lay.avail_event_addr, (1).to_bytes(2, "little")))
        core.observe(ev.DmaRead(lay.avail_idx_addr, 2, (1).to_bytes(2, "little")))
        _publish_one_after(core, mem, lay, 1)
    else:
        _publish_one(core, mem, lay, 0, event_idx)
    assert core.queues[0].decision is not None  # the decision read is still outstanding
    wr(c.CC_DEVICE_STATUS, 0x1F, 1)  # SUSPEND latched
    assert core.state == St.SUSPENDING
    assert core.owed_irqs == [0]
    decision_addr = lay.used_event_addr if event_idx else lay.avail_flags_addr
    core.observe(ev.DmaRead(decision_addr, 2, b"\x01\x00"))  # outstanding at the latch (rule 8.12 set 6)
    assert core.owed_irqs == [0]
    with pytest.raises(Mismatch, match="read only in RUNNING"):
        core.observe(ev.DmaRead(decision_addr, 2, b"\x01\x00"))
    core.observe(ev.Irq(0))
    with pytest.raises(Mismatch):
        core.observe(ev.Irq(0))  # exactly one
    assert core.observe(ev.RegRead(c.CC_DEVICE_STATUS, 0x1B)) == 0x1B  # the flip (rule 8.12 set 4)
    assert core.state == St.SUSPENDED


def _publish_one_after(core, mem, lay, n):
    """Chain n on a queue already being serviced (kicked), through its used.idx write."""
    _publish_one_after_without_idx(core, mem, lay, n)
    core.observe(ev.DmaWrite(lay.used_idx_addr, (n + 1).to_bytes(2, "little")))


def test_sus21_used_idx_response_after_latch_marks_queue():
    """SUS-21 / B21: a used.idx write issued in RUNNING whose write response arrives after the latch marks its queue:
    no per-write decision, exactly one forced notification."""
    core, mem, lay, wr = _core_rig(event_idx=False)
    _publish_one(core, mem, lay, 0, event_idx=False)
    core.observe(ev.DmaRead(lay.avail_flags_addr, 2, b"\x01\x00"))  # chain 0: suppressed, nothing sent
    _publish_one_after_without_idx(core, mem, lay, 1)
    wr(c.CC_DEVICE_STATUS, 0x1F, 1)  # latched while chain 1's used.idx write is outstanding
    assert core.owed_irqs == []
    core.observe(ev.DmaWrite(lay.used_idx_addr, (2).to_bytes(2, "little")))  # its response arrives now
    assert core.queues[0].decision is None and core.owed_irqs == [0]
    with pytest.raises(Mismatch):
        core.observe(ev.DmaRead(lay.avail_flags_addr, 2, b"\x00\x00"))
    core.observe(ev.Irq(0))
    with pytest.raises(Mismatch):
        core.observe(ev.Irq(0))


def _publish_one_after_without_idx(core, mem, lay, n):
    """Chain n up to its used element: the used.idx write is left for the test to report."""
    d0, d1 = 2 * n, 2 * n + 1
    rd, wrbuf = 0x40000 + 0x100 * n, 0x50000 + 0x100 * n
    mem.write(rd, b"abcd")
    mem.write(lay.desc_addr(d0), Descriptor(rd, 4, NEXT, d1).pack())
    mem.write(lay.desc_addr(d1), Descriptor(wrbuf, 4, WRITE, 0).pack())
    mem.write_u16(lay.avail_ring_addr(n), d0)
    mem.write_u16(lay.avail_idx_addr, n + 1)
    o = core.observe
    o(ev.RegWrite(c.BAR_NOTIFY, 0, 0x3))
    o(ev.DmaRead(lay.avail_idx_addr, 2, (n + 1).to_bytes(2, "little")))
    o(ev.DmaRead(lay.avail_ring_addr(n), 2, d0.to_bytes(2, "little")))
    o(ev.DmaRead(lay.desc_addr(d0), 16, mem.read(lay.desc_addr(d0), 16)))
    o(ev.DmaRead(lay.desc_addr(d1), 16, mem.read(lay.desc_addr(d1), 16)))
    o(ev.BeRequest(0, d0, n, 4, 4, b"abcd"))
    o(ev.BeCompletion(n, 4, data=b"wxyz"))
    o(ev.DmaWrite(wrbuf, b"wxyz"))
    o(ev.DmaWrite(lay.used_elem_addr(n), d0.to_bytes(4, "little") + (4).to_bytes(4, "little")))


def test_sus21_decision_made_before_latch_delivered_no_extra_forced():
    """SUS-21: a decision already made before the latch is still delivered; the queue is not marked, so no second
    (forced) notification follows."""
    core, mem, lay, wr = _core_rig(event_idx=False)
    _publish_one(core, mem, lay, 0, event_idx=False)
    core.observe(ev.DmaRead(lay.avail_flags_addr, 2, b"\x00\x00"))  # notify
    assert core.owed_irqs == [0]
    wr(c.CC_DEVICE_STATUS, 0x1F, 1)
    assert core.owed_irqs == [0] and not core.queues[0].marked
    core.observe(ev.Irq(0))
    with pytest.raises(Mismatch):
        core.observe(ev.Irq(0))


def test_sus21_decision_suppressed_before_latch_nothing_sent():
    """SUS-21: a decision made before the latch that says 'no' (avail.flags = NO_INTERRUPT) stays made: the idle
    drain sends no forced notification."""
    core, mem, lay, wr = _core_rig(event_idx=False)
    _publish_one(core, mem, lay, 0, event_idx=False)
    core.observe(ev.DmaRead(lay.avail_flags_addr, 2, b"\x01\x00"))
    wr(c.CC_DEVICE_STATUS, 0x1F, 1)
    assert core.owed_irqs == []
    with pytest.raises(Mismatch):
        core.observe(ev.Irq(0))


# ------------------------------------------------------------------------------------------------------- SUS-22
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("timeout", [0, 50])
def test_sus22_never_completing_backend_drain_never_ends(mode, timeout):
    """SUS-22 / rule 8.10: with a backend that never answers, the drain never ends in the model (it counts no
    cycles, so even a non-zero SUSPEND_DRAIN_TIMEOUT never expires on its own); the driver's timeout path is a reset."""
    rig = Rig.suspending(mode, hold="never", SUSPEND_DRAIN_TIMEOUT=timeout)
    for _ in range(2000):
        rig.dev.step()
    assert (rig.state, rig.status) == (St.SUSPENDING, 0x0F)
    assert rig.dev.core.quiesce
    rig.write_status(0)
    assert (rig.state, rig.status) == (St.INIT, 0)


# ------------------------------------------------------------------------------------------------------- SUS-23
@pytest.mark.parametrize("mode", MODES)
def test_sus23_idempotency(mode):
    """SUS-23: SUSPEND again without DRIVER_OK in SUSPENDING or SUSPENDED does nothing; DRIVER_OK again in RUNNING
    does nothing (no new scan); V14 0x1B again in SUSPENDED does nothing; RFC 0x1F in SUSPENDED resumes."""
    rig = Rig.running(mode)
    rig.log.clear()
    rig.write_status(0x0F)
    rig.run()
    assert rig.log.events == [] and rig.status == 0x0F
    rig, _ = drained_with_held_chains(mode)
    rig.write_status(0x1B)
    rig.write_status(0x10)
    assert (rig.state, rig.status) == (St.SUSPENDING, 0x0F)
    rig.dev.backend.hold = set()
    rig.run()
    rig.write_status(0x1B)
    rig.write_status(0x10)
    if mode == V14:
        assert (rig.state, rig.status) == (St.SUSPENDED, 0x1B)
    else:
        assert (rig.state, rig.status) == (St.SUSPENDED, 0x1F)
        rig.write_status(0x1F)
        assert rig.state == St.RESUMING


# ------------------------------------------------------------------------------------------------------- SUS-24
@pytest.mark.parametrize("mode", MODES)
def test_sus24_suspend_covers_every_queue(mode):
    """SUS-24: suspend covers the whole device: every queue drains, none fetches or publishes while suspended, and
    every queue resumes."""
    queues = (0, 1, 2, 3)
    rig, posted = drained_with_held_chains(mode, queues=queues, NUM_QUEUES=4)
    rig.dev.backend.hold = set()
    rig.step_until(lambda: rig.state == St.SUSPENDED)
    for q in queues:
        assert rig.used_idx(q) == 1
        rig.post(q, [(4, False)], kick=False)
        rig.kick(q)
    rig.log.clear()
    rig.run()
    assert rig.log.events == []
    resume_write(rig, mode)
    rig.run()
    assert all(rig.used_idx(q) == 2 for q in queues)


# ------------------------------------------------------------------------------------------------------- SUS-25
@pytest.mark.parametrize("mode", MODES)
def test_sus25_isr_latched_before_suspend_keeps_level(mode):
    """SUS-25 / SPEC 5.1: ISR bits latched before suspension keep their level in SUSPENDED (INTx stays high); an ISR
    read still clears them and INTx falls; no new ISR bit or INTx assertion arises in SUSPENDED; INTx follows
    msix_enable while ISR bit 1 is set."""
    rig = Rig.running(mode)
    rig.dev.devcfg_write(0, 1)  # config change in RUNNING: ISR bit 1, INTx
    assert rig.dev.intx
    suspend_write(rig)
    rig.run()
    assert rig.state == St.SUSPENDED
    assert rig.dev.intx and rig.dev.core.isr.value == c.ISR_CONFIG
    rig.dev.set_msix_enable(True)
    assert not rig.dev.intx
    rig.dev.set_msix_enable(False)
    assert rig.dev.intx
    assert rig.read_isr() == c.ISR_CONFIG
    assert not rig.dev.intx
    assert rig.read_isr() == 0
    rig.dev.devcfg_write(0, 2)
    rig.post(0, [(4, False), (4, True)], kick=True)
    rig.run()
    assert not rig.dev.intx and rig.read_isr() == 0
