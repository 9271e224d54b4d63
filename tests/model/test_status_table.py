"""Rule 8.4 (status writes in every engine state), the chapter 1 encodings summary, the transitions not caused by a
status write, and the fault_inj hook (Appendix B 16, 23).

Every expected value below is written by hand from SPEC.md (rule 8.4's tables and helpers, SUS-03, SUS-11, SUS-14,
SUS-15, Q14), never taken from the model.  The table is checked twice: against the pure `decide_status_write`, then
through register writes on a standalone Device, reading P back.
"""

from dataclasses import dataclass, field

import pytest

from helpers import ACK, DRIVER, DRIVER_OK, FEATURES_OK, MODES, NEXT, GatedBackend, Rig, feature_set, sid
from virtio_golden import constants as c
from virtio_golden.backend import BackendModel
from virtio_golden.constants import EngineState as St
from virtio_golden.constants import SuspendMode, WriteClass
from virtio_golden.status import classify_write, decide_status_write

pytestmark = pytest.mark.model

V14, RFC = "V14", "RFC"
BOTH = (V14, RFC)
INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING, HALTED, RESET_PENDING = (
    St.INIT, St.RUNNING, St.SUSPENDING, St.SUSPENDED, St.RESUMING, St.HALTED, St.RESET_PENDING)


@dataclass(frozen=True)
class Cell:
    """One rule 8.4 cell: W written in `state` with P shown -> the state and P after the write, and what it does.

    `negotiated`: F_SUSPEND accepted at FEATURES_OK; `valid`: the stored feature set passes SPEC 3.3.
    `flags`: the StatusDecision flags expected to be set (all others clear)."""

    state: St
    p: int
    w: int
    modes: tuple
    cls: WriteClass
    to: St
    p_after: int
    flags: frozenset = field(default_factory=frozenset)
    negotiated: bool = True
    valid: bool = True
    resume_to: St = None
    why: str = ""

    def id(self, mode) -> str:
        extra = ("" if self.negotiated else "-unneg") + ("" if self.valid else "-refused")
        return f"{self.state.name}-P{self.p:02x}-W{self.w:02x}-{mode}{extra}"


def cell(state, p, w, modes, cls, to, p_after, *flags, **kw):
    return Cell(state, p, w, tuple(modes), cls, to, p_after, frozenset(flags), **kw)


Z, F_, D, S, FO, O = (WriteClass.ZERO, WriteClass.FAILED, WriteClass.DRIVER_OK, WriteClass.SUSPEND,
                      WriteClass.FEATURES_OK, WriteClass.OTHER)

