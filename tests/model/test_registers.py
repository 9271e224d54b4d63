"""Register face of the model: rule 8.5 reset values, rule 8.6 write acceptance (every register x state cell, and
the SUSPENDED_CFG_LOCK = 1 columns) and queue validation, SPEC 5.1 byte lanes, feature windows (SPEC 3.1), 64-bit
addresses (B20), ISR and INTx (SPEC 5.1, B24), the device-specific configuration (rule 8.10) and kick decoding
(rule 8.7).  Expected values come from SPEC.md and DESIGN.md's top-level contract."""

import pytest

from helpers import MODES, QUEUE_BASES, Rig, feature_set, queue_reset_values, reset_values, sid
from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St
from virtio_golden.regmap import COMMON_FIELDS
from virtio_golden.ring import RingLayout

pytestmark = pytest.mark.model

V14, RFC = "V14", "RFC"
STATES = [St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING, St.HALTED]


# ------------------------------------------------------------------------------------------------------ rule 8.5
def test_r8_5_power_on_values():
    """R8.5: after rst every common-configuration field, every queue's fields, ISR and INTx have their reset values;
    the offered set shows in device_feature (B1: 0x0000_0901_3000_0000)."""
    rig = Rig()
    got = rig.common()
    want = reset_values(rig.params)
    assert {k: got[k] for k in want} == want
    assert want["device_feature"] == 0x3000_0000
    for q in range(rig.params.NUM_QUEUES):
        assert rig.queue_fields(q) == queue_reset_values(rig.params, q)
    assert rig.read_isr() == 0 and not rig.dev.intx


@pytest.mark.parametrize("mode", MODES)
def test_r8_5_reset_values_after_reset_write(mode):
    """R8.5 / SUS-13: a device reset from a used RUNNING device restores every reset value; num_queues,
    queue_notify_off and the device-specific configuration are not affected."""
    rig = Rig.running(mode, msix=True)
    rig.dev.set_msix_enable(False)
    rig.dev.devcfg_write(0, 0xAA)
    rig.write(c.BAR_DEVICE_CFG + 12, 0xBB)
    for q in (0, 1):
        rig.post(q, [(4, False), (4, True)], kick=True)
    rig.run()
    assert rig.dev.intx  # ISR bits set by the config change and the used notifications
    rig.write(c.CC_DEVICE_FEATURE_SELECT, 1)
    rig.select(1)
    rig.write_status(0)
    got = rig.common()
    want = reset_values(rig.params)
    assert {k: got[k] for k in want} == want
    for q in (0, 1):
        assert rig.queue_fields(q) == queue_reset_values(rig.params, q)
    assert rig.read_isr() == 0 and not rig.dev.intx
    assert rig.read(c.BAR_DEVICE_CFG) == 0xAA and rig.read(c.BAR_DEVICE_CFG + 12) == 0xBB


def test_r8_5_select_beyond_num_queues_reads_zero():
    """R8.6: queue_select >= num_queues: every queue field reads 0."""
    rig = Rig()
    for sel in (2, 3, 0xFFFF):
        rig.select(sel)
        assert rig.read(c.CC_QUEUE_SELECT, 2) == sel
        for f in COMMON_FIELDS:
            if f.per_queue:
                assert rig.read(f.offset, f.width if f.width < 4 else 4) == 0, f.name


# ------------------------------------------------------------------------------------------------------ rule 8.6 table
def _rig(state, mode, lock=0, **kw):
    """The state with queue 0 enabled (and holding the SUSPENDING drain) and queue 1 disabled.  With the lock, queue 1
    is selected before suspending, since the lock drops queue_select writes in SUSPENDED and RESUMING."""
    if not lock:
        return Rig.in_state(state, mode, queues=(0,), **kw)
    rig = Rig.running(mode, queues=(0,), SUSPENDED_CFG_LOCK=1, **kw)
    rig.select(1)
    rig.write_status(0x1F)
    rig.run()
    if state == St.RESUMING:
        rig.write_status(0x1F)
    assert rig.state == state
    return rig


