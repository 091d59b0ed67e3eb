"""The audit log: appended through the app's writer, read back and verified.

Each append reads the last entry and inserts the next one in the same transaction; the
unique ``seq`` and ``previous`` columns make a second writer (another workstation, the
CLI) that read the same last entry fail rather than fork the chain, and it tries again.
The chain itself is ``kapdesk.domain.audit``'s.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.access import Actor
from kapdesk.domain.audit import (
    GENESIS,
    AuditEntry,
    BrokenLink,
    StoredEntry,
    chain_hash,
    verify_chain,
)
from kapdesk.storage.journal.writer import Writer, submit
from kapdesk.storage.security_models import AuditRow

_RETRIES = 20


def _detail_json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry(row: AuditRow) -> StoredEntry:
    entry = AuditEntry(
        seq=row.seq,
        t=row.t,
        user=row.user,
        roles=row.roles,
        action=row.action,
        subject=row.subject,
        outcome=row.outcome,
        detail=json.loads(row.detail or "{}"),
        workstation=row.workstation,
    )
    return StoredEntry(entry, row.previous, row.hash)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the administrator's view asks for; every field optional."""

    user: str = ""
    action: str = ""
    subject: str = ""  # a prefix: "patient:3" finds "patient:3" and its entries
    since: float | None = None
    until: float | None = None
    limit: int = 1000


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        writer: Writer,
        now: Callable[[], float] = time.time,
        workstation: str | None = None,
    ) -> None:
        self.engine = engine
        self.writer = writer
        self.now = now
        self.workstation = workstation if workstation is not None else socket.gethostname()

    def append(
        self,
        actor: Actor | None,
        action: str,
        subject: str = "",
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
        user: str | None = None,
    ) -> AuditEntry:
        """Record one entry, chained to the last, committed before this returns; ``user``
        names who, when there is no actor (a failed sign-in names the username tried)."""
        return self.writer.call(self._write(actor, action, subject, outcome, detail, user))

    def append_later(
        self,
        actor: Actor | None,
        action: str,
        subject: str = "",
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
        user: str | None = None,
    ) -> None:
        """``append`` queued on the writer without waiting: for the alarm thread's
        listener, which must never wait on a disk."""
        submit(self.writer, self._write(actor, action, subject, outcome, detail, user))

    def _write(
        self,
        actor: Actor | None,
        action: str,
        subject: str,
        outcome: str,
        detail: dict[str, Any] | None,
        user: str | None,
    ) -> Callable[[OrmSession], AuditEntry]:
        who = user if user is not None else (actor.who if actor else "")
        roles = actor.role_names if actor else ""
        detail = dict(detail or {})
        if actor is not None and actor.emergency:
            detail.setdefault("emergency", actor.emergency)
        # the detail as it will read back: what the hash covers is what verify recomputes
        detail = json.loads(_detail_json(detail))
        t = self.now()

        def write(s: OrmSession) -> AuditEntry:
            if s.get_bind().dialect.name == "sqlite":
                # take SQLite's write lock before reading the last entry: a transaction
                # that read first cannot wait for the lock another writer holds (it would
                # fail "database is locked"); this statement waits (busy_timeout) instead
                s.execute(text("UPDATE audit_log SET seq = seq WHERE 0"))
            for attempt in range(_RETRIES):
                try:
                    with s.begin_nested():  # a savepoint: a lost race undoes only this try
                        return insert(s)
                except IntegrityError:
                    if attempt == _RETRIES - 1:
                        raise
                    time.sleep(0.01 * (attempt + 1))  # another writer appended: read again
            raise AssertionError("unreachable")  # pragma: no cover

        def insert(s: OrmSession) -> AuditEntry:
            last = s.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
            previous, seq = (last.hash, last.seq + 1) if last else (GENESIS, 1)
            entry = AuditEntry(
                seq,
                t,
                who[:40],
                roles,
                action,
                subject[:300],
                outcome[:300],
                detail,
                self.workstation[:100],
            )
            s.add(
                AuditRow(
                    seq=seq,
                    t=t,
                    user=entry.user,
                    roles=roles,
                    action=action,
                    subject=entry.subject,
                    outcome=entry.outcome,
                    detail=_detail_json(detail),
                    workstation=entry.workstation,
                    previous=previous,
                    hash=chain_hash(previous, entry),
                )
            )
            s.flush()
            return entry

        return write

    def entries(self) -> Iterator[StoredEntry]:
        """Every entry in chain order."""
        with OrmSession(self.engine) as s:
            for row in s.scalars(select(AuditRow).order_by(AuditRow.id)):
                yield _entry(row)

    def verify(self) -> tuple[int, BrokenLink | None]:
        """Recompute the chain over the stored order of rows (the insertion order: a
        reordered or renumbered row shows there)."""
        return verify_chain(self.entries())

    def search(self, f: AuditFilter) -> list[AuditEntry]:
        """Newest first, as the administrator reads it."""
        q = select(AuditRow).order_by(AuditRow.seq.desc()).limit(f.limit)
        if f.user:
            q = q.where(AuditRow.user == f.user)
        if f.action:
            q = q.where(AuditRow.action == f.action)
        if f.subject:
            q = q.where(
                (AuditRow.subject == f.subject) | AuditRow.subject.startswith(f.subject + "/")
            )
        if f.since is not None:
            q = q.where(AuditRow.t >= f.since)
        if f.until is not None:
            q = q.where(AuditRow.t < f.until)
        with OrmSession(self.engine) as s:
            return [_entry(row).entry for row in s.scalars(q)]
