"""The "resume the open session?" prompt after the app closed or crashed mid-session.

The logic is plain functions so it is testable without ``exec()``: ``pending_resume``
finds the open session and describes the gap, ``resume`` reloads it (recording the gap),
``close_unresumed`` ends it as aborted with a reason. ``build_prompt`` makes the message
box the lead shows at start-up; ``offer_resume`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from kapdesk.domain.session import SessionEvent
from kapdesk.runtime import Runtime
from kapdesk.storage.records import StoredSession


@dataclass(frozen=True)
class ResumeOffer:
    stored: StoredSession
    gap_s: float | None

    @property
    def text(self) -> str:
        s = self.stored
        started = datetime.fromtimestamp(s.started_at).strftime("%H:%M") if s.started_at else "?"
        phase = (s.phase or "?").replace("_", " ")
        gap = ""
        if self.gap_s is not None:
            minutes = self.gap_s / 60
            gap = f" Nothing was recorded for the last {minutes:.0f} min."
        return (
            f"The session of {s.patient} ({s.protocol}), started at {started}, was still "
            f"in progress (phase: {phase}) when kapdesk closed.{gap}\n\n"
            "Resume it with its timeline intact? The gap is recorded."
        )


def pending_resume(runtime: Runtime) -> ResumeOffer | None:
    """The session to offer, or None when none was left open."""
    if runtime.controller.session is not None:
        return None  # a session is already running in this process
    stored = runtime.controller.find_open_session()
    if stored is None:
        return None
    last = stored.last_recorded_at
    gap = runtime.clock.now() - last if last is not None else None
    return ResumeOffer(stored, gap)


def resume(runtime: Runtime, offer: ResumeOffer) -> SessionEvent:
    return runtime.controller.resume(offer.stored.id)


def close_unresumed(runtime: Runtime, offer: ResumeOffer, reason: str) -> None:
    """End the open session as aborted (its gap and the reason are recorded)."""
    if not reason.strip():
        raise ValueError("closing a session without resuming it needs a reason")
    runtime.controller.resume(offer.stored.id)
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


def offer_resume(runtime: Runtime, parent: QWidget | None = None) -> bool:
    """At start-up (GUI): ask, and resume or end the open session. True if resumed."""
    offer = pending_resume(runtime)
    if offer is None:
        return False
    box = build_prompt(offer, parent)
    box.exec()
    role = box.buttonRole(box.clickedButton()) if box.clickedButton() else None
    if role == QMessageBox.ButtonRole.AcceptRole:
        resume(runtime, offer)
        return True
    if role == QMessageBox.ButtonRole.DestructiveRole:
        reason, ok = QInputDialog.getText(parent, "End session", "Reason:")
        if ok and reason.strip():
            close_unresumed(runtime, offer, reason)
    return False