# ------------------------------------------------------------------------------------------ the rule 8.4 table, by hand
CELLS = [
    # ---- INIT, P = 0x0B (FEATURES_OK accepted) ---------------------------------------------------------------------
    cell(INIT, 0x0B, 0x00, BOTH, Z, RESET_PENDING, 0x0B, "reset", why="SUS-13"),
    cell(INIT, 0x0B, 0x80, BOTH, F_, HALTED, 0x8B, "halt_failed", why="SUS-15: P|0x80"),
    cell(INIT, 0x0B, 0x8F, BOTH, F_, HALTED, 0x8B, "halt_failed", why="FAILED column: no other bit of W used"),
    cell(INIT, 0x0B, 0xFF, BOTH, F_, HALTED, 0x8B, "halt_failed", why="FAILED wins over every other bit"),
    cell(INIT, 0x0B, 0x0F, BOTH, D, RUNNING, 0x0F, "enter_running", why="merge; -> RUNNING, scan (8.7)"),
    cell(INIT, 0x0B, 0x04, BOTH, D, RUNNING, 0x0F, "enter_running", why="merge adds DRIVER_OK only"),
    cell(INIT, 0x0B, 0x4F, BOTH, D, RUNNING, 0x0F, "enter_running", why="0x40 never copied (merge B=W&0x0F)"),
    cell(INIT, 0x0B, 0x2F, BOTH, D, RUNNING, 0x0F, "enter_running", why="0x20 never copied"),
    cell(INIT, 0x0B, 0x1F, [V14], D, RUNNING, 0x0F, "enter_running", why="V14: P had no DRIVER_OK, bit 4 dropped"),
    cell(INIT, 0x0B, 0x1F, [RFC], D, SUSPENDED, 0x1F, "suspend", why="RFC eligible: SUSPENDED same update, no scan"),
    cell(INIT, 0x0B, 0x7F, [V14], D, RUNNING, 0x0F, "enter_running", why="0x20/0x40 dropped, bit 4 dropped"),
    cell(INIT, 0x0B, 0x7F, [RFC], D, SUSPENDED, 0x1F, "suspend", why="RFC eligible; 0x20/0x40 never copied"),
    cell(INIT, 0x0B, 0x1F, [RFC], D, RUNNING, 0x0F, "enter_running", negotiated=False,
         why="F_SUSPEND not negotiated: bit 4 dropped (SUS-03)"),
    cell(INIT, 0x0B, 0x1B, [V14], S, INIT, 0x0B, why="V14: bit 4 dropped; merge; stay INIT"),
    cell(INIT, 0x0B, 0x1B, [RFC], S, SUSPENDED, 0x1B, "suspend", why="RFC eligible: 0x0B, W=0x1B -> 0x1B (SUS-03)"),
    cell(INIT, 0x0B, 0x10, [RFC], S, SUSPENDED, 0x1B, "suspend", why="RFC eligible: P|0x10"),
    cell(INIT, 0x0B, 0x5B, [RFC], S, SUSPENDED, 0x1B, "suspend", why="0x40 never copied"),
    cell(INIT, 0x0B, 0x3B, [V14], S, INIT, 0x0B, why="V14: 0x20 and bit 4 dropped"),
    cell(INIT, 0x0B, 0x1B, [RFC], S, INIT, 0x0B, negotiated=False, why="not eligible: bit 4 dropped"),
    cell(INIT, 0x0B, 0x0B, BOTH, O, INIT, 0x0B, why="other: FEATURES_OK already set, nothing new"),
    cell(INIT, 0x0B, 0x4B, BOTH, O, INIT, 0x0B, why="other: 0x40 cannot be set by the driver"),
    cell(INIT, 0x0B, 0x20, BOTH, O, INIT, 0x0B, why="other: 0x20 unassigned (SUS-01)"),
    cell(INIT, 0x0B, 0x08, BOTH, O, INIT, 0x0B, why="FEATURES_OK class needs P.FEATURES_OK=0"),
    # ---- INIT, P = 0x03 / 0x01 / 0x00 (FEATURES_OK not set; F_SUSPEND not negotiated yet) --------------------------
    cell(INIT, 0x03, 0x0B, BOTH, FO, INIT, 0x0B, "features_ok_accepted", negotiated=False, why="3.3 accepted"),
    cell(INIT, 0x03, 0x0B, BOTH, FO, INIT, 0x03, negotiated=False, valid=False, why="3.3 refused: FEATURES_OK dropped"),
    cell(INIT, 0x03, 0x4B, BOTH, FO, INIT, 0x0B, "features_ok_accepted", negotiated=False, why="0x40 not copied"),
    cell(INIT, 0x03, 0x2B, BOTH, FO, INIT, 0x0B, "features_ok_accepted", negotiated=False, why="0x20 not copied"),
    cell(INIT, 0x03, 0x08, BOTH, FO, INIT, 0x0B, "features_ok_accepted", negotiated=False, why="merge ORs"),
    cell(INIT, 0x03, 0x1B, BOTH, S, INIT, 0x0B, "features_ok_accepted", negotiated=False,
         why="eligibility judged on P before the write (FEATURES_OK=0): bit 4 dropped, rest merged"),
    cell(INIT, 0x03, 0x13, BOTH, S, INIT, 0x03, negotiated=False, why="SUSPEND before FEATURES_OK: ignored"),
    cell(INIT, 0x03, 0x07, BOTH, D, HALTED, 0x43, "halt_needs_reset", negotiated=False,
         why="Q14: DRIVER_OK without FEATURES_OK -> NEEDS_RESET, DRIVER_OK dropped"),
    cell(INIT, 0x03, 0x0F, BOTH, D, RUNNING, 0x0F, "features_ok_accepted", "enter_running", negotiated=False,
         why="FEATURES_OK and DRIVER_OK together, accepted"),
    cell(INIT, 0x03, 0x0F, BOTH, D, HALTED, 0x43, "halt_needs_reset", negotiated=False, valid=False,
         why="Q14: FEATURES_OK+DRIVER_OK with a refused set -> NEEDS_RESET, not the ordinary refusal"),
    cell(INIT, 0x03, 0x1F, [RFC], D, RUNNING, 0x0F, "features_ok_accepted", "enter_running", negotiated=False,
         why="RFC: not eligible (P.FEATURES_OK=0 before the write)"),
    cell(INIT, 0x00, 0x07, BOTH, D, HALTED, 0x43, "halt_needs_reset", negotiated=False,
         why="Q14 example: W=0x07 from 0x00 gives 0x43"),
    cell(INIT, 0x01, 0x05, BOTH, D, HALTED, 0x41, "halt_needs_reset", negotiated=False, why="Q14"),
    cell(INIT, 0x00, 0x01, BOTH, O, INIT, 0x01, negotiated=False, why="other: merge"),
    cell(INIT, 0x01, 0x03, BOTH, O, INIT, 0x03, negotiated=False, why="other: merge"),
    cell(INIT, 0x03, 0x01, BOTH, O, INIT, 0x03, negotiated=False, why="other: no clears"),
    cell(INIT, 0x03, 0x40, BOTH, O, INIT, 0x03, negotiated=False, why="other: only new bit 0x40"),
    cell(INIT, 0x03, 0x60, BOTH, O, INIT, 0x03, negotiated=False, why="other: only new bits 0x20|0x40"),
    cell(INIT, 0x00, 0x00, BOTH, Z, RESET_PENDING, 0x00, "reset", negotiated=False, why="SUS-13 in every state"),
    # ---- RUNNING, P = 0x0F -----------------------------------------------------------------------------------------
    cell(RUNNING, 0x0F, 0x00, BOTH, Z, RESET_PENDING, 0x0F, "reset"),
    cell(RUNNING, 0x0F, 0x80, BOTH, F_, HALTED, 0x8F, "halt_failed", why="e.g. 0x8F"),
    cell(RUNNING, 0x0F, 0x9F, BOTH, F_, HALTED, 0x8F, "halt_failed", why="SUSPEND in a FAILED write unused"),
    cell(RUNNING, 0x0F, 0x0F, BOTH, D, RUNNING, 0x0F, why="SUS-23: DRIVER_OK again does nothing"),
    cell(RUNNING, 0x0F, 0x04, BOTH, D, RUNNING, 0x0F),
    cell(RUNNING, 0x0F, 0x4F, BOTH, D, RUNNING, 0x0F, why="0x40 never copied"),
    cell(RUNNING, 0x0F, 0x2F, BOTH, D, RUNNING, 0x0F, why="0x20 never copied"),
    cell(RUNNING, 0x0F, 0x1F, BOTH, D, SUSPENDING, 0x0F, "suspend", why="eligible: P unchanged while draining"),
    cell(RUNNING, 0x0F, 0x5F, BOTH, D, SUSPENDING, 0x0F, "suspend", why="eligible; 0x40 never copied"),
    cell(RUNNING, 0x0F, 0x1F, BOTH, D, RUNNING, 0x0F, negotiated=False, why="not negotiated: bit 4 dropped"),
    cell(RUNNING, 0x0F, 0x1B, BOTH, S, SUSPENDING, 0x0F, "suspend", why="SUSPEND column: eligible"),
    cell(RUNNING, 0x0F, 0x10, BOTH, S, SUSPENDING, 0x0F, "suspend"),
    cell(RUNNING, 0x0F, 0x3B, BOTH, S, SUSPENDING, 0x0F, "suspend", why="0x20 never copied"),
    cell(RUNNING, 0x0F, 0x1B, BOTH, S, RUNNING, 0x0F, negotiated=False, why="not eligible: bit 4 dropped"),
    cell(RUNNING, 0x0F, 0x0B, BOTH, O, RUNNING, 0x0F, why="other: no clears"),
    cell(RUNNING, 0x0F, 0x08, BOTH, O, RUNNING, 0x0F, why="FEATURES_OK column cannot match in RUNNING"),
    cell(RUNNING, 0x0F, 0x40, BOTH, O, RUNNING, 0x0F, why="other: device-owned bit"),
    cell(RUNNING, 0x0F, 0x20, BOTH, O, RUNNING, 0x0F, why="other: unassigned bit"),
    # --- SUSPENDING, P = 0x0F: every non-zero write but FAILED ignored (SUS-14) ---------------------------------------
    cell(SUSPENDING, 0x0F, 0x00, BOTH, Z, RESET_PENDING, 0x0F, "reset"),
    cell(SUSPENDING, 0x0F, 0x80, BOTH, F_, HALTED, 0x8F, "halt_failed", why="drain aborted, no forced notification"),
    cell(SUSPENDING, 0x0F, 0x9F, BOTH, F_, HALTED, 0x8F, "halt_failed"),
    cell(SUSPENDING, 0x0F, 0x0F, BOTH, D, SUSPENDING, 0x0F),
    cell(SUSPENDING, 0x0F, 0x1F, BOTH, D, SUSPENDING, 0x0F, why="SUS-23"),
    cell(SUSPENDING, 0x0F, 0x5F, BOTH, D, SUSPENDING, 0x0F),
    cell(SUSPENDING, 0x0F, 0x1B, BOTH, S, SUSPENDING, 0x0F, why="SUS-23"),
    cell(SUSPENDING, 0x0F, 0x10, BOTH, S, SUSPENDING, 0x0F),
    cell(SUSPENDING, 0x0F, 0x0B, BOTH, O, SUSPENDING, 0x0F),
    cell(SUSPENDING, 0x0F, 0x4B, BOTH, O, SUSPENDING, 0x0F),
    cell(SUSPENDING, 0x0F, 0x20, BOTH, O, SUSPENDING, 0x0F),
    # ---- SUSPENDED, V14, S = 0x1B (SUS-14 table) --------------------------------------------------------------------
    cell(SUSPENDED, 0x1B, 0x00, [V14], Z, RESET_PENDING, 0x1B, "reset"),
    cell(SUSPENDED, 0x1B, 0x80, [V14], F_, HALTED, 0x9B, "halt_failed", why="shows S|0x80 = 0x9B"),
    cell(SUSPENDED, 0x1B, 0x9B, [V14], F_, HALTED, 0x9B, "halt_failed"),
    cell(SUSPENDED, 0x1B, 0x9F, [V14], F_, HALTED, 0x9B, "halt_failed", why="FAILED with DRIVER_OK: HALTED, no resume"),
    cell(SUSPENDED, 0x1B, 0x1F, [V14], D, RESUMING, 0x1B, resume_to=RUNNING, why="SUS-11: nothing merged"),
    cell(SUSPENDED, 0x1B, 0x0F, [V14], D, RESUMING, 0x1B, resume_to=RUNNING, why="SUSPEND bit of W irrelevant"),
    cell(SUSPENDED, 0x1B, 0x5F, [V14], D, RESUMING, 0x1B, resume_to=RUNNING, why="0x40 not merged"),
    cell(SUSPENDED, 0x1B, 0x04, [V14], D, RESUMING, 0x1B, resume_to=RUNNING, why="any W with DRIVER_OK=1, FAILED=0"),
    cell(SUSPENDED, 0x1B, 0x2F, [V14], D, RESUMING, 0x1B, resume_to=RUNNING, why="0x20 not merged"),
    cell(SUSPENDED, 0x1B, 0x1B, [V14], S, SUSPENDED, 0x1B, why="W == S: no-op (SUS-23)"),
    cell(SUSPENDED, 0x1B, 0x10, [V14], S, SUSPENDED, 0x1B, why="SUSPEND again without DRIVER_OK"),
    cell(SUSPENDED, 0x1B, 0x5B, [V14], S, SUSPENDED, 0x1B, why="0x40 without DRIVER_OK/FAILED ignored"),
    cell(SUSPENDED, 0x1B, 0x3B, [V14], S, SUSPENDED, 0x1B, why="0x20 ignored"),
    cell(SUSPENDED, 0x1B, 0x4B, [V14], O, SUSPENDED, 0x1B, why="0x40 ignored"),
    cell(SUSPENDED, 0x1B, 0x2B, [V14], O, SUSPENDED, 0x1B, why="0x20 ignored"),
    cell(SUSPENDED, 0x1B, 0x0B, [V14], O, SUSPENDED, 0x1B, why="tries to clear SUSPEND: ignored (no RFC exception)"),
    cell(SUSPENDED, 0x1B, 0x03, [V14], O, SUSPENDED, 0x1B, why="sets no new bit"),
    cell(SUSPENDED, 0x1B, 0x08, [V14], O, SUSPENDED, 0x1B),
    # ---- SUSPENDED, RFC, S = 0x1F ------------------------------------------------------------------------------------
    cell(SUSPENDED, 0x1F, 0x00, [RFC], Z, RESET_PENDING, 0x1F, "reset"),
    cell(SUSPENDED, 0x1F, 0x80, [RFC], F_, HALTED, 0x9F, "halt_failed", why="S|0x80 = 0x9F"),
    cell(SUSPENDED, 0x1F, 0x9F, [RFC], F_, HALTED, 0x9F, "halt_failed"),
    cell(SUSPENDED, 0x1F, 0x0F, [RFC], D, RESUMING, 0x1F, resume_to=RUNNING, why="2024 prototype's clear"),
    cell(SUSPENDED, 0x1F, 0x1F, [RFC], D, RESUMING, 0x1F, resume_to=RUNNING, why="RFC1 DRIVER_OK re-write (SUS-23)"),
    cell(SUSPENDED, 0x1F, 0x5F, [RFC], D, RESUMING, 0x1F, resume_to=RUNNING, why="nothing of W merged"),
    cell(SUSPENDED, 0x1F, 0x1B, [RFC], S, SUSPENDED, 0x1F, why="DRIVER_OK=0: ignored"),
    cell(SUSPENDED, 0x1F, 0x5B, [RFC], S, SUSPENDED, 0x1F, why="ignored"),
    cell(SUSPENDED, 0x1F, 0x3B, [RFC], S, SUSPENDED, 0x1F, why="ignored"),
    cell(SUSPENDED, 0x1F, 0x0B, [RFC], O, SUSPENDED, 0x1F, why="0x0B when S = 0x1F: ignored"),
    cell(SUSPENDED, 0x1F, 0x4B, [RFC], O, SUSPENDED, 0x1F),
    cell(SUSPENDED, 0x1F, 0x20, [RFC], O, SUSPENDED, 0x1F),
    # --- SUSPENDED, RFC, suspended before DRIVER_OK, S = 0x1B ---------------------------------------------------------
    cell(SUSPENDED, 0x1B, 0x80, [RFC], F_, HALTED, 0x9B, "halt_failed", why="0x9B if suspended before DRIVER_OK"),
    cell(SUSPENDED, 0x1B, 0x0F, [RFC], D, RESUMING, 0x1B, resume_to=RUNNING, why="first entry into RUNNING"),
    cell(SUSPENDED, 0x1B, 0x1F, [RFC], D, RESUMING, 0x1B, resume_to=RUNNING),
    cell(SUSPENDED, 0x1B, 0x0B, [RFC], O, RESUMING, 0x1B, resume_to=INIT, why="W == S & ~0x10: resume to INIT"),
    cell(SUSPENDED, 0x1B, 0x1B, [RFC], S, SUSPENDED, 0x1B, why="ignored"),
    cell(SUSPENDED, 0x1B, 0x5B, [RFC], S, SUSPENDED, 0x1B, why="ignored"),
    cell(SUSPENDED, 0x1B, 0x3B, [RFC], S, SUSPENDED, 0x1B, why="ignored"),
    cell(SUSPENDED, 0x1B, 0x4B, [RFC], O, SUSPENDED, 0x1B, why="not equal to S & ~0x10"),
    cell(SUSPENDED, 0x1B, 0x03, [RFC], O, SUSPENDED, 0x1B, why="not equal to S & ~0x10"),
    cell(SUSPENDED, 0x1B, 0x2B, [RFC], O, SUSPENDED, 0x1B, why="not equal to S & ~0x10"),
    # --- RESUMING: every non-zero write but FAILED ignored (SUS-14) ---------------------------------------------------
    cell(RESUMING, 0x1B, 0x00, [V14], Z, RESET_PENDING, 0x1B, "reset"),
    cell(RESUMING, 0x1F, 0x00, [RFC], Z, RESET_PENDING, 0x1F, "reset"),
    cell(RESUMING, 0x1B, 0x80, [V14], F_, HALTED, 0x9B, "halt_failed", why="resume aborted, DRIVER_OK not re-set"),
    cell(RESUMING, 0x1F, 0x80, [RFC], F_, HALTED, 0x9F, "halt_failed"),
    cell(RESUMING, 0x1B, 0x9F, [V14], F_, HALTED, 0x9B, "halt_failed"),
    cell(RESUMING, 0x1B, 0x1F, [V14], D, RESUMING, 0x1B),
    cell(RESUMING, 0x1F, 0x0F, [RFC], D, RESUMING, 0x1F),
    cell(RESUMING, 0x1F, 0x1F, [RFC], D, RESUMING, 0x1F),
    cell(RESUMING, 0x1B, 0x1B, [V14], S, RESUMING, 0x1B),
    cell(RESUMING, 0x1F, 0x1B, [RFC], S, RESUMING, 0x1F),
    cell(RESUMING, 0x1B, 0x0B, [V14], O, RESUMING, 0x1B),
    cell(RESUMING, 0x1F, 0x0B, [RFC], O, RESUMING, 0x1F),
    cell(RESUMING, 0x1B, 0x4B, [V14], O, RESUMING, 0x1B),
    cell(RESUMING, 0x1F, 0x4B, [RFC], O, RESUMING, 0x1F),
    # --- HALTED: a non-zero write only ORs in FAILED (SUS-15) ---------------------------------------------------------
    cell(HALTED, 0x8F, 0x00, BOTH, Z, RESET_PENDING, 0x8F, "reset", why="only a write of 0 leaves HALTED"),
    cell(HALTED, 0x8F, 0x80, BOTH, F_, HALTED, 0x8F, why="FAILED again: P|0x80, no new HALTED entry"),
    cell(HALTED, 0x4F, 0x80, BOTH, F_, HALTED, 0xCF, why="NEEDS_RESET kept, FAILED added"),
    cell(HALTED, 0x4F, 0xFF, BOTH, F_, HALTED, 0xCF, why="no other bit of W used"),
    cell(HALTED, 0x5B, 0x9F, [V14], F_, HALTED, 0xDB, why="DRIVER_OK never re-set in HALTED"),
    cell(HALTED, 0x8F, 0x0F, BOTH, D, HALTED, 0x8F),
    cell(HALTED, 0x4F, 0x1F, BOTH, D, HALTED, 0x4F, why="SUSPEND has no effect in HALTED (SUS-03, SUS-16)"),
    cell(HALTED, 0x5B, 0x1F, [V14], D, HALTED, 0x5B, why="a later DRIVER_OK write does not resume (SUS-16)"),
    cell(HALTED, 0x4F, 0x1B, BOTH, S, HALTED, 0x4F),
    cell(HALTED, 0x43, 0x0B, BOTH, FO, HALTED, 0x43, negotiated=False, why="FEATURES_OK column ignored in HALTED"),
    cell(HALTED, 0x8F, 0x0B, BOTH, O, HALTED, 0x8F),
    cell(HALTED, 0x8F, 0x40, BOTH, O, HALTED, 0x8F),
    cell(HALTED, 0x8F, 0x20, BOTH, O, HALTED, 0x8F),
]

