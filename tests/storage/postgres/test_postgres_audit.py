"""The audit log on PostgreSQL (issue 14 point 5): appended from two workstations at once
into one chain, and the application's own role cannot change or remove a row."""

from __future__ import annotations

import threading

import pytest
from access_support import THERAPIST
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kapdesk.domain.audit import AuditAction
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.database import open_database
from kapdesk.storage.journal.writer import DirectWriter


def test_the_application_role_cannot_update_delete_or_truncate_audit_rows(pg_url: str) -> None:
    engine = open_database(pg_url)
    try:
        audit = AuditLog(engine, DirectWriter(engine), workstation="room-1")
        for i in range(3):
            audit.append(THERAPIST, AuditAction.VIEW_JOURNAL, f"patient:{i}/journal")
        for sql in (
            "UPDATE audit_log SET \"user\" = 'eve'",
            "DELETE FROM audit_log WHERE seq = 2",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
        assert audit.verify() == (3, None)
    finally:
        engine.dispose()


def test_two_workstations_append_into_one_chain(pg_url: str) -> None:
    engines = [open_database(pg_url) for _ in range(2)]
    try:
        logs = [
            AuditLog(e, DirectWriter(e), workstation=f"room-{i}") for i, e in enumerate(engines)
        ]

        def run(audit: AuditLog) -> None:
            for _ in range(20):
                audit.append(THERAPIST, AuditAction.VIEW_PATIENT, "patient:1")

        threads = [threading.Thread(target=run, args=(a,)) for a in logs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        count, broken = logs[0].verify()
        assert (count, broken) == (40, None)
        rooms = {e.entry.workstation for e in logs[1].entries()}
        assert rooms == {"room-0", "room-1"}
    finally:
        for e in engines:
            e.dispose()
