"""Reading and writing the clinical record: patients, sessions and their timelines."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.alarms import AlarmTransition
from kapdesk.domain.patients import Patient
from kapdesk.domain.session import Session, SessionEvent, SessionState
from kapdesk.storage.models import (
    AlarmRow,
    PatientRow,
    ReadingBlockRow,
    SessionEventRow,
    SessionRow,
)


def add_patient(s: OrmSession, patient: Patient) -> PatientRow:
    row = PatientRow(
        uid=patient.uid or str(uuid.uuid4()),
        display_name=patient.display_name,
        date_of_birth=patient.date_of_birth,
        weight_kg=patient.weight_kg,
        allergies=patient.allergies,
        medications=patient.medications,
        notes=patient.notes,
        baseline=dict(patient.baseline),
        created_at=time.time(),
    )
    s.add(row)
    s.flush()
    patient.id, patient.uid = row.id, row.uid
    return row


def add_session(s: OrmSession, session: Session, clock_speed: float = 1.0) -> SessionRow:
    if session.patient_id is None:
        raise ValueError("a session needs a saved patient")
    row = SessionRow(
        uid=session.uid or str(uuid.uuid4()),
        patient_id=session.patient_id,
        protocol=session.protocol,
        state=session.state.value,
        current_phase=session.phase.id if session.phase else None,
        started_at=session.started_at,
        ended_at=session.ended_at,
        clock_speed=clock_speed,
        created_at=time.time(),
    )
    s.add(row)
    s.flush()
    session.id, session.uid = row.id, row.uid
    return row


def save_session_state(s: OrmSession, session: Session) -> None:
    """Mirror the state machine onto its row (state, phase, start and end)."""
    row = s.get(SessionRow, session.id)
    if row is None:
        raise LookupError(f"no session {session.id}")
    row.state = session.state.value
    row.current_phase = session.phase.id if session.phase else None
    row.started_at = session.started_at
    row.ended_at = session.ended_at


@dataclass(frozen=True, slots=True)
class SessionSummary:
    id: int
    uid: str
    patient: str
    protocol: str
    state: str
    phase: str | None
    started_at: float | None
    ended_at: float | None
    readings: int


def list_sessions(engine: Engine) -> list[SessionSummary]:
    counts = (
        select(ReadingBlockRow.session_id, func.sum(ReadingBlockRow.n).label("n"))
        .group_by(ReadingBlockRow.session_id)
        .subquery()
    )
    q = (
        select(SessionRow, PatientRow.display_name, counts.c.n)
        .join(PatientRow, PatientRow.id == SessionRow.patient_id)
        .outerjoin(counts, counts.c.session_id == SessionRow.id)
        .order_by(SessionRow.id)
    )
    with OrmSession(engine) as s:
        return [
            SessionSummary(
                row.id,
                row.uid,
                name,
                row.protocol,
                row.state,
                row.current_phase,
                row.started_at,
                row.ended_at,
                n or 0,
            )
            for row, name, n in s.execute(q)
        ]


# -- patients, timelines and open sessions (dosing session, issue 5) ----------------------


def patient_from_row(row: PatientRow) -> Patient:
    return Patient(
        display_name=row.display_name,
        date_of_birth=row.date_of_birth,
        weight_kg=row.weight_kg,
        allergies=row.allergies or "",
        medications=row.medications or "",
        notes=row.notes or "",
        baseline={k: float(v) for k, v in (row.baseline or {}).items()},
        id=row.id,
        uid=row.uid,
    )


def list_patients(engine: Engine) -> list[Patient]:
    with OrmSession(engine) as s:
        rows = s.scalars(select(PatientRow).order_by(PatientRow.display_name, PatientRow.id))
        return [patient_from_row(r) for r in rows]


def get_patient(engine: Engine, patient_id: int) -> Patient:
    with OrmSession(engine) as s:
        row = s.get(PatientRow, patient_id)
        if row is None:
            raise LookupError(f"no patient with id {patient_id}")
        return patient_from_row(row)


def update_patient(s: OrmSession, patient: Patient) -> None:
    """Write an edited patient record back (on the writer thread)."""
    row = s.get(PatientRow, patient.id)
    if row is None:
        raise LookupError(f"no patient with id {patient.id}")
    row.display_name = patient.display_name
    row.date_of_birth = patient.date_of_birth
    row.weight_kg = patient.weight_kg
    row.allergies = patient.allergies
    row.medications = patient.medications
    row.notes = patient.notes
    row.baseline = dict(patient.baseline)


def load_events(engine: Engine, session_id: int) -> list[SessionEvent]:
    """A session's timeline as recorded, in time order."""
    q = (
        select(SessionEventRow)
        .where(SessionEventRow.session_id == session_id)
        .order_by(SessionEventRow.t, SessionEventRow.id)
    )
    with OrmSession(engine) as s:
        return [SessionEvent(r.t, r.kind, r.phase, dict(r.data or {})) for r in s.scalars(q)]


def load_alarm_transitions(engine: Engine, session_id: int) -> list[AlarmTransition]:
    """A session's alarm record in the order the engine emitted it (row id order); a
    row whose record cannot be read back is skipped, not fatal to a resume."""
    q = select(AlarmRow.data).where(AlarmRow.session_id == session_id).order_by(AlarmRow.id)
    out: list[AlarmTransition] = []
    with OrmSession(engine) as s:
        for data in s.scalars(q):
            try:
                out.append(AlarmTransition.from_dict(dict(data or {})))
            except (KeyError, ValueError, TypeError):
                continue
    return out


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session row as stored, for resuming it."""

    id: int
    uid: str
    patient_id: int
    patient: str
    protocol: str
    state: str
    phase: str | None
    started_at: float | None
    last_recorded_at: float | None  # latest event or reading
    clock_speed: float = 1.0  # the session clock's speed (x20 in a fast demo)


def last_recorded_t(engine: Engine, session_id: int) -> float | None:
    """The time of the latest event or reading of a session: where a gap begins."""
    with OrmSession(engine) as s:
        ev = s.scalar(
            select(func.max(SessionEventRow.t)).where(SessionEventRow.session_id == session_id)
        )
        rd = s.scalar(
            select(func.max(ReadingBlockRow.t1)).where(ReadingBlockRow.session_id == session_id)
        )
    times = [t for t in (ev, rd) if t is not None]
    return max(times) if times else None


def get_stored_session(engine: Engine, session_id: int) -> StoredSession:
    with OrmSession(engine) as s:
        row = s.get(SessionRow, session_id)
        if row is None:
            raise LookupError(f"no session with id {session_id}")
        patient = s.get(PatientRow, row.patient_id)
        name = patient.display_name if patient else "?"
        fields = (row.id, row.uid, row.patient_id, name, row.protocol, row.state)
        rest = (row.current_phase, row.started_at)
        speed = row.clock_speed or 1.0
    return StoredSession(*fields, *rest, last_recorded_t(engine, session_id), speed)


def find_open_sessions(engine: Engine) -> list[StoredSession]:
    """Sessions started but neither completed nor aborted: the app closed mid-session."""
    with OrmSession(engine) as s:
        ids = list(
            s.scalars(
                select(SessionRow.id)
                .where(SessionRow.state == SessionState.IN_PROGRESS.value)
                .order_by(SessionRow.id.desc())
            )
        )
    return [get_stored_session(engine, i) for i in ids]