FLAG_NAMES = ("reset", "halt_failed", "halt_needs_reset", "features_ok_accepted", "suspend", "enter_running")


def _params():
    return [pytest.param(cl, m, id=cl.id(m)) for cl in CELLS for m in cl.modes]


def _every_cell_covered():
    """Every (state, class) cell of rule 8.4 has at least one row per mode, except FEATURES_OK where it cannot
    match (P.FEATURES_OK = 1 in RUNNING, SUSPENDING, SUSPENDED, RESUMING)."""
    seen = {(cl.state, cl.cls, m) for cl in CELLS for m in cl.modes}
    missing = []
    for m in BOTH:
        for st in (INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING, HALTED):
            for k in WriteClass:
                if k == WriteClass.FEATURES_OK and st not in (INIT, HALTED):
                    continue
                if (st, k, m) not in seen:
                    missing.append((st.name, k.name, m))
    return missing


def test_r8_4_table_has_every_cell():
    """R8.4 / B16: the hand-written table covers every state x class cell in both modes."""
    assert _every_cell_covered() == []


@pytest.mark.parametrize("cl, mode", _params())
def test_r8_4_classify_write(cl, mode):
    """R8.4: the class of W, tested left to right (0, FAILED, DRIVER_OK, SUSPEND, FEATURES_OK, other)."""
    assert classify_write(cl.w, cl.p) == cl.cls


