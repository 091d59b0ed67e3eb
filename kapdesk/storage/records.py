"""Reading and writing the clinical record: patients, sessions and their timelines."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.patients import Patient
from kapdesk.domain.session import Session
from kapdesk.storage.models import PatientRow, ReadingRow, SessionRow


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
        select(ReadingRow.session_id, func.count().label("n"))
        .group_by(ReadingRow.session_id)
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
