"""The clinic's patients as the screens use them: list, add, edit, and what the last
session was, so a dialog never opens a database session of its own. Writes go through
the recorder's writer thread, like every other write."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.patients import Patient
from kapdesk.storage.models import SessionRow
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, get_patient, list_patients, update_patient


class PatientDirectory:
    """Patients of this database, read directly and written by the recorder's writer."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def all(self) -> list[Patient]:
        """Every patient, by name."""
        return list_patients(self.recorder.engine)

    def get(self, patient_id: int) -> Patient:
        return get_patient(self.recorder.engine, patient_id)

    def add(self, patient: Patient) -> Patient:
        """Store a new patient; it comes back with its id and uid set."""
        self.recorder.call(lambda s: add_patient(s, patient))
        return patient

    def update(self, patient: Patient) -> None:
        """Write an edited record back."""
        self.recorder.call(lambda s: update_patient(s, patient))

    def last_used_protocol(self) -> str | None:
        """The protocol of the most recent session, if any (the new-session dialog
        offers it when the clinic names no default)."""
        q = select(SessionRow.protocol).order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
        with OrmSession(self.recorder.engine) as s:
            return s.scalars(q.limit(1)).first()