def _accepts(reg, rig) -> bool:
    """Write `reg` and report whether the write took effect (read back, or its side effect)."""
    if reg in ("device_feature_select", "driver_feature_select", "queue_select"):
        off = {"device_feature_select": c.CC_DEVICE_FEATURE_SELECT,
               "driver_feature_select": c.CC_DRIVER_FEATURE_SELECT, "queue_select": c.CC_QUEUE_SELECT}[reg]
        size = 2 if reg == "queue_select" else 4
        before = rig.read(off, size)
        rig.write(off, before ^ 2, size)
        accepted = rig.read(off, size) == before ^ 2
        rig.write(off, before, size)
        return accepted
    if reg == "driver_feature":
        rig.write(c.CC_DRIVER_FEATURE_SELECT, 0)
        before = rig.read(c.CC_DRIVER_FEATURE)
        rig.write(c.CC_DRIVER_FEATURE, before ^ 0x1)
        return rig.read(c.CC_DRIVER_FEATURE) == before ^ 0x1
    if reg == "config_msix_vector":
        rig.write(c.CC_CONFIG_MSIX_VECTOR, 1, 2)
        return rig.read(c.CC_CONFIG_MSIX_VECTOR, 2) == 1
    if reg in ("queue_size", "queue_msix_vector", "queue_desc_lo", "queue_desc_hi", "queue_driver_lo",
               "queue_driver_hi", "queue_device_lo", "queue_device_hi"):
        rig.write(c.CC_QUEUE_SELECT, 1, 2)  # queue 1 is disabled in every state
        assert rig.read(c.CC_QUEUE_SELECT, 2) == 1
        off = {f.name: f for f in COMMON_FIELDS}[reg]
        value = {"queue_size": 4, "queue_msix_vector": 1}.get(reg, 0x40)
        if off.width == 2:
            rig.write(off.offset, value, 2)
            return rig.read(off.offset, 2) == value
        rig.write(off.offset, value)
        return rig.read(off.offset) == value
    if reg == "queue_enable":
        rig.write(c.CC_QUEUE_SELECT, 1, 2)
        assert rig.read(c.CC_QUEUE_SELECT, 2) == 1
        rig.write(c.CC_QUEUE_ENABLE, 1, 2)  # addresses 0 are aligned (rule 8.6: address 0 is not special)
        return rig.read(c.CC_QUEUE_ENABLE, 2) == 1
    if reg in ("queue_avail_state", "queue_used_state"):
        rig.write(c.CC_QUEUE_SELECT, 1, 2)
        assert rig.read(c.CC_QUEUE_SELECT, 2) == 1
        off = c.CC_QUEUE_AVAIL_STATE if reg == "queue_avail_state" else c.CC_QUEUE_USED_STATE
        rig.write(off, 0x77, 2)
        return rig.read(off, 2) == 0x77
    if reg == "device_config":
        rig.write(c.BAR_DEVICE_CFG + 8, 0x5A5A)
        return rig.read(c.BAR_DEVICE_CFG + 8) == 0x5A5A
    raise ValueError(reg)


W, X = True, False
# Rule 8.6 table (lock = 0): INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING, HALTED.
ACCEPT = {
    "device_feature_select": (W, W, W, W, W, W),
    "driver_feature_select": (W, W, W, W, W, W),
    "queue_select": (W, W, W, W, W, W),
    "driver_feature": (X, X, X, X, X, X),  # INIT with FEATURES_OK=1; FEATURES_OK=0 is its own test
    "config_msix_vector": (W, W, X, X, X, X),
    "queue_size": (W, W, X, X, X, X),
    "queue_desc_lo": (W, W, X, X, X, X),
    "queue_desc_hi": (W, W, X, X, X, X),
    "queue_driver_lo": (W, W, X, X, X, X),
    "queue_driver_hi": (W, W, X, X, X, X),
    "queue_device_lo": (W, W, X, X, X, X),
    "queue_device_hi": (W, W, X, X, X, X),
    "queue_msix_vector": (W, W, X, X, X, X),
    "queue_enable": (W, W, X, X, X, X),
    "queue_avail_state": (W, W, X, W, X, X),
    "queue_used_state": (W, W, X, W, X, X),
    "device_config": (W, W, X, X, X, X),
}


def _cells(lock):
    out = []
    for reg, row in ACCEPT.items():
        for st, ok in zip(STATES, row):
            if lock and st in (St.SUSPENDED, St.RESUMING):
                ok = False  # SUSPENDED_CFG_LOCK = 1 drops every write but device_status
            for mode in MODES:
                out.append(pytest.param(reg, st, mode, ok, id=f"{reg}-{st.name}-{mode}"))
    return out


@pytest.mark.parametrize("reg, state, mode, ok", _cells(lock=0))
def test_r8_6_write_acceptance(reg, state, mode, ok):
    """R8.6 / B18: every register x state cell of the write-acceptance table (queue fields on a disabled queue)."""
    assert _accepts(reg, _rig(state, mode)) == ok


@pytest.mark.parametrize("reg, state, mode, ok",
                         [p for p in _cells(lock=1) if p.values[1] in (St.SUSPENDED, St.RESUMING)], ids=sid)
def test_r8_6_write_acceptance_cfg_lock(reg, state, mode, ok):
    """R8.6 / SUS-17 / B26: SUSPENDED_CFG_LOCK = 1: in SUSPENDED and RESUMING every write but device_status is
    dropped, the selectors and vq state included."""
    assert _accepts(reg, _rig(state, mode, lock=1)) == ok


@pytest.mark.parametrize("mode", MODES)
def test_r8_6_cfg_lock_status_and_kicks_still_work(mode):
    """R8.6 / B26: with SUSPENDED_CFG_LOCK = 1 kicks are still latched, the ISR read still clears, and resume works as
    usual (the kicked chain is processed after it)."""
    rig = Rig.running(mode, SUSPENDED_CFG_LOCK=1)
    rig.dev.devcfg_write(0, 1)  # ISR bit 1
    rig.write_status(0x1F)
    rig.run()
    assert rig.state == St.SUSPENDED
    p = rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    assert rig.dev.core.queues[0].kick_pending
    assert rig.read_isr() == c.ISR_CONFIG and rig.read_isr() == 0
    rig.write_status(0x1F if mode == V14 else 0x0F)
    rig.run()
    assert rig.state == St.RUNNING and rig.used_elems(0) == [(p.head, 4)]


