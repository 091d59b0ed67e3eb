"""Who may see and do what: THE one place where access is decided.

Every store and every screen asks these functions; none decides on its own. The rules
follow the reference table (security.md, "Roles"): the journal is the patient's; the
therapist runs the therapy side of a session and reads what the patient shares; medical
staff watch vitals and alarms, dose, check and discharge, and read no journal text; the
clinic administrator runs accounts, settings and the audit review, and reads no journal
text. One person may hold several roles: a check passes when any of them allows it.
Questionnaire scores are part of measurement-based care and are always visible to the
therapist (the patient is told so before answering), and a PHQ-9 item-9 safety flag also
reaches medical staff.

A therapist reads the shared entries of *their* patients: those in whose care team they
are (``Actor.care_of``, loaded from the care-team table when they sign in; None means no
restriction, for a clinic that lets every therapist read every shared entry and for an
emergency session). Safety flags are not restricted by it: they must reach someone.

Acknowledging an alarm is the one act open to anyone at the bedside, signed in or not (a
locked monitor must still be answerable); it is recorded as "at the bedside, not signed
in" when nobody is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol


class Role(Enum):
    THERAPIST = "therapist"
    MEDICAL_STAFF = "medical_staff"
    PATIENT = "patient"
    ADMIN = "admin"


#: The roles a staff account may hold (a patient is never an account of its own).
STAFF_ROLES = (Role.THERAPIST, Role.MEDICAL_STAFF, Role.ADMIN)
ROLE_NAMES = {
    Role.THERAPIST: "therapist",
    Role.MEDICAL_STAFF: "medical staff",
    Role.ADMIN: "clinic admin",
    Role.PATIENT: "patient",
}
#: Who acknowledged an alarm on a locked monitor (nobody signed in).
AT_THE_BEDSIDE = "at the bedside, not signed in"


class AccessDenied(PermissionError):
    """An actor asked for something their role does not allow; the message says what."""


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Role names as stored or typed ("therapist", "medical_staff", "admin")."""
    roles: set[Role] = set()
    for value in values:
        value = value.strip().lower().replace(" ", "_").replace("-", "_")
        if value in ("medical", "medic"):
            value = "medical_staff"
        try:
            role = Role(value)
        except ValueError:
            raise ValueError(
                f"unknown role {value!r}: use therapist, medical_staff or admin"
            ) from None
        if role is Role.PATIENT:
            raise ValueError("a patient is not a staff account's role")
        roles.add(role)
    return frozenset(roles)


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone at the keyboard. A patient actor is bound to exactly one patient; a staff
    actor holds one or more roles and, once accounts exist, the id of their account.
    ``emergency`` is the stated reason of a break-glass session (None otherwise).
    ``care_of``: the patient ids in a therapist's care (None: not restricted)."""

    roles: frozenset[Role]
    name: str
    patient_id: int | None = None
    user_id: int | None = None
    username: str = ""
    emergency: str | None = field(default=None, compare=False)
    care_of: frozenset[int] | None = field(default=None, compare=False)

    def __init__(
        self,
        roles: Role | Iterable[Role],
        name: str,
        patient_id: int | None = None,
        user_id: int | None = None,
        username: str = "",
        emergency: str | None = None,
        care_of: Iterable[int] | None = None,
    ) -> None:
        role_set = frozenset({roles}) if isinstance(roles, Role) else frozenset(roles)
        if not role_set:
            raise ValueError("an actor needs at least one role")
        if (Role.PATIENT in role_set) != (patient_id is not None) or (
            Role.PATIENT in role_set and len(role_set) > 1
        ):
            raise ValueError("a patient actor needs a patient id, and only a patient has one")
        object.__setattr__(self, "roles", role_set)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "patient_id", patient_id)
        object.__setattr__(self, "user_id", user_id)
        object.__setattr__(self, "username", username)
        object.__setattr__(self, "emergency", emergency)
        object.__setattr__(self, "care_of", None if care_of is None else frozenset(care_of))

    def with_care(self, care_of: Iterable[int] | None) -> Actor:
        """The same person with the patients in their care as given (None: unrestricted)."""
        return Actor(
            self.roles,
            self.name,
            self.patient_id,
            self.user_id,
            self.username,
            self.emergency,
            care_of,
        )

    def cares_for(self, patient_id: int) -> bool:
        """Is the patient in this staff member's care (or are they not restricted)?"""
        return self.care_of is None or patient_id in self.care_of

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
    def role(self) -> Role:
        """The first of the actor's roles in a fixed order (for a one-word label)."""
        for role in (Role.PATIENT, *STAFF_ROLES):
            if role in self.roles:
                return role
        raise AssertionError("an actor has a role")  # pragma: no cover

    @property
    def who(self) -> str:
        """How the record names the actor: the account's username (unique, kept after the
        account is disabled), or the name when there is no account (a patient)."""
        return self.username or self.name

    @property
    def is_staff(self) -> bool:
        return Role.PATIENT not in self.roles

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def role_names(self) -> str:
        """ "therapist, medical staff" for screens and the audit log."""
        return ", ".join(ROLE_NAMES[r] for r in (Role.PATIENT, *STAFF_ROLES) if r in self.roles)


