from __future__ import annotations

import pytest

from kapdesk.domain.session import (
    STANDARD_PHASES,
    Phase,
    Session,
    SessionState,
    SessionStateError,
)


def started(t: float = 100.0) -> tuple[Session, list]:
    s = Session(patient_id=1, protocol="im-ketamine")
    return s, s.start(t)


def test_start_enters_the_first_phase() -> None:
    s, events = started()
    assert s.state is SessionState.IN_PROGRESS
    assert [e.kind for e in events] == ["session_started", "phase_entered"]
    assert s.phase == STANDARD_PHASES[0]
    assert events[1].phase == "preparation"
    assert s.next_phase == STANDARD_PHASES[1]


def test_advance_walks_every_phase_then_completes() -> None:
    s, _ = started()
    kinds = []
    for i in range(len(STANDARD_PHASES)):
        kinds += [e.kind for e in s.advance(200.0 + i)]
    assert s.state is SessionState.COMPLETED
    assert s.ended_at == 200.0 + len(STANDARD_PHASES) - 1
    assert kinds[-2:] == ["phase_ended", "session_completed"]
    assert kinds.count("phase_entered") == len(STANDARD_PHASES) - 1


def test_phases_move_forward_only() -> None:
    s, _ = started()
    s.advance(110)
    with pytest.raises(SessionStateError, match="already past"):
        s.enter("preparation", 120)


def test_skipping_needs_a_reason_and_is_recorded() -> None:
    s, _ = started()
    with pytest.raises(SessionStateError, match="needs a reason"):
        s.enter("dosing", 120)
    events = s.enter("dosing", 120, reason="intention set at the previous visit")
    assert events[-1].data["skipped"] == ["intention"]
    assert events[-1].data["reason"] == "intention set at the previous visit"


def test_actions_outside_a_running_session_are_refused() -> None:
    s = Session(patient_id=1, protocol="p")
    with pytest.raises(SessionStateError):
        s.advance(1)
    with pytest.raises(SessionStateError):
        s.note(1, "note")
    s.start(1)
    with pytest.raises(SessionStateError):
        s.start(2)
    with pytest.raises(SessionStateError, match="reason"):
        s.abort(3, "  ")
    s.abort(3, "patient asked to stop")
    assert s.state is SessionState.ABORTED
    with pytest.raises(SessionStateError):
        s.advance(4)


def test_note_carries_the_current_phase() -> None:
    s, _ = started()
    s.advance(150)
    ev = s.note(160, "note", {"text": "calm"})
    assert (ev.t, ev.kind, ev.phase, ev.data["text"]) == (160, "note", "intention", "calm")


def test_phase_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="repeat"):
        Session(1, "p", phases=(Phase("a", "A"), Phase("a", "B")))
