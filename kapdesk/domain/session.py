"""A dosing session: its state, its phases, and the timestamped events that make its timeline.

Phases move forward only (a session does not go back to intention setting once dosed);
skipping ahead is allowed and recorded, because real sessions sometimes do. Every change
produces a ``SessionEvent`` that the caller records, so the timeline is the record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any


class SessionState(Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # discharged
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a protocol; ``expected_s`` is how long it usually lasts."""

    id: str
    label: str
    expected_s: float = 0.0


#: Phases of a KAP dosing session when a protocol does not say otherwise.
STANDARD_PHASES: tuple[Phase, ...] = (
    Phase("preparation", "Preparation and screening", 10 * 60),
    Phase("intention", "Intention setting", 10 * 60),
    Phase("dosing", "Dosing", 5 * 60),
    Phase("experience", "Eye mask and music", 45 * 60),
    Phase("recovery", "Recovery", 40 * 60),
    Phase("discharge", "Discharge", 10 * 60),
)


class EventKind(StrEnum):
    """Every kind of timeline event, defined once. The values are the strings stored in
    the record (``session_event.kind``) and exported: they never change."""

    SESSION_STARTED = "session_started"
    SESSION_RESUMED = "session_resumed"
    SESSION_COMPLETED = "session_completed"
    SESSION_ABORTED = "session_aborted"
    PHASE_ENTERED = "phase_entered"
    PHASE_ENDED = "phase_ended"
    INTENTION = "intention"
    DOSE = "dose"
    CHECK = "check"
    CHECKLIST = "checklist"
    CHECK_IN = "check_in"
    BASELINE = "baseline"
    NOTE = "note"
    MARKER = "marker"
    EYE_MASK_ON = "eye_mask_on"
    EYE_MASK_OFF = "eye_mask_off"
    DISCHARGE = "discharge"
    DEVICE_CONNECTED = "device_connected"
    DEVICE_DISCONNECTED = "device_disconnected"
    DEVICE_NOT_RECONNECTED = "device_not_reconnected"
    MUSIC_TRACK_STARTED = "music_track_started"
    MUSIC_TRACK_STOPPED = "music_track_stopped"
    MUSIC_TRACK_FAILED = "music_track_failed"


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something that happened at time ``t`` (epoch seconds, session clock)."""

    t: float
    kind: str  # an EventKind (a str: the stored value)
    phase: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


class SessionStateError(RuntimeError):
    """An action that the session's state does not allow (e.g. dosing twice the intention)."""