@pytest.mark.parametrize("mode", MODES)
def test_r8_6_driver_feature_only_before_features_ok(mode):
    """R8.6 / SPEC 3.3: driver_feature is written in INIT while FEATURES_OK = 0, and dropped once it is set."""
    rig = Rig.init(mode, features_ok=False)
    assert _accepts("driver_feature", rig)
    rig = Rig.init(mode)
    assert not _accepts("driver_feature", rig)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [St.INIT, St.RUNNING], ids=sid)
def test_r8_6_queue_fields_ignored_while_enabled(mode, state):
    """R8.6: while a queue is enabled, writes to its size, either address half and its vector are ignored; a write
    of 1 to queue_enable does nothing."""
    rig = _rig(state, mode)
    rig.select(0)
    before = rig.queue_fields(0)
    rig.select(0)
    rig.write(c.CC_QUEUE_SIZE, 4, 2)
    for off in (c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DESC_HI, c.CC_QUEUE_DRIVER_LO, c.CC_QUEUE_DRIVER_HI,
                c.CC_QUEUE_DEVICE_LO, c.CC_QUEUE_DEVICE_HI):
        rig.write(off, 0x1000)
    rig.write(c.CC_QUEUE_MSIX_VECTOR, 1, 2)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    assert rig.queue_fields(0) == before


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state, effect", [
    (St.INIT, "do"), (St.RUNNING, "do"), (St.SUSPENDING, "latch"), (St.SUSPENDED, "do"), (St.RESUMING, "latch"),
    (St.HALTED, "do"),
], ids=sid)
def test_r8_6_queue_reset_column(mode, state, effect):
    """R8.6 queue_reset=1 row (RING_RESET negotiated): do in INIT, RUNNING, SUSPENDED, HALTED; latch in SUSPENDING
    and RESUMING (reads 1, queue still enabled)."""
    rig = _rig(state, mode)
    rig.select(0)
    rig.write(c.CC_QUEUE_RESET, 1, 2)
    if effect == "do":
        assert rig.queue_fields(0) == queue_reset_values(rig.params, 0)
    else:
        assert rig.read(c.CC_QUEUE_RESET, 2) == 1 and rig.read(c.CC_QUEUE_ENABLE, 2) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state, effect", [
    (St.INIT, "latch"), (St.RUNNING, "serve"), (St.SUSPENDING, "latch"), (St.SUSPENDED, "latch"),
    (St.RESUMING, "latch"), (St.HALTED, "ignored"),
], ids=sid)
def test_r8_6_notify_column(mode, state, effect):
    """R8.6 notify row / rule 8.7: latch in INIT, SUSPENDING, SUSPENDED, RESUMING (kick_pending, no DMA); serve in
    RUNNING (an avail.idx read); ignored in HALTED."""
    rig = _rig(state, mode)
    lay = rig.layouts[0]
    rig.log.clear()
    rig.kick(0)
    pending = rig.dev.core.queues[0].kick_pending
    if effect == "latch":
        assert pending and rig.log.events == []
    elif effect == "ignored":
        assert not pending
        rig.run()
        assert rig.log.events == []
    else:
        rig.run()
        assert any(a == lay.avail_idx_addr for a, _ in rig.log.reads())
        assert not rig.dev.core.queues[0].kick_pending  # cleared by the avail.idx read (rule 8.7)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", STATES, ids=sid)
def test_r8_6_isr_read_to_clear_every_state(mode, state):
    """R8.6 ISR row: a read clears ISR in every state (bits latched before, e.g. by a config change in RUNNING)."""
    if state in (St.INIT, St.SUSPENDING):
        rig = _rig(state, mode)
        if state == St.INIT:
            rig.dev.core.isr.set_config()  # INIT has no notification source (rule 8.10): set the bit directly
        else:
            rig.dev.devcfg_write(0, 1)
    else:
        rig = Rig.running(mode, queues=(0,))
        rig.dev.devcfg_write(0, 1)  # ISR bit 1, latched before the state is reached
        if state in (St.SUSPENDED, St.RESUMING):
            rig.write_status(0x1F)
            rig.run()
            if state == St.RESUMING:
                rig.write_status(0x1F)
        elif state == St.HALTED:
            rig.write_status(0x8F)
    assert rig.state == state
    assert rig.read_isr() == c.ISR_CONFIG
    assert rig.read_isr() == 0


# ----------------------------------------------------------------------------------------------------- queue validation
@pytest.mark.parametrize("value", [0, 3, 6, 100, 512, 0x8000, 0xFFFF])
def test_r8_6_queue_size_invalid_ignored(value):
    """R8.6: queue_size of 0, a non-power of two, or above QUEUE_SIZE_MAX (256) is ignored; previous value kept."""
    rig = Rig.init(queues=(0,))
    rig.select(1)
    rig.write(c.CC_QUEUE_SIZE, 64, 2)
    rig.write(c.CC_QUEUE_SIZE, value, 2)
    assert rig.read(c.CC_QUEUE_SIZE, 2) == 64