@pytest.mark.parametrize("cl, mode", _params())
def test_r8_4_decide_status_write(cl, mode):
    """R8.4 / B16: every cell through the pure function (state, P, W, mode) -> state, P, actions."""
    calls = []

    def valid():
        calls.append(1)
        return cl.valid

    d = decide_status_write(cl.state, cl.p, cl.w, SuspendMode[mode], cl.negotiated, valid)
    assert d.state == cl.to, cl.why
    if not cl.flags & {"reset"}:
        assert d.presented == cl.p_after, cl.why
    for name in FLAG_NAMES:
        assert getattr(d, name) == (name in cl.flags), f"{name}: {cl.why}"
    assert d.resume_to == cl.resume_to
    # SPEC 3.3: the feature set is judged only when a write sets FEATURES_OK for the first time (INIT/RUNNING merge).
    sets_features_ok = cl.state == INIT and cl.w & FEATURES_OK and not cl.p & FEATURES_OK and cl.cls != F_
    assert bool(calls) == bool(sets_features_ok)


@pytest.mark.parametrize("w", [0x00, 0x80, 0x0F, 0x1F, 0x0B, 0x40])
def test_r8_4_reset_pending_row_unreachable(w):
    """R8.4: the RESET_PENDING row is '—' (SUS-13): the pure function changes nothing there."""
    d = decide_status_write(RESET_PENDING, 0x0F, w, SuspendMode.V14, True, lambda: True)
    assert (d.state, d.presented) == (RESET_PENDING, 0x0F)
    assert not any(getattr(d, n) for n in FLAG_NAMES) and d.resume_to is None


