"""Who may see and do what with the journal: THE one place where access is decided.

Every journal query and every journal view asks these functions; none decides on its own.
So when real accounts arrive (issue: accounts and roles), only ``Actor`` and this module
change. The rules follow the architecture notes: the journal is the patient's; the
therapist reads what the patient shares; medical staff and the clinic administrator run
the clinic, not the therapy, and do not read journals. Questionnaire scores are part of
measurement-based care and are always visible to the therapist (the patient is told so
before answering), and a PHQ-9 item-9 safety flag also reaches medical staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Role(Enum):
    THERAPIST = "therapist"
    MEDICAL_STAFF = "medical_staff"
    PATIENT = "patient"
    ADMIN = "admin"


class AccessDenied(PermissionError):
    """An actor asked for something their role does not allow; the message says what."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone at the keyboard. A patient actor is bound to exactly one patient."""

    role: Role
    name: str
    patient_id: int | None = None

    def __post_init__(self) -> None:
        if (self.role is Role.PATIENT) != (self.patient_id is not None):
            raise ValueError("a patient actor needs a patient id, and only a patient has one")

    @classmethod
    def patient(cls, patient_id: int, name: str = "patient") -> Actor:
        return cls(Role.PATIENT, name, patient_id)

    @classmethod
    def therapist(cls, name: str) -> Actor:
        return cls(Role.THERAPIST, name)

    @classmethod
    def medical_staff(cls, name: str) -> Actor:
        return cls(Role.MEDICAL_STAFF, name)

    @classmethod
    def admin(cls, name: str) -> Actor:
        return cls(Role.ADMIN, name)

    @property
    def is_staff(self) -> bool:
        return self.role is not Role.PATIENT


class EntryLike(Protocol):
    """What access decisions need to know about an entry."""

    @property
    def patient_id(self) -> int: ...

    @property
    def shared(self) -> bool: ...


def _is_self(actor: Actor, patient_id: int) -> bool:
    return actor.role is Role.PATIENT and actor.patient_id == patient_id


def can_see_patient(actor: Actor, patient_id: int) -> bool:
    """May the actor see that this patient exists and open their journal at all?"""
    return actor.role is Role.THERAPIST or _is_self(actor, patient_id)


def can_list_patients(actor: Actor) -> bool:
    """May the actor see journals across patients (the therapist's review)?"""
    return actor.role is Role.THERAPIST


def can_see_entry_exists(actor: Actor, entry: EntryLike) -> bool:
    return can_see_patient(actor, entry.patient_id)


def can_read_entry_text(actor: Actor, entry: EntryLike) -> bool:
    """The text, tags and check-in of an entry: the patient always; the therapist only if
    the patient shared it; nobody else."""
    if _is_self(actor, entry.patient_id):
        return True
    return actor.role is Role.THERAPIST and entry.shared


def can_write_entry(actor: Actor, patient_id: int) -> bool:
    """Only the patient writes their journal."""
    return _is_self(actor, patient_id)


def can_edit_entry(actor: Actor, entry: EntryLike) -> bool:
    return can_write_entry(actor, entry.patient_id)


def can_search(actor: Actor, patient_id: int | None) -> bool:
    """Search one patient's journal (``patient_id``) or, for the therapist, all of them."""
    if patient_id is None:
        return can_list_patients(actor)
    return can_see_patient(actor, patient_id)


def can_see_scores(actor: Actor, patient_id: int) -> bool:
    """Questionnaire totals and bands (measurement-based care)."""
    return can_see_patient(actor, patient_id)


def can_see_safety_flags(actor: Actor) -> bool:
    """A PHQ-9 item-9 flag must reach whoever is responsible for safety at once."""
    return actor.role in (Role.THERAPIST, Role.MEDICAL_STAFF)


def can_acknowledge_safety_flag(actor: Actor) -> bool:
    return actor.role is Role.THERAPIST


def can_export_journal(actor: Actor, patient_id: int) -> bool:
    """An export holds only what the actor may read (private text stays out)."""
    return can_see_patient(actor, patient_id)


def can_leave_patient_mode(actor: Actor) -> bool:
    """Leaving patient mode is a staff act; the PIN proves a staff member is present."""
    return actor.is_staff


def require(allowed: bool, what: str) -> None:
    """Raise ``AccessDenied`` naming ``what`` when a check fails."""
    if not allowed:
        raise AccessDenied(f"not allowed: {what}")
