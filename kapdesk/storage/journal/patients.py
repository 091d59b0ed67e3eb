"""Who and which sessions the journal is about: patients, their sessions, and the
patient-facing context (intention, timeline) of a session beside an entry.

Read-only lookups in the clinical record, each checked by ``kapdesk.domain.access``, so a
journal window never lists a patient or session its actor may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import TimelineItem, patient_timeline, session_intention
from kapdesk.storage.models import PatientRow, SessionEventRow, SessionRow


@dataclass(frozen=True, slots=True)
class SessionContext:
    """The session beside an entry: what the patient may see of it."""

    session_id: int
    patient_id: int
    protocol: str
    started_at: float | None
    intention: str | None
    timeline: tuple[TimelineItem, ...]


class JournalPatients:
    """Patients and sessions as the journal's actors may see them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def patients(self, actor: Actor) -> list[tuple[int, str]]:
        """(id, display name) of every patient the actor may see."""
        with OrmSession(self.engine) as s:
            rows = s.execute(select(PatientRow.id, PatientRow.display_name).order_by(PatientRow.id))
            return [(pid, name) for pid, name in rows if access.can_see_patient(actor, pid)]

    def patient_name(self, actor: Actor, patient_id: int) -> str:
        """The patient's display name (``LookupError`` if there is no such patient)."""
        access.require(access.can_see_patient(actor, patient_id), "see this patient")
        with OrmSession(self.engine) as s:
            row = s.get(PatientRow, patient_id)
            if row is None:
                raise LookupError(f"no patient with id {patient_id}")
            return row.display_name

    def sessions(self, actor: Actor, patient_id: int) -> list[tuple[int, float | None, str]]:
        """(id, started_at, protocol) of the patient's sessions, newest first."""
        access.require(access.can_see_patient(actor, patient_id), "see this patient's sessions")
        with OrmSession(self.engine) as s:
            rows = s.execute(
                select(SessionRow.id, SessionRow.started_at, SessionRow.protocol)
                .where(SessionRow.patient_id == patient_id)
                .order_by(SessionRow.id.desc())
            )
            return [(i, t, p) for i, t, p in rows]

    def session_context(self, actor: Actor, session_id: int) -> SessionContext:
        """Intention and the patient-facing timeline of a session the actor may see."""
        with OrmSession(self.engine) as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                raise LookupError(f"no session with id {session_id}")
            access.require(access.can_see_patient(actor, row.patient_id), "see this session")
            events = [
                {"t": e.t, "kind": e.kind, "data": dict(e.data or {})}
                for e in s.scalars(
                    select(SessionEventRow)
                    .where(SessionEventRow.session_id == session_id)
                    .order_by(SessionEventRow.t, SessionEventRow.id)
                )
            ]
            return SessionContext(
                session_id=row.id,
                patient_id=row.patient_id,
                protocol=row.protocol,
                started_at=row.started_at,
                intention=session_intention(events),
                timeline=tuple(patient_timeline(events)),
            )