# ------------------------------------------------------------------------------------------ the same table on a Device
REFUSED = feature_set(extra=[c.DEFAULT_F_QUEUE_STATE_BIT])  # an unoffered bit (B1): FEATURES_OK refused
NO_SUSPEND = feature_set(suspend=False)


def rig_for(cl: Cell, mode) -> Rig:
    """A Device in cl.state showing cl.p, with F_SUSPEND negotiated or not and a valid or refused feature set."""
    feats = NO_SUSPEND if not cl.negotiated else None
    st, p = cl.state, cl.p
    if st == INIT and p in (0x00, 0x01, 0x03):
        # Before FEATURES_OK nothing is negotiated yet; the stored set still offers F_SUSPEND (SUS-03: eligibility is
        # judged on P before the write, so a write that also sets FEATURES_OK cannot make SUSPEND count).
        rig = Rig(mode)
        rig.negotiate(REFUSED if not cl.valid else None, features_ok=False)
        if p != 0x03:
            rig.write_status(0)
            if p:
                rig.write_status(p)
    elif st == INIT:
        rig = Rig.init(mode, features=feats)
    elif st == RUNNING:
        rig = Rig.running(mode, features=feats)
    elif st == SUSPENDING:
        rig = Rig.suspending(mode)
    elif st == SUSPENDED:
        rig = Rig.suspended(mode, before_driver_ok=(mode == RFC and p == 0x1B))
    elif st == RESUMING:
        rig = Rig.resuming(mode)
    elif p == 0x8F:
        rig = Rig.halted(mode, via="failed")
    elif p == 0x4F:
        rig = Rig.halted(mode, via="fault")
    elif p == 0x5B:
        rig = Rig.suspended(mode)
        rig.dev.fault_inj()
    else:  # 0x43: Q14
        rig = Rig(mode)
        rig.negotiate(features_ok=False)
        rig.write_status(ACK | DRIVER | DRIVER_OK)
    assert (rig.state, rig.status) == (st, p), "fixture did not reach the cell's starting point"
    return rig


@pytest.mark.parametrize("cl, mode", _params())
def test_r8_4_device_status_write(cl, mode):
    """R8.4 / B16: every cell through register writes on the standalone Device, reading P back."""
    rig = rig_for(cl, mode)
    rig.write_status(cl.w)
    if "reset" in cl.flags:
        # SUS-13: the write of 0 is acknowledged only when the reset is done; the first read returns 0.
        assert (rig.state, rig.status) == (INIT, 0x00)
        return
    assert rig.state == cl.to, cl.why
    assert rig.status == cl.p_after, cl.why


# ------------------------------------------------------------------------------------------ Q14 and merge corner cases
@pytest.mark.parametrize("mode", MODES)
def test_q14_w07_from_zero_gives_0x43_halted_no_notification(mode):
    """R8.4 merge / Q14: W=0x07 from 0x00 -> 0x43 and HALTED, with no notification (DRIVER_OK never shown)."""
    rig = Rig(mode)
    rig.write_status(0x07)
    assert (rig.state, rig.status) == (HALTED, 0x43)
    assert rig.read_isr() == 0 and rig.dev.irqs == []


@pytest.mark.parametrize("mode", MODES)
def test_q14_features_ok_and_driver_ok_together_refused_needs_reset(mode):
    """R8.4 merge / Q14: FEATURES_OK+DRIVER_OK in one write with a refused set -> NEEDS_RESET (0x43), HALTED."""
    rig = Rig(mode)
    rig.negotiate(REFUSED, features_ok=False)
    rig.write_status(ACK | DRIVER | FEATURES_OK | DRIVER_OK)
    assert (rig.state, rig.status) == (HALTED, 0x43)
    assert rig.read_isr() == 0