@dataclass
class Session:
    """The state machine of one session; returns the events it produces."""

    patient_id: int | None
    protocol: str
    phases: Sequence[Phase] = STANDARD_PHASES
    state: SessionState = SessionState.PLANNED
    phase_index: int = -1
    started_at: float | None = None
    ended_at: float | None = None
    phase_started_at: float | None = None
    id: int | None = None
    uid: str = ""

    def __post_init__(self) -> None:
        if not self.phases:
            raise ValueError("a session needs at least one phase")
        ids = [p.id for p in self.phases]
        if len(set(ids)) != len(ids):
            raise ValueError(f"phase ids repeat: {ids}")

    @property
    def phase(self) -> Phase | None:
        return self.phases[self.phase_index] if self.phase_index >= 0 else None

    @property
    def next_phase(self) -> Phase | None:
        i = self.phase_index + 1
        return self.phases[i] if i < len(self.phases) else None

    def start(self, t: float) -> list[SessionEvent]:
        if self.state is not SessionState.PLANNED:
            raise SessionStateError(f"cannot start a session that is {self.state.value}")
        self.state = SessionState.IN_PROGRESS
        self.started_at = t
        events = [SessionEvent(t, EventKind.SESSION_STARTED, None, {"protocol": self.protocol})]
        return events + self._enter(0, t, skipped=())

    def advance(self, t: float) -> list[SessionEvent]:
        """Move to the next phase; after the last phase, complete the session."""
        self._require_running()
        if self.phase_index + 1 >= len(self.phases):
            return self.complete(t)
        return self._enter(self.phase_index + 1, t, skipped=())

    def enter(self, phase_id: str, t: float, reason: str = "") -> list[SessionEvent]:
        """Jump forward to ``phase_id``; phases passed over are recorded as skipped."""
        self._require_running()
        ids = [p.id for p in self.phases]
        if phase_id not in ids:
            raise SessionStateError(f"unknown phase {phase_id!r}; phases are {ids}")
        i = ids.index(phase_id)
        if i <= self.phase_index:
            raise SessionStateError(f"phase {phase_id!r} is already past; phases move forward")
        skipped = tuple(ids[self.phase_index + 1 : i])
        if skipped and not reason:
            raise SessionStateError(f"skipping {', '.join(skipped)} needs a reason")
        return self._enter(i, t, skipped=skipped, reason=reason)

    def complete(self, t: float) -> list[SessionEvent]:
        self._require_running()
        return self._end(t, SessionState.COMPLETED, "session_completed", {})

    def abort(self, t: float, reason: str) -> list[SessionEvent]:
        self._require_running()
        if not reason.strip():
            raise SessionStateError("aborting a session needs a reason")
        return self._end(t, SessionState.ABORTED, "session_aborted", {"reason": reason})

    def note(self, t: float, kind: str, data: Mapping[str, Any] | None = None) -> SessionEvent:
        """An event within the current phase (a note, a dose, a check...)."""
        self._require_running()
        return SessionEvent(t, kind, self.phase.id if self.phase else None, dict(data or {}))

    def restore(self, events: Sequence[SessionEvent]) -> None:
        """Rebuild the state from a recorded timeline (resuming after a restart).

        Only the state changes are replayed; the events themselves stay as recorded.
        """
        ids = [p.id for p in self.phases]
        for ev in events:
            if ev.kind == EventKind.SESSION_STARTED:
                self.state, self.started_at = SessionState.IN_PROGRESS, ev.t
            elif ev.kind == EventKind.PHASE_ENTERED and ev.phase is not None:
                if ev.phase not in ids:
                    raise SessionStateError(
                        f"the record enters phase {ev.phase!r}, which the protocol lacks ({ids})"
                    )
                self.phase_index, self.phase_started_at = ids.index(ev.phase), ev.t
            elif ev.kind == EventKind.SESSION_COMPLETED:
                self.state, self.ended_at = SessionState.COMPLETED, ev.t
            elif ev.kind == EventKind.SESSION_ABORTED:
                self.state, self.ended_at = SessionState.ABORTED, ev.t

    # -- internals ------------------------------------------------------------------------

    def _require_running(self) -> None:
        if self.state is not SessionState.IN_PROGRESS:
            raise SessionStateError(f"the session is {self.state.value}, not in progress")

    def _enter(
        self, i: int, t: float, skipped: tuple[str, ...], reason: str = ""
    ) -> list[SessionEvent]:
        events: list[SessionEvent] = []
        if self.phase is not None:
            events.append(SessionEvent(t, EventKind.PHASE_ENDED, self.phase.id))
        self.phase_index = i
        self.phase_started_at = t
        data: dict[str, Any] = {"label": self.phases[i].label}
        if skipped:
            data |= {"skipped": list(skipped), "reason": reason}
        events.append(SessionEvent(t, EventKind.PHASE_ENTERED, self.phases[i].id, data))
        return events

    def _end(
        self, t: float, state: SessionState, kind: str, data: dict[str, Any]
    ) -> list[SessionEvent]:
        events: list[SessionEvent] = []
        if self.phase is not None:
            events.append(SessionEvent(t, EventKind.PHASE_ENDED, self.phase.id))
        self.state = state
        self.ended_at = t
        events.append(SessionEvent(t, kind, None, data))
        return events
