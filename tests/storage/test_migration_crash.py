"""kill -9 in the middle of a migration, then start again: the upgrade is all or
nothing, so the next start migrates from where the database really is (a half-done
migration on SQLite, whose driver commits DDL on its own, left a column behind and the
next start failed with "duplicate column")."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from kapdesk.storage.database import create_db_engine, migrate, open_database

CHILD = """
import sys
from kapdesk.storage.database import open_database
print("migrating", flush=True)
open_database(sys.argv[1])
print("migrated", flush=True)
"""

ROWS = 150_000  # enough that the episode fill-in takes a moment to kill


def old_database(path: Path) -> str:
    url = f"sqlite:///{path}"
    db = create_db_engine(url)
    migrate(db, "0002")
    db.dispose()
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO patients (uid, display_name, allergies, medications, notes, baseline,"
        " created_at) VALUES ('p', 'Old', '', '', '', '{}', 0)"
    )
    con.execute(
        "INSERT INTO sessions (uid, patient_id, protocol, state, clock_speed, created_at)"
        " VALUES ('s', 1, 'im-ketamine', 'completed', 1.0, 0)"
    )
    con.executemany(
        "INSERT INTO alarms (session_id, t, kind, priority, channel, condition, transition,"
        " value, data) VALUES (1, ?, 'technical', 'medium', 'spo2', 'signal_lost', ?, NULL,"
        " '{}')",
        ((float(i), "raised" if i % 2 == 0 else "cleared") for i in range(ROWS)),
    )
    con.commit()
    con.close()
    return url


def test_kill_9_mid_migration_then_the_next_start_migrates(tmp_path: Path) -> None:
    mid_migration = 0
    for attempt, delay in enumerate((0.2, 0.5, 0.9)):
        path = tmp_path / f"old-{attempt}.sqlite3"
        url = old_database(path)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, url],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "migrating"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        rest = child.stdout.read()
        child.stdout.close()
        mid_migration += "migrated" not in rest
        db = open_database(url)  # must not fail, whatever the kill left
        with db.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            count = conn.execute(text("SELECT count(*) FROM alarms")).scalar()
            missing = conn.execute(
                text("SELECT count(*) FROM alarms WHERE episode IS NULL")
            ).scalar()
        db.dispose()
        assert count == ROWS and missing == 0
        assert version is not None and version >= "0003"
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        con.close()
    assert mid_migration >= 1  # at least one kill landed inside the upgrade