@pytest.mark.parametrize("mode", MODES)
def test_s3_3_features_ok_refused_ordinary(mode):
    """SPEC 3.3 / B1: a refused set alone leaves FEATURES_OK at 0; the re-read shows 0x03, engine in INIT."""
    for feats in (REFUSED, feature_set() & ~(1 << c.F_VERSION_1)):
        rig = Rig(mode)
        rig.negotiate(feats, features_ok=False)
        rig.write_status(ACK | DRIVER | FEATURES_OK)
        assert (rig.state, rig.status) == (INIT, 0x03)


@pytest.mark.parametrize("mode", MODES)
def test_r8_4_features_ok_and_driver_ok_together_accepted_enters_running(mode):
    """R8.4 merge: 0x03, W=0x0F with a valid set -> RUNNING 0x0F, and the DRIVER_OK scan reads avail.idx."""
    rig = Rig(mode)
    rig.negotiate(features_ok=False)
    lay = rig.setup_queue(0)  # rule 8.6: queue fields and queue_enable are accepted in INIT while disabled
    rig.write_status(0x0F)
    assert (rig.state, rig.status) == (RUNNING, 0x0F)
    rig.run()
    assert any(a == lay.avail_idx_addr for a, _ in rig.log.reads())


# ------------------------------------------------------------------------------------------ chapter 1 summary table
def _drain_failure_rig(mode):
    """SUSPENDING with queue 0 published since the request and queue 1 still in flight, MSI-X on vectors 0, 1, 2."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0, 1)))
    for q in (0, 1):
        rig.post(q, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 2)
    rig.write_status(0x1F)
    rig.dev.backend.hold.discard(0)
    rig.step_until(lambda: rig.used_idx(0) == 1)
    assert rig.state == SUSPENDING and rig.dev.irqs == []
    return rig


@pytest.mark.parametrize("mode", MODES)
def test_summary_running_suspending_suspended_resuming_resumed(mode):
    """SUS-04 / SUS-11 summary rows: RUNNING 0x0F, SUSPENDING 0x0F, SUSPENDED V14 0x1B / RFC 0x1F, RESUMING the
    same, RUNNING after resume 0x0F."""
    suspended = 0x1B if mode == V14 else 0x1F
    rig = Rig.running(mode, backend=GatedBackend(hold=(0,)))
    assert rig.status == 0x0F
    rig.post(0, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 1)
    rig.write_status(0x1F)
    assert (rig.state, rig.status) == (SUSPENDING, 0x0F)
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == SUSPENDED)
    assert rig.status == suspended
    rig.write_status(0x0F if mode == RFC else suspended | DRIVER_OK)
    assert (rig.state, rig.status) == (RESUMING, suspended)
    rig.step_until(lambda: rig.state == RUNNING)
    assert rig.status == 0x0F


@pytest.mark.parametrize("mode", MODES)
def test_summary_suspended_before_driver_ok(mode):
    """SUS-03 summary row: 0x0B, W=0x1B -> V14 ignored (INIT 0x0B), RFC 0x1B SUSPENDED; RESUMING shows 0x1B (RFC);
    the prototype's W=0x0B returns to INIT showing 0x0B (RFC); V14 shows no such row (W ignored)."""
    rig = Rig.init(mode)
    rig.write_status(0x1B)
    if mode == V14:
        assert (rig.state, rig.status) == (INIT, 0x0B)
        return
    assert (rig.state, rig.status) == (SUSPENDED, 0x1B)
    rig.write_status(0x0B)
    assert (rig.state, rig.status) == (RESUMING, 0x1B)
    rig.step_until(lambda: rig.state != RESUMING)
    assert (rig.state, rig.status) == (INIT, 0x0B)


def test_summary_prototype_resume_to_init_not_in_v14():
    """SUS-11 summary row 'INIT after the prototype's resume W=0x0B': '—' in V14, W=0x0B in SUSPENDED is ignored."""
    rig = Rig.suspended(V14)
    rig.write_status(0x0B)
    assert (rig.state, rig.status) == (SUSPENDED, 0x1B)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [INIT, RUNNING, SUSPENDING, SUSPENDED, RESUMING, HALTED], ids=sid)
def test_summary_reset_pending_never_visible(mode, state):
    """SUS-13 summary row: after a write of 0 the first read returns 0x00 (RESET_PENDING is never visible)."""
    rig = Rig.in_state(state, mode)
    rig.write_status(0)
    assert rig.status == 0x00 and rig.state == INIT


@pytest.mark.parametrize("mode", MODES)
def test_summary_halted_suspend_failed_0x4f_forced_then_config(mode):
    """SUS-12 summary row: suspend failed -> 0x4F, forced notification of the marked queue, then config."""
    rig = _drain_failure_rig(mode)
    rig.dev.fault_inj()
    assert (rig.state, rig.status) == (HALTED, 0x4F)
    assert rig.dev.irqs == [0, 2]  # queue 0 marked; queue 1 published nothing; then config vector 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["SUSPENDED", "RESUMING"])
def test_summary_halted_resume_failed(mode, where):
    """SUS-12 / SUS-16 summary row: NEEDS_RESET in SUSPENDED or a resume failure -> V14 0x5B with no notification,
    RFC 0x5F with exactly one config notification."""
    rig = Rig.suspended(mode, msix=True)
    if where == "RESUMING":
        rig.write_status(0x1F)
        assert rig.state == RESUMING
    rig.dev.fault_inj()
    assert rig.state == HALTED
    if mode == V14:
        assert rig.status == 0x5B and rig.dev.irqs == []
    else:
        assert rig.status == 0x5F and rig.dev.irqs == [2]
    assert rig.read_isr() == (0 if mode == V14 else c.ISR_CONFIG)


def test_summary_halted_resume_failed_rfc_before_driver_ok():
    """SUS-12 summary row: RFC, suspended before DRIVER_OK -> 0x5B, no notification."""
    rig = Rig.suspended(RFC, before_driver_ok=True)
    rig.write_status(0x0B)
    rig.dev.fault_inj()
    assert (rig.state, rig.status) == (HALTED, 0x5B)
    assert rig.read_isr() == 0 and rig.dev.irqs == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state, shown", [(RUNNING, 0x8F), (SUSPENDING, 0x8F)], ids=sid)
