"""The "resume the open session?" logic after the app closed mid-session, without exec():
the offer, resuming (timeline intact, gap recorded), and ending it with a reason."""

from __future__ import annotations

import time

import pytest
from access_support import CLINICIAN
from session_test_support import make_patient

from kapdesk.domain.session import SessionState
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.records import get_stored_session, load_events
from kapdesk.ui.session.panel import SessionPanel
from kapdesk.ui.session.resume import build_prompt, close_unresumed, pending_resume, resume


def leave_open_session(db_url: str) -> int:
    """A session in the dosing phase, then the app goes away without ending it."""
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    c = rt.controller
    c.open(make_patient(), "im-ketamine")
    c.start()
    c.advance()
    c.set_intention("to rest")
    c.advance()
    sid = c.session.id
    rt.shutdown()
    return sid


def test_no_offer_without_an_open_session(runtime: Runtime) -> None:
    assert pending_resume(runtime) is None


def test_the_offer_names_patient_phase_and_gap(qtbot, db_url: str) -> None:
    sid = leave_open_session(db_url)
    time.sleep(0.02)
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    try:
        offer = pending_resume(rt)
        assert offer is not None and offer.stored.id == sid
        assert offer.gap_s is not None and offer.gap_s > 0
        assert "R. K. (test)" in offer.text and "phase: dosing" in offer.text
        box = build_prompt(offer)
        qtbot.addWidget(box)
        labels = sorted(b.text() for b in box.buttons())
        assert labels == ["Decide later", "End it\u2026", "Resume session"]
        assert box.text() == offer.text

        event = resume(rt, offer)
        assert event.kind == "session_resumed" and event.data["gap_s"] > 0
        assert pending_resume(rt) is None  # this process now runs it
        # The panel shows the resumed session where it was.
        panel = SessionPanel(rt)
        qtbot.addWidget(panel)
        assert panel.phase.text() == "Dosing"
        assert "to rest" in panel.intention.text()
        kinds = [e.kind for e in load_events(rt.engine, sid)]
        assert kinds.count("intention") == 1 and kinds[-1] == "session_resumed"
    finally:
        rt.shutdown()


def test_ending_an_unresumed_session_needs_a_reason_and_is_recorded(db_url: str) -> None:
    sid = leave_open_session(db_url)
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    try:
        offer = pending_resume(rt)
        assert offer is not None
        with pytest.raises(ValueError, match="reason"):
            close_unresumed(rt, offer, "  ")
        close_unresumed(rt, offer, "patient went home with escort during the outage")
        assert rt.controller.session.state is SessionState.ABORTED
        assert get_stored_session(rt.engine, sid).state == "aborted"
        last = load_events(rt.engine, sid)[-1]
        assert last.kind == "session_aborted" and "outage" in last.data["reason"]
        assert rt.controller.find_open_session() is None
    finally:
        rt.shutdown()
