"""Register-map conformance of `virtio_core` (SPEC 5.1, rules 8.5, 8.6, 8.7; Appendix B 1, 18, 20, 24, 25).

Every read-back is judged by the golden model (core_tb.Scoreboard), so a test only has to drive the accesses that
matter; the values written here by hand are those SPEC states outright (reset values, feature windows, validation).
"""

import random

from cocotb.triggers import ClockCycles

from virtio_golden import constants as c
from virtio_golden.constants import EngineState as St
from virtio_golden.regmap import COMMON_FIELDS

from .core_tb import TIMEOUT, CoreTB
from .seeded import seeded_test

STATUS_LANE = 1 << (c.CC_DEVICE_STATUS & 3)  # byte lane of device_status in word 0x14


def common_words(tb: CoreTB) -> list:
    end = c.COMMON_CFG_LEN_VQ_STATE if tb.params.VQ_STATE_REGS else c.COMMON_CFG_LEN
    return list(range(0, end, 4))


def unused_addresses(tb: CoreTB, rng: random.Random) -> list:
    """Word addresses of every kind of unused BAR space (rule 8.6, 8.7), a few of each."""
    p = tb.params
    common_end = c.COMMON_CFG_LEN_VQ_STATE if p.VQ_STATE_REGS else c.COMMON_CFG_LEN
    ranges = [(common_end, c.BAR_ISR), (c.BAR_ISR + 4, c.BAR_NOTIFY),
              (c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * p.NUM_QUEUES, c.BAR_DEVICE_CFG),
              (c.BAR_DEVICE_CFG + p.DEV_CFG_SIZE, 0x400), (0x400, 0x1000)]
    picks = []
    for lo, hi in ranges:
        words = range(lo, hi, 4)
        picks += [words[0], words[-1]] + rng.sample(list(words), min(3, len(words)))
    return sorted(set(picks))


