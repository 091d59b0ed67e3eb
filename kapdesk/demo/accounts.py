"""Demo mode's staff accounts: one per role and a clinician holding both clinical roles,
with one password the sign-in screen shows. They are made only in a database with no
clinic account (a demo database, a fresh test file): a clinic's database never gets them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kapdesk.domain.access import Actor, Role
from kapdesk.storage.accounts import AccountStore
from kapdesk.storage.care_team import CareTeams

#: The one password of every demo account (shown on the demo's sign-in screen).
DEMO_PASSWORD = "kapdesk-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: frozenset[Role]


DEMO_ACCOUNTS = (
    DemoAccount(
        "demo-clinician", "Demo Clinician", frozenset({Role.THERAPIST, Role.MEDICAL_STAFF})
    ),
    DemoAccount("demo-therapist", "Demo Therapist", frozenset({Role.THERAPIST})),
    DemoAccount("demo-nurse", "Demo Nurse", frozenset({Role.MEDICAL_STAFF})),
    DemoAccount("demo-admin", "Demo Admin", frozenset({Role.ADMIN})),
)
#: The demo accounts that read journals: in the care team of every demo patient.
DEMO_THERAPISTS = tuple(d.username for d in DEMO_ACCOUNTS if Role.THERAPIST in d.roles)
#: Who the demo's scripted session acts as (its doses, checks and notes), whoever signs in.
SCRIPT_ACTOR = Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, "Demo script", username="demo-script")


class ClinicDatabaseError(RuntimeError):
    """Demo mode was pointed at a database that holds a clinic's accounts."""


def ensure_demo_accounts(accounts: AccountStore) -> tuple[DemoAccount, ...]:
    """Make the demo accounts that are missing; refuse a clinic's database."""
    existing = accounts.all()
    if any(not a.demo for a in existing):
        raise ClinicDatabaseError(
            "this database holds a clinic's staff accounts; demo mode does not add demo"
            " accounts to it. Run the demo without --database-url (it uses a demo database"
            " of its own) or give it an empty database."
        )
    have = {a.username for a in existing}
    admin: Actor | None = None
    for demo in sorted(DEMO_ACCOUNTS, key=lambda d: Role.ADMIN not in d.roles):
        if demo.username in have:
            continue
        if admin is None and Role.ADMIN not in demo.roles:
            admin = accounts.sign_in("demo-admin", DEMO_PASSWORD)
        accounts.create(
            admin, demo.username, demo.display_name, demo.roles, DEMO_PASSWORD, demo=True
        )
    if admin is not None:
        from kapdesk.domain.audit import AuditAction

        accounts.audit.append(admin, AuditAction.SIGN_OUT)
    return DEMO_ACCOUNTS


def join_demo_care_team(care: CareTeams, patient_id: int | None) -> None:
    """The demo's therapists care for the demo's patient, so signing in as one of them
    shows its journal (the demo script itself has no account and joins nothing)."""
    accounts = care.usernames()
    present = [u for u in DEMO_THERAPISTS if u in accounts]
    if patient_id is not None and present:
        care.set_members(SCRIPT_ACTOR, patient_id, add=present, why="demo patient")