class EntryLike(Protocol):
    """What access decisions need to know about an entry."""

    @property
    def patient_id(self) -> int: ...

    @property
    def shared(self) -> bool: ...


def _is_self(actor: Actor, patient_id: int) -> bool:
    return actor.has(Role.PATIENT) and actor.patient_id == patient_id


# -- the journal ---------------------------------------------------------------------------


def can_see_patient(actor: Actor, patient_id: int) -> bool:
    """May the actor see that this patient has a journal and open it at all? The patient;
    a therapist in their care team."""
    return (actor.has(Role.THERAPIST) and actor.cares_for(patient_id)) or _is_self(
        actor, patient_id
    )


def can_list_patients(actor: Actor) -> bool:
    """May the actor see journals across patients (the therapist's review, which lists
    the patients in their care)?"""
    return actor.has(Role.THERAPIST)


def can_see_entry_exists(actor: Actor, entry: EntryLike) -> bool:
    return can_see_patient(actor, entry.patient_id)


def can_read_entry_text(actor: Actor, entry: EntryLike) -> bool:
    """The text, tags and check-in of an entry: the patient always; the therapist only if
    the patient shared it and is in their care; nobody else."""
    if _is_self(actor, entry.patient_id):
        return True
    return actor.has(Role.THERAPIST) and entry.shared and actor.cares_for(entry.patient_id)


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
    return actor.has(Role.THERAPIST) or actor.has(Role.MEDICAL_STAFF)


def can_acknowledge_safety_flag(actor: Actor) -> bool:
    return actor.has(Role.THERAPIST)


def can_export_journal(actor: Actor, patient_id: int) -> bool:
    """An export holds only what the actor may read (private text stays out)."""
    return can_see_patient(actor, patient_id)


def can_leave_patient_mode(actor: Actor) -> bool:
    """Leaving patient mode is a staff act; the PIN proves a staff member is present."""
    return actor.is_staff


# -- patients and sessions -----------------------------------------------------------------

#: What each kind of timeline event needs (any one of the roles). Kinds not named here are
#: recorded by kapdesk itself (devices, music tracks) and need no one.
_THERAPY = frozenset({Role.THERAPIST, Role.MEDICAL_STAFF})
_MEDICAL = frozenset({Role.MEDICAL_STAFF})
EVENT_ROLES: dict[str, frozenset[Role]] = {
    "session_started": _THERAPY,
    "session_resumed": _THERAPY,
    "session_completed": _THERAPY,
    "session_aborted": _THERAPY,
    "phase_entered": _THERAPY,
    "phase_ended": _THERAPY,
    "intention": _THERAPY,
    "checklist": _THERAPY,
    "baseline": _THERAPY,
    "check_in": _THERAPY,
    "note": _THERAPY,
    "marker": _THERAPY,
    "eye_mask_on": _THERAPY,
    "eye_mask_off": _THERAPY,
    "dose": _MEDICAL,
    "check": _MEDICAL,
    "discharge": _MEDICAL,
}
#: Events kapdesk records on its own: no one is "by" them.
SYSTEM_EVENTS = frozenset(
    {
        "device_connected",
        "device_disconnected",
        "device_not_reconnected",
        "music_track_started",
        "music_track_stopped",
        "music_track_failed",
    }
)