def test_summary_failed_in_running_or_suspending(mode, state, shown):
    """SUS-15 summary row: FAILED written in RUNNING or SUSPENDING -> 0x8F, no notification at all."""
    rig = Rig.in_state(state, mode, msix=True)
    rig.write_status(0x8F)
    assert (rig.state, rig.status) == (HALTED, shown)
    assert rig.dev.irqs == [] and rig.read_isr() == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [SUSPENDED, RESUMING], ids=sid)
def test_summary_failed_in_suspended_or_resuming(mode, state):
    """SUS-15 summary row: FAILED in SUSPENDED or RESUMING -> V14 0x9B, RFC 0x9F; a later DRIVER_OK write does not
    resume (B14)."""
    rig = Rig.in_state(state, mode)
    rig.write_status(0x9F)
    shown = 0x9B if mode == V14 else 0x9F
    assert (rig.state, rig.status) == (HALTED, shown)
    rig.write_status(0x1F)
    rig.run()
    assert (rig.state, rig.status) == (HALTED, shown)


def test_summary_failed_in_suspended_rfc_before_driver_ok():
    """SUS-15 summary row: RFC, suspended before DRIVER_OK -> 0x9B."""
    rig = Rig.suspended(RFC, before_driver_ok=True)
    rig.write_status(0x80)
    assert (rig.state, rig.status) == (HALTED, 0x9B)


