"""The clinic's patients as the screens use them: list, add, edit, and what the last
session was, so a dialog never opens a database session of its own. Writes go through
the recorder's writer thread, like every other write. Who may read and change patient
records is decided here, through ``kapdesk.domain.access``, and opening a record is
audited: the screens cannot go around it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.patients import Patient
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.care_team import CareTeams
from kapdesk.storage.models import SessionRow
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, get_patient, list_patients, update_patient


class PatientDirectory:
    """Patients of this database, read directly and written by the recorder's writer."""

    def __init__(
        self,
        recorder: Recorder,
        who: Callable[[], Actor | None] | None = None,
        audit: AuditLog | None = None,
        care: CareTeams | None = None,
    ) -> None:
        """``who``: who is asking now (the runtime's desk); None: no access control (a
        directory for tests of storage alone). ``care``: the care teams a therapist who
        adds a patient joins."""
        self.recorder = recorder
        self.who = who
        self.audit = audit
        self.care = care

    def _require(self, check: Callable[[Actor], bool], what: str) -> Actor | None:
        if self.who is None:
            return None
        return access.require_actor(self.who(), check, what)

    def all(self) -> list[Patient]:
        """Every patient, by name (the clinicians who run sessions)."""
        self._require(access.can_see_patient_records, "the patient list")
        return list_patients(self.recorder.engine)

    def get(self, patient_id: int) -> Patient:
        """One patient's record; opening it is audited."""
        actor = self._require(access.can_see_patient_records, "patient records")
        patient = get_patient(self.recorder.engine, patient_id)
        if self.audit is not None and actor is not None:
            self.audit.append(actor, AuditAction.VIEW_PATIENT, f"patient:{patient_id}")
        return patient

    def names(self) -> dict[int, str]:
        """Patient id -> name, for the administrator's audit filter (who saw whom)."""
        self._require(
            lambda a: access.can_review_audit(a) or access.can_see_patient_records(a),
            "patient names",
        )
        return {p.id: p.display_name for p in list_patients(self.recorder.engine) if p.id}

    def add(self, patient: Patient) -> Patient:
        """Store a new patient; it comes back with its id and uid set."""
        actor = self._require(access.can_edit_patient_records, "adding patients")
        self.recorder.call(lambda s: add_patient(s, patient))
        if self.audit is not None and actor is not None:
            self.audit.append(
                actor, AuditAction.VIEW_PATIENT, f"patient:{patient.id}", detail={"created": True}
            )
        if self.care is not None:
            self.care.join_own(actor, patient.id, "added the patient")
        return patient

    def update(self, patient: Patient) -> None:
        """Write an edited record back."""
        actor = self._require(access.can_edit_patient_records, "editing patient records")
        self.recorder.call(lambda s: update_patient(s, patient))
        if self.audit is not None and actor is not None:
            self.audit.append(
                actor, AuditAction.VIEW_PATIENT, f"patient:{patient.id}", detail={"edited": True}
            )

    # -- care teams: whose shared journal entries a therapist reads ---------------------

    def care_team(self, patient_id: int) -> list[str]:
        """The usernames in the patient's care team."""
        self._require(access.can_see_patient_records, "care teams")
        return self.care.members(patient_id) if self.care is not None else []

    def therapists(self) -> list[tuple[str, str]]:
        """(username, name) of the therapist accounts who may join a care team."""
        self._require(access.can_see_patient_records, "care teams")
        return self.care.therapists() if self.care is not None else []

    def set_care_team(self, patient_id: int, usernames: list[str]) -> list[str]:
        """Make the care team these accounts; the usernames that changed (audited)."""
        if self.care is None:
            return []
        actor = self._require(access.can_change_care_team, "changing a care team")
        if actor is None:
            raise access.AccessDenied("not allowed: changing a care team (nobody signed in)")
        now = set(self.care.members(patient_id))
        wanted = set(usernames)
        return self.care.set_members(
            actor, patient_id, add=wanted - now, remove=now - wanted, why="patient dialog"
        )

    def last_used_protocol(self) -> str | None:
        """The protocol of the most recent session, if any (the new-session dialog
        offers it when the clinic names no default)."""
        q = select(SessionRow.protocol).order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
        with OrmSession(self.recorder.engine) as s:
            return s.scalars(q.limit(1)).first()
