"""The "resume the open session?" prompt after the app closed or crashed mid-session.

The logic is plain functions so it is testable without ``exec()``: ``pending_resumes``
finds every open session and describes its gap in real seconds, ``resume`` reloads it
with its monitoring (recording the gap), ``close_unresumed`` ends it as aborted with a
reason. ``build_prompt`` makes the message
box the lead shows at start-up; ``offer_resume`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from kapdesk.domain import time_text
from kapdesk.domain.session import SessionEvent
from kapdesk.live.runtime import Runtime
from kapdesk.storage.records import StoredSession


@dataclass(frozen=True)
class ResumeOffer:
    stored: StoredSession
    gap_s: float | None  # real seconds, whatever the session's clock speed
    number: int = 1  # this offer's place among the sessions left open
    of: int = 1

    @property
    def text(self) -> str:
        s = self.stored
        started = time_text.clock_time(s.started_at) if s.started_at else "?"
        phase = (s.phase or "?").replace("_", " ")
        gap = ""
        if self.gap_s is not None:
            last = (
                "second"
                if self.gap_s < 1
                else time_text.seconds_or_minutes(self.gap_s, minutes_from=90)
            )
            gap = f" Nothing was recorded for the last {last}."
        speed = f" (its clock ran at x{s.clock_speed:g})" if s.clock_speed != 1 else ""
        which = f"Open session {self.number} of {self.of}: " if self.of > 1 else ""
        return (
            f"{which}The session of {s.patient} ({s.protocol}), started at {started}{speed}, "
            f"was still in progress (phase: {phase}) when kapdesk closed.{gap}\n\n"
            "Resume it with its timeline intact? The gap is recorded, and its monitors "
            "are reconnected."
        )


def pending_resumes(runtime: Runtime) -> list[ResumeOffer]:
    """Every session left open, newest first (none while this process runs one)."""
    if runtime.controller.session is not None:
        return []  # a session is already running in this process
    found = runtime.controller.find_open_sessions()
    offers = []
    for k, stored in enumerate(found, start=1):
        gap = runtime.controller.resume_point(stored).gap_real_s
        offers.append(ResumeOffer(stored, gap, k, len(found)))
    return offers


def pending_resume(runtime: Runtime) -> ResumeOffer | None:
    """The newest session to offer, or None when none was left open."""
    offers = pending_resumes(runtime)
    return offers[0] if offers else None


def resume(runtime: Runtime, offer: ResumeOffer) -> SessionEvent:
    """Resume it with its monitoring: alarm state, "no data" checks, its monitors."""
    return runtime.resume_session(offer.stored.id)


def close_unresumed(runtime: Runtime, offer: ResumeOffer, reason: str) -> None:
    """End the open session as aborted (its gap and the reason are recorded)."""
    if not reason.strip():
        raise ValueError("closing a session without resuming it needs a reason")
    runtime.controller.resume(offer.stored.id, to_close=True)
    runtime.controller.abort(f"not resumed after restart: {reason.strip()}")


def build_prompt(offer: ResumeOffer, parent: QWidget | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle("Resume session?")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(offer.text)
    box.addButton("Resume session", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("End it\u2026", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Decide later", QMessageBox.ButtonRole.RejectRole)
    return box


def offer_resume(
    runtime: Runtime,
    parent: QWidget | None = None,
    on_resume: Callable[[ResumeOffer], object] | None = None,
) -> bool:
    """At start-up (GUI): offer each session left open in turn, newest first, until
    one is resumed; each can be resumed, ended with a reason, or left for later. True
    if one was resumed. ``on_resume`` resumes it (default: ``resume``; demo mode
    passes its own, which also restarts its emulators and script)."""
    for offer in pending_resumes(runtime):
        box = build_prompt(offer, parent)
        box.exec()
        role = box.buttonRole(box.clickedButton()) if box.clickedButton() else None
        if role == QMessageBox.ButtonRole.AcceptRole:
            (on_resume or (lambda o: resume(runtime, o)))(offer)
            return True
        if role == QMessageBox.ButtonRole.DestructiveRole:
            reason, ok = QInputDialog.getText(parent, "End session", "Reason:")
            if ok and reason.strip():
                close_unresumed(runtime, offer, reason)
    return False