@seeded_test(**TIMEOUT)
async def test_reset_values(dut, rng: random.Random) -> None:
    """Rule 8.5 after `rst`, and after a device reset from a device with every register changed (the device-specific
    configuration keeps its value, SPEC 2.6)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.check_reset_values(devcfg=bytes(tb.params.DEV_CFG_SIZE))
    p = tb.params
    await tb.negotiate()
    for q in range(p.NUM_QUEUES):
        await tb.select(q)
        await tb.write(c.CC_QUEUE_SIZE, (q % p.MSIX_VECTORS) << 16 | p.QUEUE_SIZE_MAX // 2)
        for half in range(c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DEVICE_HI + 4, 4):
            await tb.write(half, rng.getrandbits(32) & ~0xF)
        await tb.write(c.CC_QUEUE_AVAIL_STATE, rng.getrandbits(32))
        await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
    await tb.write(c.CC_CONFIG_MSIX_VECTOR, 0, 2)
    await tb.write(c.CC_DEVICE_FEATURE_SELECT, 1)
    await tb.write_status(0x0F)
    await tb.devcfg_write(0, 0x1234_5678)  # a change in RUNNING: notified, ISR bit 1
    await tb.kick(0)
    devcfg = await tb.read_devcfg()
    await tb.write(c.CC_DRIVER_FEATURE_SELECT, 7)
    await tb.write_status(0)
    await tb.check_reset_values(devcfg=devcfg)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_field_access(dut, rng: random.Random) -> None:
    """SPEC 5.1 byte lanes (B25): random writes with random WSTRB to every word of the common configuration, in INIT
    before and after FEATURES_OK and in RUNNING, each read back; reads at every byte address (bits [1:0] are
    ignored); every field also through its own width."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    for stage in ("features", "init", "running"):
        if stage == "init":
            await tb.negotiate()  # FEATURES_OK: the vq-state window 1 and queue_reset open
        elif stage == "running":
            await tb.to_running()
        for _ in range(3):
            for word in common_words(tb):
                strb = rng.randrange(1, 16)
                if word == c.CC_DEVICE_STATUS & ~3:
                    strb &= ~STATUS_LANE  # the status byte has its own tests (rule 8.4)
                data = rng.getrandbits(32)
                if word == c.CC_QUEUE_SELECT & ~3:
                    data = data & 0xFFFF | rng.randrange(p.NUM_QUEUES + 1) << 16
                await tb.write_strobed(word, data, strb)
                await tb.read(word)
        for addr in rng.sample(range(0, c.COMMON_CFG_LEN_VQ_STATE), 12):
            await tb.axil.read(addr, 1)  # AXI-Lite reads at unaligned byte addresses return the whole word
        for field in COMMON_FIELDS:
            if field.name not in ("device_status", "queue_select", "queue_enable", "queue_reset"):
                await tb.write(field.offset, rng.getrandbits(8 * field.width), field.width)
            await tb.read(field.offset, field.width)
    await tb.write(c.CC_QUEUE_SELECT, 0, 2)
    await tb.read_common()
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_status_word_lanes(dut, rng: random.Random) -> None:
    """SPEC 5.1 (B25): a 32-bit write at 0x14 updates device_status first, then queue_select; a 0 in the status lane
    is a reset, whose queue_select lanes are dropped (the write of 0x0001_0000 leaves queue_select at 0)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.negotiate()
    await tb.write_strobed(c.CC_DEVICE_STATUS, 0x0001_000F, 0xF)  # DRIVER_OK and queue_select = 1
    assert await tb.read(c.CC_DEVICE_STATUS) == 0x0001_000F and tb.state == St.RUNNING
    await tb.write_strobed(c.CC_DEVICE_STATUS, 0x0001_0000, 0xF)  # a reset: its queue_select lanes are dropped
    assert await tb.read(c.CC_DEVICE_STATUS) == 0
    await tb.write_strobed(c.CC_DEVICE_STATUS, 0xAB01_FF03, 0xD)  # status 0x03; config_generation lane is RO
    assert await tb.read(c.CC_DEVICE_STATUS) == 0xAB01_0003
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_unused_space(dut, rng: random.Random) -> None:
    """Rules 8.6 and 8.7: unused BAR space, the notify window and the device-specific window past DEV_CFG_SIZE read 0
    and ignore writes; nothing else changes; reads past DEV_CFG_SIZE do not count as device-config reads."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.to_running()
    await tb.devcfg_write(0, rng.getrandbits(32))  # cfg_dirty: a counted read would step config_generation
    before = await tb.read_common()
    for addr in unused_addresses(tb, rng):
        await tb.write_strobed(addr, rng.getrandbits(32), rng.randrange(1, 16))
        assert await tb.read(addr) == 0
    for q in range(tb.params.NUM_QUEUES):
        assert await tb.read(c.BAR_NOTIFY + c.NOTIFY_OFF_MULTIPLIER * q) == 0  # the notify window reads 0
    assert await tb.read_common() == before
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_isr_clear_on_read(dut, rng: random.Random) -> None:
    """SPEC 5.1, B24: any read of 0x100-0x103 returns ISR in lane 0 and clears it; INTx follows ISR and
    msix_enable (INTx falls when msix_enable rises while ISR bit 1 is set, and rises again when it falls)."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.to_running()
    for offset in range(4):
        await tb.devcfg_write(4 * offset % tb.params.DEV_CFG_SIZE, rng.getrandbits(32))
        await ClockCycles(dut.clk, 2)
        assert int(dut.intx.value) == 1
        await tb.axil.read(c.BAR_ISR + offset, 1)
        assert await tb.read(c.BAR_ISR) == 0
    await tb.devcfg_write(0, rng.getrandbits(32))
    await tb.set_msix(True)
    assert int(dut.intx.value) == 0
    await tb.set_msix(False)
    assert int(dut.intx.value) == 1
    assert await tb.read_isr() == c.ISR_CONFIG
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_address_halves(dut, rng: random.Random) -> None:
    """SPEC 5.1, B20: each 32-bit half of queue_desc / queue_driver / queue_device is written on its own, in either
    order, also with partial strobes; both orders give the same 64-bit value."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    await tb.negotiate()
    for q in range(tb.params.NUM_QUEUES):
        await tb.select(q)
        for lo in (c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DRIVER_LO, c.CC_QUEUE_DEVICE_LO):
            value = rng.getrandbits(64)
            await tb.write(lo + 4, value >> 32)
            await tb.write(lo, value & 0xFFFF_FFFF)
            high_first = await tb.read(lo + 4) << 32 | await tb.read(lo)
            await tb.write(lo, 0)
            await tb.write(lo + 4, 0)
            await tb.write(lo, value & 0xFFFF_FFFF)
            await tb.write(lo + 4, value >> 32)
            low_first = await tb.read(lo + 4) << 32 | await tb.read(lo)
            assert high_first == low_first == value
            for _ in range(4):
                await tb.write_strobed(lo + 4 * rng.randrange(2), rng.getrandbits(32), rng.randrange(1, 16))
                await tb.read(lo)
                await tb.read(lo + 4)
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_feature_windows(dut, rng: random.Random) -> None:
    """SPEC 3.1, B1: device_feature shows DEVICE_FEATURES through selects 0 and 1 and 0 beyond; driver_feature
    stores exactly what is written for selects 0 and 1 (unoffered bits included), ignores writes beyond and after
    FEATURES_OK; the negotiated set appears on the engine ports at FEATURES_OK."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    for select, expected in ((0, p.DEVICE_FEATURES & 0xFFFF_FFFF), (1, p.DEVICE_FEATURES >> 32), (2, 0),
                             (0xFFFF_FFFF, 0)):
        await tb.write(c.CC_DEVICE_FEATURE_SELECT, select)
        assert await tb.read(c.CC_DEVICE_FEATURE) == expected
        await tb.write(c.CC_DEVICE_FEATURE, rng.getrandbits(32))  # read-only
        assert await tb.read(c.CC_DEVICE_FEATURE) == expected
    await tb.write_status(c.S_ACKNOWLEDGE | c.S_DRIVER)
    for select in (0, 1, 2, 0x8000_0000):
        value = rng.getrandbits(32)
        await tb.write(c.CC_DRIVER_FEATURE_SELECT, select)
        await tb.write(c.CC_DRIVER_FEATURE, value)
        assert await tb.read(c.CC_DRIVER_FEATURE) == (value if select < 2 else 0)
    for select in (0, 1):
        await tb.write(c.CC_DRIVER_FEATURE_SELECT, select)
        await tb.write(c.CC_DRIVER_FEATURE, p.DEVICE_FEATURES >> 32 * select & 0xFFFF_FFFF)
    await tb.write_status(0x0B)
    assert await tb.status() == 0x0B
    assert int(dut.negotiated_features.value) == p.DEVICE_FEATURES
    assert int(dut.feat_event_idx.value) == p.offers(c.F_EVENT_IDX)
    assert int(dut.feat_indirect_desc.value) == p.offers(c.F_INDIRECT_DESC)
    await tb.write(c.CC_DRIVER_FEATURE, 0)  # FEATURES_OK is set: ignored
    assert await tb.read(c.CC_DRIVER_FEATURE) == p.DEVICE_FEATURES >> 32
    await tb.finish()


@seeded_test(**TIMEOUT)
async def test_queue_validation(dut, rng: random.Random) -> None:
    """Rule 8.6: invalid queue sizes, vectors outside the MSI-X table, queue_enable with misaligned areas or a value
    other than 1, writes to an enabled queue, and queue_select >= num_queues are all ignored."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    await tb.negotiate()
    await tb.select(0)
    for size in (0, 3, p.QUEUE_SIZE_MAX * 2, p.QUEUE_SIZE_MAX + 1, 1, p.QUEUE_SIZE_MAX // 2):
        await tb.write(c.CC_QUEUE_SIZE, size, 2)
        await tb.read(c.CC_QUEUE_SIZE, 2)
    assert await tb.read(c.CC_QUEUE_SIZE, 2) == p.QUEUE_SIZE_MAX // 2
    for vector in (p.MSIX_VECTORS, 0xFFFE, p.MSIX_VECTORS - 1, 0x8000):
        for field in (c.CC_QUEUE_MSIX_VECTOR, c.CC_CONFIG_MSIX_VECTOR):
            await tb.write(field, vector, 2)
            assert await tb.read(field, 2) == (vector if vector < p.MSIX_VECTORS else c.NO_VECTOR)
    for desc, driver, device in ((8, 0, 0), (0, 1, 0), (0, 0, 2), (0x10, 0x2, 0x4)):
        for lo, value in ((c.CC_QUEUE_DESC_LO, desc), (c.CC_QUEUE_DRIVER_LO, driver), (c.CC_QUEUE_DEVICE_LO, device)):
            await tb.write(lo, value)
        await tb.write(c.CC_QUEUE_ENABLE, 2, 2)  # only the value 1 enables
        await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
        enabled = await tb.read(c.CC_QUEUE_ENABLE, 2)
        assert enabled == (desc % 16 == 0 and driver % 2 == 0 and device % 4 == 0)
    await tb.write(c.CC_QUEUE_ENABLE, 0, 2)  # PCI: a 0 is ignored
    assert await tb.read(c.CC_QUEUE_ENABLE, 2) == 1
    for word in (c.CC_QUEUE_SIZE, c.CC_QUEUE_DESC_LO, c.CC_QUEUE_DRIVER_HI, c.CC_QUEUE_DEVICE_LO):
        await tb.write(word, rng.getrandbits(32) & ~0xF)  # ignored while the queue is enabled
    await tb.select(p.NUM_QUEUES)
    for word in common_words(tb)[6:]:
        await tb.write(word, rng.getrandbits(32))
        assert await tb.read(word) == 0
    await tb.read_common()
    await tb.finish()


WRITE_ACCEPTANCE_STATES = (St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING, St.HALTED)
WRITE_MARGIN = 10  # cycles a write takes without backpressure, with room to spare; RESUMING must outlast it


@seeded_test(**TIMEOUT)
async def test_write_acceptance(dut, rng: random.Random) -> None:
    """Rule 8.6 (B18, and B26 in a SUSPENDED_CFG_LOCK build): every register written in every engine state, to an
    enabled and a disabled queue, then read back; the golden model judges which writes took effect. RESUMING is
    visited as far as RESUME_LATENCY leaves room for the writes."""
    tb = CoreTB(dut, rng)
    await tb.reset()
    p = tb.params
    for state in WRITE_ACCEPTANCE_STATES:
        await tb.negotiate()
        for q in range(p.NUM_QUEUES):  # every queue configured, the last one left disabled
            await tb.select(q)
            await tb.write(c.CC_QUEUE_DESC_LO, 0x1000 * (q + 1))
            if q < p.NUM_QUEUES - 1 or p.NUM_QUEUES == 1:
                await tb.write(c.CC_QUEUE_ENABLE, 1, 2)
        if state != St.INIT:
            await tb.write_status(0x0F)
        if state == St.SUSPENDING:
            tb.engine.hold_drain = True
            await tb.write_status(0x1F)
        elif state in (St.SUSPENDED, St.RESUMING):
            await tb.write_status(0x1F)
            await tb.poll_status(lambda s: s & c.S_SUSPEND)
            if state == St.RESUMING:
                tb.set_backpressure(False)
                await tb.write_status(0x0F)
        elif state == St.HALTED:
            await tb.fault_inj()
        await tb.wait_state(state, limit=8)
        for write in acceptance_writes(tb, rng):
            if state == St.RESUMING and tb.resuming_cycles_left() < WRITE_MARGIN:
                break
            await write()
        tb.set_backpressure(True)
        tb.engine.hold_drain = False
        await tb.settle()
        await tb.read_common()
    await tb.finish()


def acceptance_writes(tb: CoreTB, rng: random.Random):
    """The register writes of the rule 8.6 table, for both the enabled queue 0 and the last queue (disabled)."""
    p = tb.params
    devcfg_word = c.BAR_DEVICE_CFG + 8 % p.DEV_CFG_SIZE
    data = [rng.getrandbits(32) for _ in range(4)]
    writes = [lambda: tb.write(c.CC_DEVICE_FEATURE_SELECT, 1), lambda: tb.write(c.CC_DRIVER_FEATURE_SELECT, 1),
              lambda: tb.write(c.CC_DRIVER_FEATURE, data[0]), lambda: tb.write(c.CC_CONFIG_MSIX_VECTOR, 0, 2),
              lambda: tb.write(devcfg_word, data[1]), tb.read_isr, lambda: tb.kick(0)]
    for q in sorted({0, p.NUM_QUEUES - 1}):
        writes += [lambda q=q: tb.select(q),
                   lambda q=q: tb.write(c.CC_QUEUE_SIZE, (q % p.MSIX_VECTORS) << 16 | 1),
                   lambda: tb.write(c.CC_QUEUE_DEVICE_LO, 0x40), lambda: tb.write(c.CC_QUEUE_DRIVER_HI, 1),
                   lambda: tb.write(c.CC_QUEUE_AVAIL_STATE, data[2]), lambda: tb.write(c.CC_QUEUE_ENABLE, 1, 2)]
    return writes
