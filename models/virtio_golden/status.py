"""Rule 8.4: the effect of a device_status write in every engine state, as a pure function.

`decide_status_write` returns what the write does; the device core carries it out (reset, HALTED entry,
drain, resume, scan).  Keeping the table pure lets a test walk every cell of rule 8.4 in both modes.
"""

from dataclasses import dataclass
from typing import Callable, Optional

from . import constants as c
from .constants import EngineState
from .constants import EngineState as St
from .constants import SuspendMode, WriteClass


def classify_write(w: int, p: int) -> WriteClass:
    """The class of W (rule 8.4 columns, tested left to right)."""
    if w == 0:
        return WriteClass.ZERO
    if w & c.S_FAILED:
        return WriteClass.FAILED
    if w & c.S_DRIVER_OK:
        return WriteClass.DRIVER_OK
    if w & c.S_SUSPEND:
        return WriteClass.SUSPEND
    if w & c.S_FEATURES_OK and not p & c.S_FEATURES_OK:
        return WriteClass.FEATURES_OK
    return WriteClass.OTHER


@dataclass(frozen=True)
class StatusDecision:
    """What one status write does.  `presented` is P after the write (before any later drain or resume flip)."""

    state: EngineState
    presented: int
    reset: bool = False              # -> RESET_PENDING (SUS-13)
    halt_failed: bool = False        # FAILED written: HALTED, no notification (SUS-15)
    halt_needs_reset: bool = False   # Q14: DRIVER_OK without FEATURES_OK: NEEDS_RESET, HALTED, no notification
    features_ok_accepted: bool = False  # FEATURES_OK 0 -> 1 accepted: the negotiated set is frozen now
    suspend: bool = False            # eligible request: SUSPENDING (or SUSPENDED at once from INIT, mode RFC)
    enter_running: bool = False      # DRIVER_OK accepted in INIT: scan every enabled queue (rule 8.7)
    resume_to: Optional[EngineState] = None  # SUSPENDED -> RESUMING, completing to RUNNING or INIT (SUS-11)
    write_class: WriteClass = WriteClass.OTHER



def decide_status_write(state: St, p: int, w: int, mode: SuspendMode, suspend_negotiated: bool,
                        features_valid: Callable[[], bool]) -> StatusDecision:
    """Rule 8.4 for W written while the engine is in `state` and presents P.

    `suspend_negotiated` is whether F_SUSPEND was accepted at an earlier FEATURES_OK write (false while
    P.FEATURES_OK = 0); `features_valid` judges the stored driver features (SPEC 3.3) and is called only when
    the write sets FEATURES_OK for the first time.
    """
    cls = classify_write(w, p)
    same = StatusDecision(state=state, presented=p, write_class=cls)
    if state == St.RESET_PENDING:
        return same  # SUS-13: unreachable from the bus
    if cls == WriteClass.ZERO:
        return StatusDecision(state=St.RESET_PENDING, presented=p, reset=True, write_class=cls)
    if cls == WriteClass.FAILED:  # SUS-15: in every state FAILED is only ORed in
        return StatusDecision(state=St.HALTED, presented=p | c.S_FAILED, halt_failed=state != St.HALTED,
                              write_class=cls)
    if state in (St.SUSPENDING, St.RESUMING, St.HALTED):
        return same  # SUS-14, SUS-15: every other non-zero write is ignored
    if state == St.SUSPENDED:
        if cls == WriteClass.DRIVER_OK:  # SUS-11, both modes; nothing of W is merged
            return StatusDecision(state=St.RESUMING, presented=p, resume_to=St.RUNNING, write_class=cls)
        if mode == SuspendMode.RFC and w == p & ~c.S_SUSPEND:  # the 2024 prototype's resume before DRIVER_OK
            return StatusDecision(state=St.RESUMING, presented=p, resume_to=St.INIT, write_class=cls)
        return same  # SUS-14, SUS-23
    # INIT or RUNNING: eligibility is judged on P before the write (SUS-03).
    eligible = bool(w & c.S_SUSPEND) and suspend_negotiated and bool(
        p & (c.S_DRIVER_OK if mode == SuspendMode.V14 else c.S_FEATURES_OK))
    merged = w & c.S_DRIVER_BITS
    accepted_features = False
    if merged & c.S_FEATURES_OK and not p & c.S_FEATURES_OK:
        if features_valid():
            accepted_features = True
        else:
            merged &= ~c.S_FEATURES_OK  # refusal (SPEC 3.3)
    if merged & c.S_DRIVER_OK and not (p | merged) & c.S_FEATURES_OK:  # Q14
        return StatusDecision(state=St.HALTED, presented=p | (merged & ~c.S_DRIVER_OK) | c.S_NEEDS_RESET,
                              halt_needs_reset=True, features_ok_accepted=accepted_features, write_class=cls)
    new_p = p | merged
    entering = state == St.INIT and bool(new_p & c.S_DRIVER_OK)
    if eligible:
        if state == St.INIT:
            # Mode RFC before or at DRIVER_OK: the drain is empty, so SUSPENDED in the same update, no scan.
            return StatusDecision(state=St.SUSPENDED, presented=new_p | c.S_SUSPEND, suspend=True,
                                  features_ok_accepted=accepted_features, write_class=cls)
        return StatusDecision(state=St.SUSPENDING, presented=new_p, suspend=True,
                              features_ok_accepted=accepted_features, write_class=cls)
    return StatusDecision(state=St.RUNNING if entering else state, presented=new_p, enter_running=entering,
                          features_ok_accepted=accepted_features, write_class=cls)


def suspended_encoding(p: int, mode: SuspendMode) -> int:
    """P at the SUSPENDING -> SUSPENDED flip (SUS-04)."""
    if mode == SuspendMode.V14:
        return (p | c.S_SUSPEND) & ~c.S_DRIVER_OK
    return p | c.S_SUSPEND


def resumed_encoding(p: int, resume_to: St) -> int:
    """P at resume completion (SUS-11)."""
    if resume_to == St.INIT:
        return p & ~c.S_SUSPEND
    return (p & ~c.S_SUSPEND) | c.S_DRIVER_OK
