"""The audit log's chain on a real SQLite file: appended entries verify; an edited,
deleted, inserted or reordered row is found at its place; the table refuses changes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError as SqlDatabaseError

from kapdesk.domain.access import Actor, Role
from kapdesk.domain.audit import AuditAction
from kapdesk.storage.audit import AuditFilter, AuditLog
from kapdesk.storage.database import open_database
from kapdesk.storage.journal.writer import DirectWriter

TESS = Actor(Role.THERAPIST, "Tess Therapist", user_id=2, username="tess")


@pytest.fixture
def log(db_url):
    engine = open_database(db_url)
    ticks = iter(range(1_800_000_000, 1_900_000_000, 7))
    audit = AuditLog(engine, DirectWriter(engine), lambda: float(next(ticks)) + 0.123456)
    for i in range(6):
        audit.append(
            TESS,
            AuditAction.VIEW_JOURNAL,
            f"patient:{i % 2 + 1}/journal",
            detail={"entries": i, "note": "ünïcode ✓"},
        )
    yield audit, engine
    engine.dispose()


def _untrigger(engine) -> None:
    """What someone with the file in hand can do: drop the append-only triggers."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")


def test_an_untouched_log_verifies(log):
    audit, _ = log
    assert audit.verify() == (6, None)


def test_the_table_refuses_updates_and_deletes(log):
    _, engine = log
    for sql in ("UPDATE audit_log SET user = 'eve'", "DELETE FROM audit_log WHERE seq = 3"):
        with pytest.raises(SqlDatabaseError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(sql)


def test_an_edited_row_is_named(log):
    audit, engine = log
    _untrigger(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET subject = 'patient:9/journal' WHERE seq = 4")
    _, broken = audit.verify()
    assert broken is not None and broken.seq == 4 and "changed" in broken.reason


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(log):
    from kapdesk.domain.audit import AuditEntry, chain_hash

    audit, engine = log
    _untrigger(engine)
    rows = list(audit.entries())
    forged = AuditEntry(
        **{**{f: getattr(rows[2].entry, f) for f in AuditEntry.__slots__}, "user": "eve"}
    )
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET user='eve', hash=:h WHERE seq=3"),
            {"h": chain_hash(rows[2].previous, forged)},
        )
    _, broken = audit.verify()
    assert broken is not None and broken.seq == 4 and "does not follow" in broken.reason


def test_a_deleted_row_is_named(log):
    audit, engine = log
    _untrigger(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq = 2")
    _, broken = audit.verify()
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason


def test_the_last_row_deleted_is_not_found_by_the_chain_alone_but_a_gap_is(log):
    """A truncated tail leaves a valid chain: what the log can show is its length, which
    the verify output states (an outside checkpoint would catch it)."""
    audit, engine = log
    _untrigger(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq = 6")
    assert audit.verify() == (5, None)


def test_reordered_rows_are_named(log):
    audit, engine = log
    _untrigger(engine)
    with engine.begin() as conn:  # swap the contents of rows 2 and 3 (ids stay in order)
        rows = conn.exec_driver_sql("SELECT * FROM audit_log WHERE seq IN (2, 3) ORDER BY id").all()
        cols = [c for c in rows[0]._fields if c != "id"]
        conn.exec_driver_sql(
            "UPDATE audit_log SET seq = -seq, previous = 'x' || previous WHERE seq IN (2, 3)"
        )
        for target, source in ((rows[0].id, rows[1]), (rows[1].id, rows[0])):
            sets = ", ".join(f'"{c}" = :{c}' for c in cols)
            conn.execute(
                text(f"UPDATE audit_log SET {sets} WHERE id = :id"),
                {**{c: source._mapping[c] for c in cols}, "id": target},
            )
    _, broken = audit.verify()
    assert broken is not None and broken.seq == 3 and "moved" in broken.reason


def test_the_admin_filters_who_opened_a_patients_journal(log):
    audit, _ = log
    audit.append(Actor(Role.ADMIN, "Ada", username="ada"), AuditAction.AUDIT_REVIEWED)
    seen = audit.search(AuditFilter(subject="patient:2", action="view_journal"))
    assert [e.seq for e in seen] == [6, 4, 2]
    assert {e.user for e in seen} == {"tess"}
    assert audit.search(AuditFilter(user="ada"))[0].action == "audit_reviewed"


def test_two_writers_appending_at_once_keep_one_chain(db_url):
    import threading

    engine = open_database(db_url)
    try:
        logs = [AuditLog(engine, DirectWriter(engine), workstation=f"ws{i}") for i in range(2)]

        def run(audit: AuditLog) -> None:
            for _ in range(25):
                audit.append(TESS, AuditAction.VIEW_PATIENT, "patient:1")

        threads = [threading.Thread(target=run, args=(a,)) for a in logs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert logs[0].verify() == (50, None)
    finally:
        engine.dispose()