@pytest.mark.parametrize("value", [1, 2, 128, 256])
def test_r8_6_queue_size_valid_accepted(value):
    """R8.6 / SPEC 4.1: a power of two up to QUEUE_SIZE_MAX is accepted."""
    rig = Rig.init(queues=(0,))
    rig.select(1)
    rig.write(c.CC_QUEUE_SIZE, value, 2)
    assert rig.read(c.CC_QUEUE_SIZE, 2) == value


@pytest.mark.parametrize("area, bad", [("desc", 8), ("desc", 0x1001), ("driver", 1), ("driver", 0x2003),
                                       ("device", 2), ("device", 0x3001)])
def test_r8_6_misaligned_address_enable_ignored(area, bad):
    """R8.6 / SPEC 4.1: queue_enable=1 is ignored if desc % 16, driver % 2 or device % 4 is non-zero."""
    rig = Rig.init(queues=(0,))
    rig.select(1)
    off = {"desc": c.CC_QUEUE_DESC_LO, "driver": c.CC_QUEUE_DRIVER_LO, "device": c.CC_QUEUE_DEVICE_LO}[area]
    rig.write(off, bad)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 0
    rig.write(off, 0)  # aligned again (0 is not special): the enable is accepted
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1


@pytest.mark.parametrize("value", [0, 2, 3, 0xFFFF])
def test_r8_6_queue_enable_only_value_1(value):
    """R8.6: queue_enable acts only on 1; other values (0 included, SPEC 4.8 PCI) are ignored."""
    rig = Rig.init(queues=(0,))
    rig.select(1)
    rig.write(c.CC_QUEUE_ENABLE, value, 2)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 0
    rig.select(0)
    rig.write(c.CC_QUEUE_ENABLE, value, 2)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1  # an enabled queue stays enabled


@pytest.mark.parametrize("value", [0, 2, 0xFFFF])
def test_r8_6_queue_reset_only_value_1(value):
    """R8.6: queue_reset acts only on a written value of 1."""
    rig = Rig.running()
    rig.select(0)
    rig.write(c.CC_QUEUE_RESET, value, 2)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 1 and rig.read(c.CC_QUEUE_RESET, 2) == 0


def test_r8_6_queue_select_beyond_num_queues_ignores_writes():
    """R8.6: queue_select >= num_queues: writes to queue fields are ignored (and they read 0), queues unchanged."""
    rig = Rig.init(queues=())
    before = [rig.queue_fields(q) for q in (0, 1)]
    rig.select(2)
    for f in COMMON_FIELDS:
        if f.per_queue and f.writable:
            value = 1 if f.name in ("queue_enable", "queue_reset") else 4
            rig.write(f.offset, value, f.width)
            assert rig.read(f.offset, f.width) == 0, f.name
    assert [rig.queue_fields(q) for q in (0, 1)] == before


@pytest.mark.parametrize("field", ["config_msix_vector", "queue_msix_vector"])
def test_r8_6_vector_validation(field):
    """R8.6 / SPEC 5.1: vectors 0 .. MSIX_VECTORS-1 and 0xFFFF are stored as written; other values read 0xFFFF."""
    rig = Rig.init(queues=())
    rig.select(0)
    off = c.CC_CONFIG_MSIX_VECTOR if field == "config_msix_vector" else c.CC_QUEUE_MSIX_VECTOR
    nv = rig.params.MSIX_VECTORS
    for value, want in ((0, 0), (nv - 1, nv - 1), (nv, 0xFFFF), (1, 1), (0x7FF, 0xFFFF), (0xFFFE, 0xFFFF),
                        (2, 2), (0xFFFF, 0xFFFF)):
        rig.write(off, value, 2)
        assert rig.read(off, 2) == want, value


# ----------------------------------------------------------------------------------------------------- byte lanes (5.1)
WRITABLE_PLAIN = {  # RW fields without validation, in a state where they are writable (INIT, queue 1 disabled)
    "device_feature_select": 4, "driver_feature_select": 4, "driver_feature": 4, "queue_select": 2,
    "queue_desc_lo": 4, "queue_desc_hi": 4, "queue_driver_lo": 4, "queue_driver_hi": 4, "queue_device_lo": 4,
    "queue_device_hi": 4, "queue_avail_state": 2, "queue_used_state": 2,
}


def _field(name):
    return {f.name: f for f in COMMON_FIELDS}[name]


@pytest.mark.parametrize("name, access", [(name, access) for name in sorted(WRITABLE_PLAIN) for access in (1, 2)
                                          if access <= _field(name).width])
