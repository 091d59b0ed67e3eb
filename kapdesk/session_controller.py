"""Runs one session: the domain state machine, stamped by the session clock, recorded.

The GUI and the demo script call this; it turns each action into domain events, hands
them to the recorder (which commits them at once) and tells listeners. It holds no Qt.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kapdesk.domain.clock import SessionClock
from kapdesk.domain.patients import Patient
from kapdesk.domain.session import Session, SessionEvent
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, add_session, save_session_state

EventListener = Callable[[SessionEvent], None]
COMMIT_WAIT_S = 1.0


class SessionController:
    def __init__(self, recorder: Recorder, clock: SessionClock) -> None:
        self.recorder = recorder
        self.clock = clock
        self.session: Session | None = None
        self.patient: Patient | None = None
        self.events: list[SessionEvent] = []
        self.unsaved = 0  # events of the last action not yet committed when it returned
        self._listeners: list[EventListener] = []
        self._lock = threading.Lock()

    def add_listener(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def open(self, patient: Patient, protocol: str) -> Session:
        """Save the patient (if new) and a planned session for them."""

        def create(s: Any) -> Session:
            if patient.id is None:
                add_patient(s, patient)
            session = Session(patient.id, protocol)
            add_session(s, session, clock_speed=self.clock.speed)
            return session

        self.patient = patient
        self.session = self.recorder.call(create)
        self.recorder.session_id = self.session.id
        return self.session

    def start(self) -> None:
        self._apply(lambda s, t: s.start(t))

    def advance(self) -> None:
        self._apply(lambda s, t: s.advance(t))

    def enter(self, phase_id: str, reason: str = "") -> None:
        self._apply(lambda s, t: s.enter(phase_id, t, reason))

    def complete(self) -> None:
        self._apply(lambda s, t: s.complete(t))

    def record(self, kind: str, data: Mapping[str, Any] | None = None) -> SessionEvent:
        """A timestamped event in the current phase (note, dose, baseline, check...)."""
        made: list[SessionEvent] = []

        def note(session: Session, t: float) -> list[SessionEvent]:
            made.append(session.note(t, kind, data))
            return made

        self._apply(note)
        return made[0]

    def _apply(self, action: Callable[[Session, float], list[SessionEvent]]) -> None:
        session = self.session
        if session is None or session.id is None:
            raise RuntimeError("no session is open")
        with self._lock:
            events = action(session, self.clock.now())
            saved = [self.recorder.record_event(session.id, ev) for ev in events]
            snapshot = dataclasses.replace(session)  # the writer thread gets a frozen copy
            self.recorder.submit(lambda s: save_session_state(s, snapshot))
            self.events.extend(events)
        # A clinical event counts as recorded once it is committed: wait briefly (a commit
        # of one row takes milliseconds). If storage is failing, the event stays queued
        # and is retried; the recording-failure technical alarm tells staff.
        concurrent.futures.wait(saved, timeout=COMMIT_WAIT_S)
        self.unsaved = sum(not f.done() for f in saved)
        for ev in events:
            for listener in self._listeners:
                listener(ev)