def can_see_patient_records(actor: Actor) -> bool:
    """The patient list and records (name, weight, allergies, medications): the clinicians
    who run sessions. Not the administrator, not a patient."""
    return actor.has(Role.THERAPIST) or actor.has(Role.MEDICAL_STAFF)


def can_edit_patient_records(actor: Actor) -> bool:
    return can_see_patient_records(actor)


def can_change_care_team(actor: Actor) -> bool:
    """Who is in a patient's care team: the clinicians (in the patient dialog) and the
    administrator (when a therapist leaves or covers for another). Every change is
    audited."""
    return can_edit_patient_records(actor) or actor.has(Role.ADMIN)


def can_run_session(actor: Actor) -> bool:
    """Open, start, resume and end a session."""
    return bool(actor.roles & _THERAPY)


def can_record_event(actor: Actor | None, kind: str) -> bool:
    """May the actor put this kind of event on the timeline? Doses, checks and discharge
    are medical staff's; kapdesk's own events (devices, music tracks) need no one."""
    if kind in SYSTEM_EVENTS:
        return True
    if actor is None:
        return False
    needed = EVENT_ROLES.get(kind, _THERAPY)
    return bool(actor.roles & needed)


def can_override_gate(actor: Actor) -> bool:
    """Override a pre-dose or discharge criterion: medical staff only."""
    return actor.has(Role.MEDICAL_STAFF)


def can_acknowledge_alarm(actor: Actor | None) -> bool:
    """Anyone at the bedside, signed in or not (recorded as who, or AT_THE_BEDSIDE)."""
    return actor is None or actor.is_staff


def can_pause_alarm_audio(actor: Actor) -> bool:
    return actor.has(Role.MEDICAL_STAFF)


def can_change_alarm_limits(actor: Actor) -> bool:
    """Within the protocol's allowed ranges (checked by the limits themselves)."""
    return actor.has(Role.MEDICAL_STAFF)


def can_export_session(actor: Actor) -> bool:
    """A session's record and reports (vitals, doses, timeline)."""
    return can_see_patient_records(actor)


# -- the clinic ----------------------------------------------------------------------------


def can_manage_accounts(actor: Actor) -> bool:
    return actor.has(Role.ADMIN)


def can_review_audit(actor: Actor) -> bool:
    return actor.has(Role.ADMIN)


def can_change_clinic_settings(actor: Actor) -> bool:
    """Protocols, clinic settings, the staff PIN."""
    return actor.has(Role.ADMIN)


def can_break_glass(actor: Actor) -> bool:
    """Any staff member may open an emergency session (with a reason, loudly audited)."""
    return actor.is_staff


def require_actor(actor: Actor | None, check: Callable[[Actor], bool], what: str) -> Actor:
    """``actor`` if ``check`` allows ``what``; else ``AccessDenied`` saying why: nobody
    signed in (or a locked screen), or whose roles do not allow it."""
    if actor is None:
        raise AccessDenied(
            f"not allowed: {what} (nobody signed in, or the screen is locked: sign in first)"
        )
    if not check(actor):
        raise AccessDenied(f"not allowed: {what} ({actor.name}: {actor.role_names})")
    return actor


def require(allowed: bool, what: str) -> None:
    """Raise ``AccessDenied`` naming ``what`` when a check fails."""
    if not allowed:
        raise AccessDenied(f"not allowed: {what}")


def is_staff_actor(actor: Actor) -> bool:
    """Any staff member (for acts every role may do, such as locking or patient mode)."""
    return actor.is_staff