def test_s5_1_narrow_writes_every_field(name, access):
    """SPEC 5.1 / B25: 8- and 16-bit writes to every byte (pair) of a field update only those bytes; each byte lane
    reads back in its own lane with 8-, 16- and 32-bit reads.  driver_feature is writable before FEATURES_OK, the vq
    state after it (window 1), the others in either."""
    rig = Rig.init(features_ok=name != "driver_feature", queues=())
    rig.select(1)
    f = _field(name)
    value = rig.read(f.offset, f.width) if f.width < 4 else rig.read(f.offset)
    pattern = 0x8C4A2E61 & ((1 << 8 * f.width) - 1)
    for off in range(0, f.width, access):
        mask = (1 << 8 * access) - 1
        chunk = pattern >> 8 * off & mask
        rig.write(f.offset + off, chunk, access)
        value = value & ~(mask << 8 * off) | chunk << 8 * off
        if name != "queue_select":
            rig.select(1)
        got = rig.read(f.offset, f.width) if f.width < 4 else rig.read(f.offset)
        assert got == value, (name, off)
    for off in range(f.width):
        assert rig.read(f.offset + off, 1) == value >> 8 * off & 0xFF
    word = rig.read(f.offset & ~3)
    assert word >> 8 * (f.offset & 3) & ((1 << 8 * f.width) - 1) == value


def test_s5_1_every_field_readable_in_its_lanes():
    """SPEC 5.1: a read returns every field in its own byte lanes (8-, 16-bit reads equal the 32-bit word's lanes)."""
    rig = Rig.running(msix=True)
    rig.select(0)
    for word in range(0, c.COMMON_CFG_LEN_VQ_STATE, 4):
        w32 = rig.read(word)
        for b in range(4):
            assert rig.read(word + b, 1) == w32 >> 8 * b & 0xFF
        for h in (0, 2):
            assert rig.read(word + h, 2) == w32 >> 8 * h & 0xFFFF


def test_s5_1_status_word_write_reset_drops_queue_select_lanes():
    """SPEC 5.1 / SUS-13 / B25: a 32-bit write of 0x0001_0000 at 0x14 writes 0 to device_status first, which
    resets, so the queue_select lanes are dropped (queue_select reads 0, not 1)."""
    rig = Rig.running()
    rig.write(c.CC_DEVICE_STATUS, 0x0001_0000)
    assert rig.state == St.INIT and rig.status == 0
    assert rig.read(c.CC_QUEUE_SELECT, 2) == 0


def test_s5_1_status_word_write_ascending_order():
    """SPEC 5.1 / B25: a 32-bit write at 0x14 with a non-zero status updates status then queue_select; the
    config_generation lane (read-only) is ignored."""
    rig = Rig()
    rig.write(c.CC_DEVICE_STATUS, 0x0001_FF01)
    assert rig.status == 0x01
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 0
    assert rig.read(c.CC_QUEUE_SELECT, 2) == 1


def test_s5_1_strobed_write_only_selected_lanes():
    """SPEC 5.1: only the strobed byte lanes are written (raw AXI4-Lite write with WSTRB)."""
    rig = Rig.init(queues=())
    rig.write(c.CC_DEVICE_FEATURE_SELECT, 0x11223344)
    rig.dev.write_strobed(c.CC_DEVICE_FEATURE_SELECT, 0xAABBCCDD, 0b0101)
    assert rig.read(c.CC_DEVICE_FEATURE_SELECT) == 0x11BB33DD
    rig.dev.write_strobed(c.CC_DEVICE_FEATURE_SELECT, 0, 0)
    assert rig.read(c.CC_DEVICE_FEATURE_SELECT) == 0x11BB33DD
    # Word 0x18 holds queue_size (0x18) and queue_msix_vector (0x1A): strobe only the vector's low byte.
    rig.select(1)
    rig.write(c.CC_QUEUE_MSIX_VECTOR, 0, 2)
    rig.dev.write_strobed(c.CC_QUEUE_SIZE, 0x0002_0040, 0b0100)
    assert rig.read(c.CC_QUEUE_MSIX_VECTOR, 2) == 2 and rig.read(c.CC_QUEUE_SIZE, 2) == 256


def test_s5_1_partial_writes_validate_merged_value():
    """SPEC 5.1 / R8.6: validation applies to the field value after the byte-lane merge: a low-byte write of 1 to a
    vector showing 0xFFFF gives 0xFF01, which is invalid and stored as 0xFFFF; from 0x0000 it gives 1."""
    rig = Rig.init(queues=())
    rig.write(c.CC_CONFIG_MSIX_VECTOR, 1, 1)
    assert rig.read(c.CC_CONFIG_MSIX_VECTOR, 2) == 0xFFFF
    rig.write(c.CC_CONFIG_MSIX_VECTOR, 0, 2)
    rig.write(c.CC_CONFIG_MSIX_VECTOR, 2, 1)
    assert rig.read(c.CC_CONFIG_MSIX_VECTOR, 2) == 2
    rig.write(c.CC_CONFIG_MSIX_VECTOR + 1, 0x01, 1)  # 0x0102 >= MSIX_VECTORS
    assert rig.read(c.CC_CONFIG_MSIX_VECTOR, 2) == 0xFFFF
    # queue_size 256 = 0x0100: the high byte alone set to 0 gives 0 (ignored); the low byte alone 0x80 gives 0x180
    # (not a power of two, ignored); 16-bit 64 then low byte 0x80 gives 128 (accepted).
    rig.select(1)
    rig.write(c.CC_QUEUE_SIZE + 1, 0, 1)
    assert rig.read(c.CC_QUEUE_SIZE, 2) == 256
    rig.write(c.CC_QUEUE_SIZE, 0x80, 1)
    assert rig.read(c.CC_QUEUE_SIZE, 2) == 256
    rig.write(c.CC_QUEUE_SIZE, 64, 2)
    rig.write(c.CC_QUEUE_SIZE, 0x80, 1)
    assert rig.read(c.CC_QUEUE_SIZE, 2) == 128
    # queue_enable: a high-byte write of 1 gives 0x0100, not 1: ignored.
    rig.write(c.CC_QUEUE_ENABLE + 1, 1, 1)
    assert rig.read(c.CC_QUEUE_ENABLE, 2) == 0


