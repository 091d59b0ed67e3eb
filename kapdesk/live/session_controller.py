"""Runs one session: the domain state machine, stamped by the session clock, recorded.

The GUI and the demo script call this; it turns each action into domain events, hands
them to the recorder (which commits them at once) and tells listeners. It holds no Qt.

The timeline is the record: everything the session panel shows (dose time, checks due,
eye mask, discharge readiness) is derived from the recorded events, so a session resumed
after a crash shows exactly what was recorded before it, and nothing else.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from kapdesk.config.paths import protocols_dir
from kapdesk.config.protocols import ProtocolSet, protocol_set
from kapdesk.domain import access, timeline
from kapdesk.domain.access import Actor
from kapdesk.domain.checklist import (
    ChecklistError,
    ChecklistOutcome,
    GateAnswer,
    Override,
    staff_role_of,
)
from kapdesk.domain.checklist import evaluate as evaluate_checklist
from kapdesk.domain.clock import ResumePoint, SessionClock, resume_point
from kapdesk.domain.discharge import DischargeAssessment, assess
from kapdesk.domain.dosing import Dose, DoseEntryError, validate_dose
from kapdesk.domain.listeners import Listeners
from kapdesk.domain.patients import Patient
from kapdesk.domain.protocol import Protocol
from kapdesk.domain.scales import Scale, is_sedated
from kapdesk.domain.schedule import (
    CheckKind,
    CheckResult,
    SchedulePlan,
    SlotState,
    check_in_due_at,
    plan,
)
from kapdesk.domain.session import (
    STANDARD_PHASES,
    EventKind,
    Session,
    SessionEvent,
    SessionState,
    SessionStateError,
)
from kapdesk.storage.care_team import CareTeams
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import (
    StoredSession,
    add_patient,
    add_session,
    find_open_sessions,
    get_patient,
    get_stored_session,
    load_events,
    save_session_state,
)

log = logging.getLogger(__name__)

EventListener = Callable[[SessionEvent], None]
COMMIT_WAIT_S = 1.0


class DischargeNotReadyError(RuntimeError):
    """Discharge refused: criteria unmet and not overridden (the message lists them)."""


class SessionController:
    def __init__(
        self,
        recorder: Recorder,
        clock: SessionClock,
        who: Callable[[], Actor | None] | None = None,
        care: CareTeams | None = None,
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        #: the care teams a therapist joins by opening a session (None: not kept)
        self.care = care
        #: who is acting (the runtime's desk); None: a bare controller without access
        #: control (unit tests of the timeline alone)
        self.who = who
        self._acting = threading.local()
        self.session: Session | None = None
        self.patient: Patient | None = None
        self.protocol: Protocol | None = None  # None: a protocol id without a file (tests)
        self.scales: dict[str, Scale] = {}
        self.events: list[SessionEvent] = []
        self.unsaved = 0  # events of the last action not yet committed when it returned
        #: events and their commits, until committed (what the timeline marks unsaved)
        self._commits: list[tuple[SessionEvent, concurrent.futures.Future[None]]] = []
        self._listeners: Listeners[[SessionEvent]] = Listeners("session event", log)
        self._before_end: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def add_listener(self, listener: EventListener) -> None:
        with self._lock:  # windows come and go on any thread; copy-on-write needs one writer
            self._listeners.add(listener)

    def remove_listener(self, listener: EventListener) -> None:
        """A window that closes stops listening (no-op if it never did)."""
        with self._lock:
            self._listeners.remove(listener)

    @contextlib.contextmanager
    def acting_as(self, actor: Actor) -> Iterator[None]:
        """Acts on this thread are ``actor``'s (demo mode's scripted clinician), whoever
        is at the keyboard."""
        previous = getattr(self._acting, "actor", None)
        self._acting.actor = actor
        try:
            yield
        finally:
            self._acting.actor = previous

    def actor(self) -> Actor | None:
        acting: Actor | None = getattr(self._acting, "actor", None)
        if acting is not None:
            return acting
        return self.who() if self.who is not None else None

    def _authorise(self, kinds: Iterable[str]) -> dict[str, str]:
        """What the events of one act carry about who did it; ``AccessDenied`` when the
        actor may not (the record is left unchanged)."""
        if self.who is None and getattr(self._acting, "actor", None) is None:
            return {}
        actor = self.actor()
        for kind in kinds:
            if kind not in access.SYSTEM_EVENTS:

                def may(a: Actor, k: str = kind) -> bool:
                    return access.can_record_event(a, k)

                access.require_actor(actor, may, f"recording {kind}")
        if actor is None:
            return {}
        stamp = {"by": actor.who}
        if actor.emergency:
            stamp["emergency"] = actor.emergency
        return stamp

    def _signed(self, overrides: Iterable[Override]) -> list[Override]:
        """Overrides as the signed-in user's: whatever name and role a screen put on them,
        they are recorded as the acting user's own (so only medical staff's count)."""
        given = list(overrides)
        if self.who is None and getattr(self._acting, "actor", None) is None:
            return given
        actor = self.actor()
        if actor is None:
            raise access.AccessDenied("not allowed: overriding (nobody signed in)")
        role = staff_role_of(actor)
        return [dataclasses.replace(ov, by=actor.who, role=role) for ov in given]

    def uncommitted(self) -> list[SessionEvent]:
        """Events shown on the timeline that the database does not hold yet (a full
        disk): the recorder keeps them and retries; the screen marks them unsaved."""
        with self._lock:
            self._commits = [(ev, f) for ev, f in self._commits if not f.done()]
            return [ev for ev, _ in self._commits]

    # -- opening, resuming ------------------------------------------------------------------

    def open(self, patient: Patient, protocol: str) -> Session:
        """Save the patient (if new) and a planned session for them, with the protocol's
        phases when ``protocol`` names a protocol file."""
        self._authorise([EventKind.SESSION_STARTED])  # opening one is running one
        pset = _protocol_set_or_none(protocol)
        phases = pset.protocol.phases if pset else STANDARD_PHASES

        def create(s: Any) -> Session:
            if patient.id is None:
                add_patient(s, patient)
            session = Session(patient.id, protocol, phases=phases)
            add_session(s, session, clock_speed=self.clock.speed)
            return session

        self._use_protocol(pset)
        self.patient = patient
        self.events = []
        self.session = self.recorder.call(create)
        self.recorder.session_id = self.session.id
        self._join_care_team(self.session.patient_id, "opened a session")
        return self.session

    def _join_care_team(self, patient_id: int | None, why: str) -> None:
        if self.care is not None:
            self.care.join_own(self.actor(), patient_id, why)

    def find_open_session(self) -> StoredSession | None:
        """The most recent session left in progress (the app closed or crashed)."""
        found = find_open_sessions(self.recorder.engine)
        return found[0] if found else None

    def find_open_sessions(self) -> list[StoredSession]:
        """Every session left in progress, newest first."""
        return find_open_sessions(self.recorder.engine)

    def resume_point(self, stored: StoredSession) -> ResumePoint:
        """Where ``stored``'s clock would carry on now, and its gap in real seconds."""
        events = load_events(self.recorder.engine, stored.id)
        return self._resume_point(stored, events)

    def _resume_point(self, stored: StoredSession, events: list[SessionEvent]) -> ResumePoint:
        return resume_point(
            timeline.clock_segments(events),
            stored.last_recorded_at,
            self.clock.wall_now(),
            stored.clock_speed,
            stored.started_at,
        )

    def clock_data(self) -> dict[str, float]:
        """What a later resume needs to know of this process's clock (see
        ``kapdesk.domain.clock.resume_point``), recorded with the start and each resume."""
        return {
            "clock_speed": self.clock.speed,
            "clock_anchor": self.clock.anchor,
            "wall_at": self.clock.wall_now(),
        }

    def resume(self, session_id: int, to_close: bool = False) -> SessionEvent:
        """Reload a session's timeline from the database and carry on; records a
        ``session_resumed`` event with the gap since the last recorded event or reading.

        The session clock carries on the session's own clock, at its stored speed (a x20
        demo session stays x20), so its timeline runs on without a jump. ``to_close``:
        resumed only to be ended at once (its monitoring is not restored)."""
        self._authorise([EventKind.SESSION_RESUMED])  # before anything is reloaded
        engine = self.recorder.engine
        stored = get_stored_session(engine, session_id)
        if stored.state != "in_progress":
            raise SessionStateError(f"session {session_id} is {stored.state}, not in progress")
        pset = _protocol_set_or_none(stored.protocol)
        events = load_events(engine, session_id)
        point = self._resume_point(stored, events)
        session = Session(
            stored.patient_id,
            stored.protocol,
            phases=pset.protocol.phases if pset else STANDARD_PHASES,
            id=stored.id,
            uid=stored.uid,
        )
        session.restore(events)
        self._use_protocol(pset)
        self.patient = get_patient(engine, stored.patient_id)
        self.session = session
        self.events = list(events)
        self.recorder.session_id = session.id
        self._join_care_team(session.patient_id, "resumed a session")
        self.clock.continue_session(point.anchor, point.now, point.speed)
        last = stored.last_recorded_at
        gap = point.gap_real_s
        data: dict[str, Any] = {
            "gap_s": None if gap is None else round(gap, 3),
            "last_recorded_at": last,
            **self.clock_data(),
        }
        if to_close:
            data["to_close"] = True
        return self.record(EventKind.SESSION_RESUMED, data)

    # -- the phase state machine ------------------------------------------------------------

    def start(self) -> None:
        def start(session: Session, t: float) -> list[SessionEvent]:
            started, *rest = session.start(t)
            started = dataclasses.replace(started, data={**started.data, **self.clock_data()})
            return [started, *rest]

        self._apply(start)

    def advance(self) -> None:
        self._apply(lambda s, t: s.advance(t))

    def enter(self, phase_id: str, reason: str = "") -> None:
        self._apply(lambda s, t: s.enter(phase_id, t, reason))

    def add_before_end(self, callback: Callable[[], None]) -> None:
        """``callback`` runs just before the session completes or is aborted, on the
        ending thread, while events can still be recorded: for anything that must close
        its own record first (the music's playing track)."""
        self._before_end.append(callback)

    def complete(self) -> None:
        self._run_before_end()
        self._apply(lambda s, t: s.complete(t))

    def abort(self, reason: str) -> None:
        self._run_before_end()
        self._apply(lambda s, t: s.abort(t, reason))

    def _run_before_end(self) -> None:
        if self.session is None or self.session.state is not SessionState.IN_PROGRESS:
            return
        for callback in list(self._before_end):
            try:
                callback()
            except Exception:  # one failing closer must not keep a session from ending
                log.exception("before-end callback %r failed", callback)

    def record(self, kind: str, data: Mapping[str, Any] | None = None) -> SessionEvent:
        """A timestamped event in the current phase (note, dose, baseline, check...)."""
        made: list[SessionEvent] = []

        def note(session: Session, t: float) -> list[SessionEvent]:
            made.append(session.note(t, kind, data))
            return made

        self._apply(note)
        return made[0]

    # -- what happens in a session ----------------------------------------------------------

    def record_checklist(
        self, answers: Mapping[str, GateAnswer], overrides: Iterable[Override] = ()
    ) -> ChecklistOutcome:
        """The pre-dose checklist with any overrides; a measured pre-dose BP also becomes
        the baseline the alarm engine's relative limits use."""
        protocol = self._require_protocol()
        outcome = evaluate_checklist(protocol.checklist, answers, self._signed(overrides))
        data = outcome.to_dict()
        measured = [a for a in answers.values() if a.systolic is not None and a.diastolic]
        if measured:  # the pre-dose BP also counts as the "before dosing" BP check
            data["bp"] = {"systolic": measured[0].systolic, "diastolic": measured[0].diastolic}
        self.record(EventKind.CHECKLIST, data)
        for ans in answers.values():
            if ans.systolic is not None and ans.diastolic is not None:
                self._record_bp_baseline(ans.systolic, ans.diastolic, "checklist")
        return outcome

    def set_intention(self, text: str) -> SessionEvent:
        """The patient's intention, in their own words (recorded verbatim)."""
        if not text.strip():
            raise ValueError("the intention is empty")
        return self.record(EventKind.INTENTION, {"text": text.strip()})

    def give_dose(
        self,
        route: str,
        amount_mg: float,
        lot: str = "",
        weight_kg: float | None = None,
        infusion_min: float | None = None,
        note: str = "",
    ) -> Dose:
        """Record a dose (the first) or a booster (every later one) as staff entered it.
        The first dose needs a cleared pre-dose checklist when the protocol has one."""
        self._authorise([EventKind.DOSE])  # who may, before what is entered is judged
        dose = self.check_dose(route, amount_mg, lot, weight_kg, infusion_min, note)
        self.record(EventKind.DOSE, dose.to_dict())
        return dose

    def check_dose(
        self,
        route: str,
        amount_mg: float,
        lot: str = "",
        weight_kg: float | None = None,
        infusion_min: float | None = None,
        note: str = "",
    ) -> Dose:
        """The dose as ``give_dose`` would record it, checked but not recorded (a dialog
        asks "Record 60 mg ...?" only about a dose that would be accepted); raises with
        the reason it would be refused."""
        protocol = self._require_protocol()
        weight = weight_kg
        if weight is None and self.patient is not None:
            weight = self.patient.weight_kg
        if weight is None:
            raise DoseEntryError("enter the body weight (the patient record has none)")
        number = len(self.doses) + 1
        if number == 1 and protocol.checklist:
            outcome = self.checklist_outcome
            if outcome is None:
                raise ChecklistError("complete the pre-dose checklist before the first dose")
            if not outcome.get("cleared"):
                blocking = ", ".join(outcome.get("blocking", []))
                raise ChecklistError(f"the pre-dose checklist is not cleared ({blocking})")
        return validate_dose(
            protocol.dosing, route, amount_mg, weight, lot, number, infusion_min, note
        )

    def eye_mask(self, on: bool) -> SessionEvent:
        if on == self.eye_mask_on:
            raise SessionStateError(f"the eye mask is already {'on' if on else 'off'}")
        return self.record(EventKind.EYE_MASK_ON if on else "eye_mask_off")

    def check_in(self, text: str = "") -> SessionEvent:
        """A gentle check-in with the patient (while the eye mask is on, on reminder)."""
        return self.record(EventKind.CHECK_IN, {"text": text.strip()} if text.strip() else {})

    def note(self, text: str) -> SessionEvent:
        if not text.strip():
            raise ValueError("the note is empty")
        return self.record(EventKind.NOTE, {"text": text.strip()})

    def record_check(
        self,
        check_id: str,
        systolic: float | None = None,
        diastolic: float | None = None,
        answers: Mapping[str, int] | None = None,
        note: str = "",
    ) -> SessionEvent:
        """The result of a scheduled check: a blood pressure, or a scale's answers."""
        self._authorise([EventKind.CHECK])  # who may, before what is entered is judged
        protocol = self._require_protocol()
        check = protocol.check(check_id)
        pending = [s for s in self.schedule().pending() if s.check.id == check_id]
        data: dict[str, Any] = {"check": check.id, "label": check.label, "kind": check.kind.value}
        if pending:
            data["slot"] = pending[0].label
        if check.kind is CheckKind.BP:
            if systolic is None or diastolic is None:
                raise ValueError("a blood-pressure check needs systolic and diastolic")
            if not (0 < diastolic < systolic < 350):
                raise ValueError(f"implausible blood pressure {systolic:g}/{diastolic:g}")
            data |= {"systolic": float(systolic), "diastolic": float(diastolic)}
        else:
            scale = self.scales[str(check.scale)]
            score = scale.score(answers or {})
            data |= score.to_dict()
            if scale.id == "moaas":
                pre = timeline.pre_dose_moaas(self.events)
                data["sedated"] = self.dose_t is not None and is_sedated(pre, score.total)
                data["pre_dose_score"] = pre
        if note.strip():
            data["note"] = note.strip()
        event = self.record(EventKind.CHECK, data)
        if check.kind is CheckKind.BP and self.dose_t is None:
            assert systolic is not None and diastolic is not None
            self._record_bp_baseline(systolic, diastolic, "pre-dose check")
        return event

    def assess_discharge(
        self,
        score_answers: Mapping[str, int] | None,
        ride_home: bool,
        vitals: Mapping[str, float],
        overrides: Iterable[Override] = (),
    ) -> DischargeAssessment:
        """Check the protocol's discharge criteria now (nothing is recorded)."""
        protocol = self._require_protocol()
        scale = self.scales[protocol.discharge.score_scale]
        score = scale.score(score_answers) if score_answers is not None else None
        return assess(
            protocol.discharge,
            score,
            vitals,
            self.baseline_vitals(),
            self.observed_s(),
            ride_home,
            list(overrides),
            score_label=scale.name,
            outstanding_checks=[slot.label for slot in self.schedule().outstanding()],
        )

    def discharge(
        self,
        score_answers: Mapping[str, int],
        ride_home: bool,
        vitals: Mapping[str, float],
        overrides: Iterable[Override] = (),
        note: str = "",
    ) -> DischargeAssessment:
        """Record the discharge and complete the session; refused while any criterion is
        unmet and not overridden (an early discharge needs an override with a reason)."""
        self._authorise([EventKind.DISCHARGE])  # who may, before what is entered is judged
        assessment = self.assess_discharge(
            score_answers, ride_home, vitals, self._signed(overrides)
        )
        if not assessment.ready:
            raise DischargeNotReadyError(
                "discharge criteria not met: " + ", ".join(assessment.unmet)
            )
        session = self._require_session()
        last = session.phases[-1]
        if session.phase is not None and session.phase.id != last.id:
            nxt = session.next_phase
            if nxt is not None and nxt.id == last.id:
                self.advance()
            else:
                self.enter(last.id, reason="discharged")
        data = assessment.to_dict()
        if note.strip():
            data["note"] = note.strip()
        self.record(EventKind.DISCHARGE, data)
        self.complete()
        return assessment

    # -- what the timeline says -------------------------------------------------------------

    @property
    def doses(self) -> list[SessionEvent]:
        return timeline.doses(self.events)

    @property
    def dose_t(self) -> float | None:
        """When the first dose was given: the schedule and observation count from it."""
        return timeline.first_dose_t(self.events)

    @property
    def eye_mask_on(self) -> bool:
        return self.mask_on_t is not None

    @property
    def mask_on_t(self) -> float | None:
        """When the eye mask went on, if it is on now."""
        return timeline.mask_on_since(self.events)

    @property
    def checklist_outcome(self) -> Mapping[str, Any] | None:
        """The last recorded checklist (its ``cleared``, ``blocking``, ``items``...)."""
        return timeline.last_checklist(self.events)

    @property
    def intention(self) -> str | None:
        return timeline.intention(self.events)

    def check_results(self) -> list[CheckResult]:
        checks = self.protocol.checks if self.protocol else ()
        return timeline.check_results(self.events, [c.id for c in checks if c.kind is CheckKind.BP])

    def baseline_vitals(self) -> dict[str, float]:
        """Pre-dose values: recorded baselines, else the patient record's."""
        return timeline.baseline_vitals(self.events, self.patient.baseline if self.patient else {})

    def pre_dose_bp(self) -> tuple[float, float] | None:
        return timeline.pre_dose_bp(self.baseline_vitals())

    def schedule(self, now: float | None = None) -> SchedulePlan:
        """Every scheduled check's slots and their state at ``now`` (default: the clock)."""
        if self.protocol is None:
            return SchedulePlan((), None)
        ended_at = self.session.ended_at if self.session is not None else None
        result = self._plan_at(now)
        # After discharge nothing is due: what was not done is missed.
        return result.closed() if ended_at is not None else result

    def _plan_at(self, now: float | None) -> SchedulePlan:
        assert self.protocol is not None
        at = self.clock.now() if now is None else now
        ended_at = self.session.ended_at if self.session is not None else None
        if ended_at is not None:
            at = min(at, ended_at)
        return plan(
            self.protocol.checks,
            self.dose_t,
            at,
            self.check_results(),
            self.pre_dose_bp(),
            self.protocol.stability,
        )

    def check_outcome(self) -> dict[str, list[str]]:
        """The scheduled checks of this session by outcome, for its summary: ``done``,
        ``missed`` (their window passed) and ``skipped`` (still due at discharge)."""
        if self.protocol is None:
            return {"done": [], "missed": [], "skipped": []}
        raw = self._plan_at(None)
        return {
            "done": [s.label for s in raw.by_state(SlotState.DONE)],
            "missed": [s.label for s in raw.by_state(SlotState.MISSED)],
            "skipped": [s.label for s in raw.pending()]
            if self.session is not None and self.session.ended_at is not None
            else [],
        }

    def check_in_due(self) -> float | None:
        """When the next gentle check-in is due (None unless the eye mask is on)."""
        mask = self.mask_on_t
        if mask is None or self.protocol is None or not self.protocol.eye_mask_check_in_min:
            return None
        if self.session is not None and self.session.ended_at is not None:
            return None  # discharged: nothing prompts any more
        last = timeline.last_check_in_t(self.events)
        return check_in_due_at(mask, last, self.protocol.eye_mask_check_in_min * 60)

    def observed_s(self, now: float | None = None) -> float | None:
        dose = self.dose_t
        if dose is None:
            return None
        return (self.clock.now() if now is None else now) - dose

    # -- internals --------------------------------------------------------------------------

    def _use_protocol(self, pset: ProtocolSet | None) -> None:
        self.protocol = pset.protocol if pset else None
        self.scales = dict(pset.scales) if pset else {}

    def _require_session(self) -> Session:
        if self.session is None or self.session.id is None:
            raise RuntimeError("no session is open")
        return self.session

    def _require_protocol(self) -> Protocol:
        self._require_session()
        if self.protocol is None:
            raise RuntimeError("this session has no protocol file; open it with a protocol id")
        return self.protocol

    def _record_bp_baseline(self, systolic: float, diastolic: float, source: str) -> None:
        for channel, value in zip(timeline.BP_CHANNELS, (systolic, diastolic), strict=True):
            self.record(
                EventKind.BASELINE, {"channel": channel, "value": float(value), "source": source}
            )

    def _apply(self, action: Callable[[Session, float], list[SessionEvent]]) -> None:
        session = self._require_session()
        assert session.id is not None
        with self._lock:
            events = action(session, self.clock.now())
            stamp = self._authorise(ev.kind for ev in events)
            if stamp:
                events = [
                    ev
                    if ev.kind in access.SYSTEM_EVENTS or "by" in ev.data
                    else dataclasses.replace(ev, data={**ev.data, **stamp})
                    for ev in events
                ]
            saved = [self.recorder.record_event(session.id, ev) for ev in events]
            self._commits.extend(zip(events, saved, strict=True))
            snapshot = dataclasses.replace(session)  # the writer thread gets a frozen copy
            # The row's state is saved in the same wait, so a reader right after the
            # action (export, "open sessions") sees the state the events imply.
            saved.append(self.recorder.submit(lambda s: save_session_state(s, snapshot)))
            self.events.extend(events)
        # A clinical event counts as recorded once it is committed: wait briefly (a commit
        # of one row takes milliseconds). If storage is failing, the event stays queued
        # and is retried; the recording-failure technical alarm tells staff.
        concurrent.futures.wait(saved, timeout=COMMIT_WAIT_S)
        self.unsaved = sum(not f.done() for f in saved)
        for ev in events:  # already recorded: a failing listener must not undo that for the caller
            self._listeners.notify(ev)


def _protocol_set_or_none(protocol: str) -> ProtocolSet | None:
    """The protocol's files, or None for an id with no file (a broken file raises)."""
    if not (protocols_dir() / f"{protocol}.toml").is_file():
        return None
    return protocol_set(protocol)
