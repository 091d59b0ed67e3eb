"""Care teams: the staff members who care for a patient, and so the patients whose shared
journal entries a therapist reads (``kapdesk.domain.access.Actor.care_of``).

A therapist joins a patient's care team when they add the patient or open a session for
them; the clinicians change it in the patient dialog and the administrator with
``kapdesk users care``. Every change is audited (who added whom to whose care), and
whoever listens (the desk, so the signed-in therapist's access follows at once) is told.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.audit import AuditAction
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.journal.writer import Writer
from kapdesk.storage.security_models import AccountRow, CareTeamRow


def patients_in_care(engine: Engine, username: str) -> frozenset[int]:
    """The patient ids in whose care team ``username`` is."""
    with OrmSession(engine) as s:
        rows = s.scalars(select(CareTeamRow.patient_id).where(CareTeamRow.username == username))
        return frozenset(int(p) for p in rows)


def add_member(s: OrmSession, patient_id: int, username: str, by: str, t: float) -> bool:
    """Put ``username`` in the patient's care team inside a write already open; False if
    they are in it already."""
    exists = s.scalar(
        select(CareTeamRow.id).where(
            CareTeamRow.patient_id == patient_id, CareTeamRow.username == username
        )
    )
    if exists is not None:
        return False
    s.add(CareTeamRow(patient_id=patient_id, username=username, added_at=t, added_by=by))
    s.flush()
    return True


class CareTeams:
    """Who is in which patient's care team, read directly, written by the writer."""

    def __init__(
        self,
        engine: Engine,
        writer: Writer,
        audit: AuditLog,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.writer = writer
        self.audit = audit
        self.now = now
        self._listeners: list[Callable[[frozenset[str]], None]] = []

    def add_listener(self, listener: Callable[[frozenset[str]], None]) -> None:
        """``listener(usernames)`` is called after a change of those people's care."""
        self._listeners.append(listener)

    def _changed(self, usernames: Iterable[str]) -> None:
        changed = frozenset(usernames)
        if changed:
            for listener in list(self._listeners):
                listener(changed)

    # -- reading ------------------------------------------------------------------------

    def members(self, patient_id: int) -> list[str]:
        """The usernames in the patient's care team, sorted."""
        with OrmSession(self.engine) as s:
            rows = s.scalars(
                select(CareTeamRow.username)
                .where(CareTeamRow.patient_id == patient_id)
                .order_by(CareTeamRow.username)
            )
            return list(rows)

    def patients_of(self, username: str) -> frozenset[int]:
        return patients_in_care(self.engine, username)

    def therapists(self) -> list[tuple[str, str]]:
        """(username, name) of every active therapist account: who may join a care team."""
        with OrmSession(self.engine) as s:
            rows = s.execute(
                select(AccountRow.username, AccountRow.display_name, AccountRow.roles)
                .where(AccountRow.disabled.is_(False))
                .order_by(AccountRow.display_name)
            )
            return [(u, n) for u, n, roles in rows if Role.THERAPIST.value in str(roles).split(",")]

    # -- changing -----------------------------------------------------------------------

    def join_own(self, actor: Actor | None, patient_id: int | None, why: str) -> bool:
        """A therapist who adds a patient or opens a session for them joins the patient's
        care team (audited the first time); anyone else, or an actor with no account (a
        demo's script), does not."""
        if actor is None or patient_id is None or not actor.has(Role.THERAPIST):
            return False
        if not actor.username or actor.username not in self.usernames():
            return False
        return self.join(actor, patient_id, actor.username, why)

    def usernames(self) -> set[str]:
        """Every account's username, disabled ones too."""
        with OrmSession(self.engine) as s:
            return set(s.scalars(select(AccountRow.username)))

    def join(self, by: Actor, patient_id: int, username: str, why: str = "") -> bool:
        """Add ``username`` to the patient's care team (audited); False if already in."""
        return bool(self.set_members(by, patient_id, add=[username], why=why))

    def leave(self, by: Actor, patient_id: int, username: str) -> bool:
        return bool(self.set_members(by, patient_id, remove=[username]))

    def set_members(
        self,
        by: Actor,
        patient_id: int,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        why: str = "",
    ) -> list[str]:
        """Add and remove members; the usernames whose membership changed. Only staff
        accounts join (a typo must not make a member nobody is)."""
        access.require(access.can_change_care_team(by), "changing a care team")
        to_add, to_remove = sorted(set(add)), sorted(set(remove) - set(add))
        t = self.now()

        def write(s: OrmSession) -> list[str]:
            known = set(s.scalars(select(AccountRow.username)))
            unknown = [u for u in to_add if u not in known]
            if unknown:
                raise ValueError(f"no account {', '.join(map(repr, unknown))}")
            changed = [u for u in to_add if add_member(s, patient_id, u, by.who, t)]
            for u in to_remove:
                gone = s.execute(
                    delete(CareTeamRow).where(
                        CareTeamRow.patient_id == patient_id, CareTeamRow.username == u
                    )
                )
                if getattr(gone, "rowcount", 0):
                    changed.append(u)
            return changed

        changed = self.writer.call(write)
        for u in changed:
            joined = u in to_add
            self.audit.append(
                by,
                AuditAction.CARE_TEAM_JOINED if joined else AuditAction.CARE_TEAM_LEFT,
                f"patient:{patient_id}",
                detail={"member": u, **({"why": why} if why and joined else {})},
            )
        self._changed(changed)
        return changed