@pytest.mark.parametrize("name", ["device_feature", "num_queues", "config_generation", "queue_notify_off",
                                  "queue_notif_config_data", "admin_queue_index", "admin_queue_num"])
def test_r8_6_read_only_fields_ignore_writes(name):
    """R8.6 / SPEC 5.1: writes to read-only fields are ignored (full and narrow widths)."""
    rig = Rig.init()
    rig.select(1)
    f = _field(name)
    before = rig.common()
    rig.select(1)
    for size in (1, 2, 4):
        if f.width >= size:
            for off in range(0, f.width, size):
                rig.write(f.offset + off, 0xFFFFFFFF >> (32 - 8 * size), size)
    rig.select(1)
    assert rig.common() == before


def test_r8_6_unused_offsets_read_zero_and_ignore_writes():
    """R8.6 / rule 8.7: unused offsets (after the common config, around ISR, the notify window, beyond the device
    config) read 0, and writes there change nothing."""
    rig = Rig.running()
    before = rig.common()
    unused = list(range(0x44, 0x100, 4)) + list(range(0x104, 0x200, 0x3C)) + [0x2FC] + \
        list(range(0x300 + rig.params.DEV_CFG_SIZE, 0x1000, 0x1F4))
    for addr in unused:
        rig.write(addr & ~3, 0xFFFFFFFF)
        assert rig.read(addr & ~3) == 0, hex(addr)
    for q in range(rig.params.NUM_QUEUES):
        assert rig.read(c.BAR_NOTIFY + 4 * q) == 0  # the notify window reads 0
    assert rig.common() == before and rig.state == St.RUNNING


def test_r8_6_vq_state_regs_zero_unused():
    """R8.6 / SUS-20: with VQ_STATE_REGS = 0 the words at 0x40 read 0 and ignore writes."""
    rig = Rig.init(VQ_STATE_REGS=0, queues=())
    rig.write(0x40, 0x00050006)
    assert rig.read(0x40) == 0


# ------------------------------------------------------------------------------------------------------ features (3.1)
def test_s3_1_device_feature_windows():
    """SPEC 3.1 / B1: device_feature select 0 and 1 show DEVICE_FEATURES; selects >= 2 read 0."""
    rig = Rig()
    want = {0: 0x3000_0000, 1: 0x0000_0901, 2: 0, 3: 0, 0xFFFF_FFFF: 0}
    for sel, value in want.items():
        rig.write(c.CC_DEVICE_FEATURE_SELECT, sel)
        assert rig.read(c.CC_DEVICE_FEATURE) == value, sel


def test_s3_1_driver_feature_mirror():
    """SPEC 3.1 / B1: driver_feature reads back exactly the bits written (unoffered ones too) for selects 0 and 1;
    selects >= 2 ignore writes and read 0."""
    rig = Rig()
    for sel, value in ((0, 0xFFFF_FFFF), (1, 0x1234_5678), (2, 0xDEAD_BEEF), (7, 1)):
        rig.write(c.CC_DRIVER_FEATURE_SELECT, sel)
        rig.write(c.CC_DRIVER_FEATURE, value)
    for sel, want in ((0, 0xFFFF_FFFF), (1, 0x1234_5678), (2, 0), (7, 0)):
        rig.write(c.CC_DRIVER_FEATURE_SELECT, sel)
        assert rig.read(c.CC_DRIVER_FEATURE) == want


def test_s3_3_refusal_missing_version_1():
    """SPEC 3.3 / B1: VERSION_1 missing -> FEATURES_OK refused (0x03)."""
    rig = Rig()
    rig.negotiate(feature_set() & ~(1 << c.F_VERSION_1), features_ok=False)
    rig.write_status(0x0B)
    assert rig.status == 0x03


def test_s3_3_driver_feature_ignored_after_features_ok():
    """SPEC 3.3: once FEATURES_OK=1 further driver_feature writes are ignored (the negotiated set is frozen)."""
    rig = Rig.init(features=feature_set(suspend=False))
    rig.write(c.CC_DRIVER_FEATURE_SELECT, 1)
    rig.write(c.CC_DRIVER_FEATURE, feature_set() >> 32)
    rig.driver_ok()
    rig.write_status(0x1F)
    assert rig.state == St.RUNNING  # F_SUSPEND still not negotiated