# ------------------------------------------------------------------------------------------ transitions not caused by W
@pytest.mark.parametrize("mode", MODES)
def test_r8_4_drain_end_forced_notifications_then_flip_and_latched_queue_reset(mode):
    """R8.4 second table, SUSPENDING -> SUSPENDED: forced notifications once nothing is in flight, then the flip
    ((P|0x10)&~0x04 in V14, P|0x10 in RFC), then latched queue resets performed."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0, 1)))
    for q in (0, 1):
        rig.post(q, [(8, False), (16, True)], kick=True)
    rig.step_until(lambda: rig.requests_issued() == 2)
    rig.write_status(0x1F)
    rig.select(1)
    rig.write(c.CC_QUEUE_RESET, 1, 2)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 1  # latched (SUS-17)
    rig.dev.backend.hold.clear()
    rig.step_until(lambda: rig.state == SUSPENDED)
    assert rig.dev.irqs == [0, 1]  # one forced notification per marked queue, none for the config vector
    assert rig.status == (0x1B if mode == V14 else 0x1F)
    rig.select(1)
    assert (rig.read(c.CC_QUEUE_RESET, 2), rig.read(c.CC_QUEUE_ENABLE, 2)) == (0, 0)


@pytest.mark.parametrize("mode", MODES)
def test_r8_4_resume_end_to_running(mode):
    """R8.4 second table, RESUMING -> RUNNING: (P&~0x10)|0x04, pending config applied and notified once, latched
    queue reset performed, first-write flag set, scan (avail.idx read without a kick)."""
    rig = Rig.suspended(mode, msix=True)
    lay = rig.layouts[0]
    rig.post(0, [(4, False), (4, True)])  # made available while suspended, no kick
    rig.write_status(0x1F)
    rig.dev.devcfg_write(0, 0x1234)
    rig.select(1)
    rig.write(c.CC_QUEUE_RESET, 1, 2)
    assert rig.read(c.CC_QUEUE_RESET, 2) == 1
    rig.log.clear()
    rig.step_until(lambda: rig.state == RUNNING)
    assert rig.status == 0x0F
    assert rig.dev.irqs == [2]  # SUS-08: exactly one config notification
    assert rig.read(c.BAR_DEVICE_CFG) == 0x1234
    rig.select(1)
    assert (rig.read(c.CC_QUEUE_RESET, 2), rig.read(c.CC_QUEUE_ENABLE, 2)) == (0, 0)
    assert rig.dev.core.queues[0].first_write
    rig.run()
    assert rig.used_idx(0) == 1 and any(a == lay.avail_idx_addr for a, _ in rig.log.reads())
    assert rig.dev.irqs == [2, 0]  # EVENT_IDX: first used.idx write after resume notifies unconditionally


def test_r8_4_resume_end_to_init_rfc():
    """R8.4 second table, mode-RFC resume to INIT: P&~0x10 (= W, 0x0B), pending config applied with cfg_dirty and no
    notification, latched queue resets performed, no scan (no DMA)."""
    rig = Rig.suspended(RFC, before_driver_ok=True)
    rig.post(0, [(4, False)])
    rig.kick(0)
    rig.write_status(0x0B)
    rig.dev.devcfg_write(0, 0xAB)
    rig.select(0)
    rig.write(c.CC_QUEUE_RESET, 1, 2)
    rig.log.clear()
    rig.step_until(lambda: rig.state == INIT)
    rig.run()
    assert rig.status == 0x0B
    assert rig.log.events == []  # no scan
    assert rig.read_isr() == 0 and rig.dev.irqs == []
    gen = rig.read(c.CC_CONFIG_GENERATION, 1)
    assert rig.read(c.BAR_DEVICE_CFG) == 0xAB
    assert rig.read(c.CC_CONFIG_GENERATION, 1) == (gen + 1) & 0xFF  # cfg_dirty was set
    assert (rig.read(c.CC_QUEUE_RESET, 2), rig.read(c.CC_QUEUE_ENABLE, 2)) == (0, 0)


def _needs_reset_irq(rig) -> bool:
    return bool(rig.read_isr() & c.ISR_CONFIG)


@pytest.mark.parametrize("mode", MODES)
def test_r8_4_needs_reset_in_init_fault_no_notification(mode):
    """R8.4 NEEDS_RESET row, INIT: fault_inj -> P|0x40 (0x4B), HALTED, no notification (DRIVER_OK not shown; B23)."""
    rig = Rig.init(mode)
    rig.dev.fault_inj()
    assert (rig.state, rig.status) == (HALTED, 0x4B)
    assert not _needs_reset_irq(rig)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cause", ["fault", "dma", "malformed", "error_completion"])
def test_r8_4_needs_reset_in_running(mode, cause):
    """R8.4 NEEDS_RESET row, RUNNING: each cause -> 0x4F, HALTED, exactly one config notification."""
    backend = BackendModel()
    rig = Rig.running(mode, backend=backend)
    if cause == "fault":
        rig.dev.fault_inj()
    elif cause == "dma":
        rig.mem.inject_error(rig.layouts[0].avail_idx_addr, 2, on="read")
        rig.kick(0)
    elif cause == "malformed":
        rig.put_desc(0, 0, rig.buffer(4), 4, NEXT, 99)  # next >= Q
        rig.publish(0, 0)
        rig.kick(0)
    else:
        p = rig.post(0, [(4, False), (4, True)])
        backend.error_heads.add(p.head)
        rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (HALTED, 0x4F)
    assert rig.read_isr() == c.ISR_CONFIG


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cause", ["fault", "dma", "error_completion"])
def test_r8_4_needs_reset_in_suspending(mode, cause):
    """R8.4 NEEDS_RESET row, SUSPENDING (SUS-12): fault_inj, a DMA error (scatter write) or an error completion ->
    0x4F, the forced notification of the marked queue, then the config notification; SUSPEND never shown."""
    backend = GatedBackend(hold=(0, 1))
    rig = Rig.running(mode, msix=True, backend=backend)
    rig.post(0, [(8, False), (16, True)], kick=True)
    rig.next_desc[1] = 4  # BackendModel.error_heads matches heads of any queue: keep queue 1's head distinct
    p1 = rig.post(1, [(8, False), (16, True)], kick=True)
    if cause == "error_completion":
        backend.error_heads.add(p1.head)
    rig.step_until(lambda: rig.requests_issued() == 2)
    rig.write_status(0x1F)
    assert rig.state == SUSPENDING
    backend.hold.discard(0)
    rig.step_until(lambda: rig.used_idx(0) == 1)  # queue 0 published since the request: marked (SUS-21)
    assert rig.dev.irqs == []
    if cause == "fault":
        rig.dev.fault_inj()
    else:
        if cause == "dma":
            addr, length = p1.writable[0]
            rig.mem.inject_error(addr, length, on="write")
        backend.hold.discard(1)
    rig.run()
    assert (rig.state, rig.status) == (HALTED, 0x4F)
    assert rig.dev.irqs == [0, 2]
    assert rig.used_idx(1) == 0


@pytest.mark.parametrize("mode", MODES)
def test_r8_4_needs_reset_in_suspending_malformed(mode):
    """R8.4 NEEDS_RESET row, SUSPENDING (SUS-12, 4.7): a chain taken in RUNNING whose walk finds next >= Q during the
    drain -> 0x4F, HALTED, no forced notification (nothing published since the request), one config notification."""
    rig = Rig.running(mode, msix=True, backend=GatedBackend(hold=(0, 1)))
    rig.put_desc(1, 0, rig.buffer(4), 4, NEXT, 1)
    rig.put_desc(1, 1, rig.buffer(4), 4, NEXT, 77)
    rig.publish(1, 0)
    rig.kick(1)
    rig.step_until(lambda: any(f.desc_pending for f in rig.dev.core.queues[1].flights))
    rig.write_status(0x1F)
    assert rig.state == SUSPENDING
    rig.run()
    assert (rig.state, rig.status) == (HALTED, 0x4F)
    assert rig.dev.irqs == [2]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", [SUSPENDED, RESUMING], ids=sid)
def test_r8_4_needs_reset_in_suspended_resuming(mode, state):
    """R8.4 NEEDS_RESET row, SUSPENDED/RESUMING: only fault_inj can arrive (no DMA); V14 0x5B, RFC 0x5F + irq."""
    rig = Rig.in_state(state, mode)
    rig.dev.fault_inj()
    assert rig.state == HALTED
    assert rig.status == (0x5B if mode == V14 else 0x5F)
    assert _needs_reset_irq(rig) == (mode == RFC)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", ["failed", "fault"])
def test_r8_4_needs_reset_causes_ignored_in_halted(mode, via):
    """R8.4 last row / SUS-15: in HALTED fault_inj, a DMA error and an error completion change nothing."""
    rig = Rig.halted(mode, via=via)
    shown = rig.status
    rig.read_isr()
    irqs = list(rig.dev.irqs)
    rig.dev.fault_inj()
    rig.mem.inject_error(0, 1 << 40)
    rig.kick(0)
    rig.run()
    assert (rig.state, rig.status) == (HALTED, shown)
    assert rig.read_isr() == 0 and rig.dev.irqs == irqs


# --------------------------------------------------------------------------------------- fault_inj in every state (B23)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state, v14, rfc, irq_v14, irq_rfc", [
    (INIT, 0x4B, 0x4B, False, False),
    (RUNNING, 0x4F, 0x4F, True, True),
    (SUSPENDING, 0x4F, 0x4F, True, True),
    (SUSPENDED, 0x5B, 0x5F, False, True),
    (RESUMING, 0x5B, 0x5F, False, True),
], ids=sid)
def test_b23_fault_inj_in_every_state(mode, state, v14, rfc, irq_v14, irq_rfc):
    """B23 / R8.4 fault_inj: NEEDS_RESET -> HALTED in INIT (no irq), RUNNING (0x4F + one config irq), SUSPENDING
    (SUS-12), SUSPENDED and RESUMING (V14 0x5B no irq, RFC 0x5F one irq)."""
    rig = Rig.in_state(state, mode, **({} if state == INIT else {"msix": True}))
    rig.dev.fault_inj()
    assert rig.state == HALTED
    assert rig.status == (v14 if mode == V14 else rfc)
    want_irq = irq_v14 if mode == V14 else irq_rfc
    if state == INIT:
        assert rig.read_isr() == 0
    else:
        assert rig.dev.irqs == ([2] if want_irq else [])  # the config vector, exactly once
    # A later resume write has no effect (B15); only a reset leaves.
    rig.write_status(0x1F)
    rig.run()
    assert rig.state == HALTED


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", ["failed", "fault"])
def test_b23_fault_inj_in_halted_changes_nothing(mode, via):
    """B23: fault_inj in HALTED changes nothing (P, state, interrupts)."""
    rig = Rig.halted(mode, via=via, msix=True)
    shown, irqs = rig.status, list(rig.dev.irqs)
    rig.dev.fault_inj()
    assert (rig.state, rig.status, rig.dev.irqs) == (HALTED, shown, irqs)