# ----------------------------------------------------------------------------------------------------- 64-bit addresses
@pytest.mark.parametrize("order", ["high_first", "low_first"])
def test_b20_64bit_addresses_either_half_order(order):
    """SPEC 5.1 / B20: each half of a 64-bit queue address takes effect on its own, in any order; the device then
    uses the full 64-bit addresses (a ring above 4 GiB)."""
    rig = Rig.init(queues=())
    hi = 0x0000_0012
    desc, avail, used = (hi << 32 | 0x1000_0000, hi << 32 | 0x1000_8000, hi << 32 | 0x1001_0000)
    rig.select(0)
    rig.write(c.CC_QUEUE_SIZE, 8, 2)
    for lo_off, addr in ((c.CC_QUEUE_DESC_LO, desc), (c.CC_QUEUE_DRIVER_LO, avail), (c.CC_QUEUE_DEVICE_LO, used)):
        halves = [(lo_off, addr & 0xFFFF_FFFF), (lo_off + 4, addr >> 32)]
        for off, value in (halves[::-1] if order == "high_first" else halves):
            rig.write(off, value)
        assert rig.read(lo_off) == addr & 0xFFFF_FFFF and rig.read(lo_off + 4) == addr >> 32
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    lay = RingLayout(desc, avail, used, 8)
    rig.layouts[0], rig.avail_idx[0], rig.next_desc[0] = lay, 0, 0
    p = rig.post(0, [(4, False), (4, True)])
    rig.driver_ok()
    rig.run()
    assert rig.used_elems(0) == [(p.head, 4)]


def test_b20_half_write_takes_effect_alone():
    """SPEC 5.1: a single half-write changes only its half (no latching waiting for the other half)."""
    rig = Rig.init(queues=())
    rig.select(1)
    rig.write(c.CC_QUEUE_DESC_HI, 0x5)
    assert rig.read(c.CC_QUEUE_DESC_HI) == 5 and rig.read(c.CC_QUEUE_DESC_LO) == 0
    rig.write(c.CC_QUEUE_DESC_LO, 0x100)
    assert rig.read(c.CC_QUEUE_DESC_HI) == 5 and rig.read(c.CC_QUEUE_DESC_LO) == 0x100


# ------------------------------------------------------------------------------------------------------ ISR and INTx
@pytest.mark.parametrize("addr, size", [(0x100, 1), (0x101, 1), (0x102, 1), (0x103, 1), (0x100, 2), (0x102, 2),
                                        (0x100, 4)])
def test_s5_1_isr_any_read_of_word_clears(addr, size):
    """SPEC 5.1 / B24: any read touching 0x100-0x103 returns ISR in byte lane 0 (other lanes 0) and clears it."""
    rig = Rig.running()
    rig.dev.devcfg_write(0, 1)
    assert rig.dev.intx
    got = rig.read(addr, size)
    assert got == (c.ISR_CONFIG if addr == 0x100 else 0)
    assert rig.read_isr() == 0 and not rig.dev.intx


def test_b24_intx_follows_isr_and_msix_enable():
    """SPEC 5.1 / B24: INTx = (ISR != 0) && !msix_enable, evaluated continuously while msix_enable toggles with ISR
    bit 1 set; with MSI-X a config change still sets ISR bit 1 and a used notification sets no ISR bit."""
    rig = Rig.running(msix=True)
    rig.dev.devcfg_write(0, 1)
    assert rig.dev.irqs == [2] and not rig.dev.intx
    rig.dev.set_msix_enable(False)
    assert rig.dev.intx
    rig.dev.set_msix_enable(True)
    assert not rig.dev.intx
    rig.dev.set_msix_enable(False)
    assert rig.read_isr() == c.ISR_CONFIG and not rig.dev.intx
    rig.dev.set_msix_enable(True)
    rig.post(0, [(4, False), (4, True)], kick=True)
    rig.run()
    assert rig.dev.irqs == [2, 0] and rig.read_isr() == 0


def test_s5_1_used_notification_without_msix_sets_isr_bit0():
    """SPEC 5.1: with MSI-X disabled a used-buffer notification sets ISR bit 0 and INTx; no message is sent."""
    rig = Rig.running()
    rig.post(0, [(4, False), (4, True)], kick=True)
    rig.run()
    assert rig.dev.intx and rig.dev.irqs == []
    assert rig.read_isr() == c.ISR_QUEUE


def test_s5_1_config_no_vector_sets_isr_only():
    """SPEC 5.1: with MSI-X and config_msix_vector = NO_VECTOR nothing is emitted, ISR bit 1 is still set."""
    rig = Rig.running(msix=True, config_vector=c.NO_VECTOR)
    rig.dev.devcfg_write(0, 1)
    assert rig.dev.irqs == [] and rig.read_isr() == c.ISR_CONFIG


# ------------------------------------------------------------------------------------------------------ device config
def test_r8_10_devcfg_words_0_1_read_only_2_3_rw():
    """DESIGN / rule 8.6: device-config words 0-1 are read-only to the driver (written from the device side), words
    2-3 are read/write for the driver and writable from the device side; driver writes do not set cfg_dirty."""
    rig = Rig.running()
    for word in range(4):
        rig.write(c.BAR_DEVICE_CFG + 4 * word, 0x1111_1111 * (word + 1))
    assert [rig.read(c.BAR_DEVICE_CFG + 4 * w) for w in range(4)] == [0, 0, 0x3333_3333, 0x4444_4444]
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 0  # driver writes do not dirty
    rig.write(c.BAR_DEVICE_CFG + 9, 0xAB, 1)
    assert rig.read(c.BAR_DEVICE_CFG + 8) == 0x3333_AB33
    rig.dev.devcfg_write(4, 0x77)
    rig.dev.devcfg_write(12, 0x88)
    assert rig.read(c.BAR_DEVICE_CFG + 4) == 0x77 and rig.read(c.BAR_DEVICE_CFG + 12) == 0x88


def test_r8_10_devcfg_reads_beyond_size_zero_no_generation():
    """R8.10 / B24: reads beyond DEV_CFG_SIZE return 0 and do not count as device-config reads (no generation bump);
    a device-side write at or beyond DEV_CFG_SIZE is ignored."""
    rig = Rig.running()
    rig.dev.devcfg_write(rig.params.DEV_CFG_SIZE, 0xFF)
    rig.dev.devcfg_write(0, 0x5)
    assert rig.read(c.BAR_DEVICE_CFG + rig.params.DEV_CFG_SIZE) == 0
    assert rig.read(c.BAR_DEVICE_CFG + 0xFC) == 0
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 0
    assert rig.read(c.BAR_DEVICE_CFG + 2, 1) == 0  # touches a byte inside: counts
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 1


def test_r8_10_devcfg_change_in_init_no_notification():
    """R8.10: a device-side change in INIT is applied, sets cfg_dirty, and sends no notification."""
    rig = Rig.init()
    rig.dev.devcfg_write(0, 0x9)
    assert rig.read_isr() == 0
    assert rig.read(c.BAR_DEVICE_CFG) == 9 and rig.read(c.CC_CONFIG_GENERATION, 1) == 1


@pytest.mark.parametrize("mode", MODES)
def test_b24_generation_first_read_in_halted(mode):
    """SPEC 2.6 / B24: a change applied in RUNNING before HALTED entry: the first device-config read, made in HALTED,
    shows a changed generation."""
    rig = Rig.running(mode)
    rig.dev.devcfg_write(0, 3)
    rig.write_status(0x8F)
    assert rig.state == St.HALTED
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 0
    assert rig.read(c.BAR_DEVICE_CFG) == 3
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 1


def test_s2_6_generation_wraps_8_bits():
    """SPEC 2.6: config_generation is 8 bits and increments once per dirty device-config read."""
    rig = Rig.running()
    for i in range(1, 258):
        rig.dev.devcfg_write(0, i)
        rig.read(c.BAR_DEVICE_CFG)
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == 257 & 0xFF


# ------------------------------------------------------------------------------------------------------ kicks (8.7)
def test_r8_7_kick_decoding_address_selects_queue():
    """R8.7: a write to 0x200 + 4q kicks queue q whatever the value; other offsets in the window have no effect."""
    rig = Rig.init()
    rig.write(c.BAR_NOTIFY + 4, 0x0, 2)  # value ignored: queue 1 by address
    assert rig.dev.core.queues[1].kick_pending and not rig.dev.core.queues[0].kick_pending
    for addr, size in ((0x202, 2), (0x201, 1), (0x203, 1), (0x206, 2), (0x210, 2), (0x2FC, 4)):
        rig.write(addr, 0, size)
    assert not rig.dev.core.queues[0].kick_pending


def test_r8_7_kicks_to_absent_or_disabled_queues_ignored():
    """R8.7: kicks to a queue >= num_queues or to a disabled queue are ignored (no kick_pending, no DMA)."""
    rig = Rig.running(queues=(0,))
    rig.log.clear()
    rig.kick(1)  # disabled
    rig.kick(2)  # absent
    rig.kick(63)
    assert not rig.dev.core.queues[1].kick_pending
    rig.run()
    assert rig.log.events == []


def test_r8_7_kick_before_driver_ok_served_at_driver_ok():
    """R8.7 / SUS-10: a kick in INIT is latched (no DMA) and served by the scan at DRIVER_OK."""
    rig = Rig.init()
    p = rig.post(0, [(4, False), (4, True)])
    rig.kick(0)
    assert rig.dev.core.queues[0].kick_pending and rig.log.events == []
    rig.driver_ok()
    rig.run()
    assert rig.used_elems(0) == [(p.head, 4)]


def test_r8_7_enable_in_running_scans_that_queue():
    """R8.7: queue_enable 0->1 while RUNNING is an entry into RUNNING for that queue: it is scanned without a kick."""
    rig = Rig.running(queues=(0,))
    desc, avail, used = QUEUE_BASES[1]
    lay = rig.setup_queue(1, enable=False)
    p = rig.post(1, [(4, False), (4, True)])
    rig.select(1)
    rig.write(c.CC_QUEUE_ENABLE, 1, 2)
    rig.run()
    assert rig.used_elems(1) == [(p.head, 4)]
    assert lay.desc == desc
