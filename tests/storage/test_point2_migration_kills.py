"""Issue 11 point 2: kill -9 at random moments during the first creation of a database
and during each upgrade step; every database opens afterwards, reaches head and passes
integrity_check. The child slows each SQL statement down a little (a SQLAlchemy
``before_cursor_execute`` hook in the child only, no test switch in the app) and prints
one line per statement, so seeded random kills land between and inside the DDL
statements that used to commit one by one."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from kapdesk.storage.database import (
    create_db_engine,
    head_revision,
    migrate,
    open_database,
)

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys, time
from sqlalchemy import event
from kapdesk.storage.database import create_db_engine, migrate
engine = create_db_engine(sys.argv[1])
@event.listens_for(engine, "before_cursor_execute")
def _slow(*_args):
    print("stmt", flush=True)
    time.sleep(0.003)
migrate(engine, sys.argv[2])
print("migrated", flush=True)
"""
KILLS = 4
STEPS = [
    (None, "head"),
    (None, "0001"),
    ("0001", "0002"),
    ("0002", "0003"),
    ("0003", "0004"),  # readings, a row per sample, into blocks (issue 13)
]
#: Row-per-sample readings each prepared database holds (the schema before 0004 has them).
READINGS = 300


def prepare(path: Path, start: str | None) -> str:
    """A database at ``start`` (none: no file) holding a patient and a session."""
    url = f"sqlite:///{path}"
    if start is not None:
        db = create_db_engine(url)
        migrate(db, start)
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
            "INSERT INTO readings (session_id, t, channel, value, unit, device, flags)"
            " VALUES (1, ?, ?, ?, ?, 'strap', ?)",
            [
                (1.8e9 + i / 10, ("heart_rate", "pleth")[i % 2], 60 + i % 7, "/min",
                 "artifact" if i % 11 == 0 else "")
                for i in range(READINGS)
            ],
        )  # fmt: skip
        con.commit()
        con.close()
    return url


def run_child(url: str, target: str, kill_after: int | None, pause: float) -> tuple[int, bool]:
    """Migrate in a child; kill -9 it ``pause`` s after its ``kill_after``-th statement.
    Returns (statements started, whether it finished)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, target],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    seen, done = 0, False
    for line in child.stdout:
        if line.strip() == "migrated":
            done = True
            break
        seen += 1
        if kill_after is not None and seen >= kill_after:
            time.sleep(pause)
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(30)
    child.stdout.close()
    return seen, done


@pytest.mark.parametrize(("start", "target"), STEPS, ids=lambda s: str(s))
def test_point2_kill_9_at_random_moments_then_the_database_opens(
    tmp_path: Path, start: str | None, target: str
) -> None:
    total, done = run_child(prepare(tmp_path / "calibrate.sqlite3", start), target, None, 0)
    assert done and total > 2
    rng = random.Random(f"point2-{start}-{target}")
    interrupted = 0
    for n in range(KILLS):
        path = tmp_path / f"killed-{n}.sqlite3"
        url = prepare(path, start)
        _, done = run_child(url, target, rng.randint(1, total), rng.uniform(0, 0.004))
        interrupted += not done
        if path.exists():
            con = sqlite3.connect(path)
            left = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()[0]
            version = (
                con.execute("SELECT version_num FROM alembic_version").fetchall() if left else []
            )
            con.close()
            # all or nothing: the old revision (or nothing at all), or the target
            assert version in ([], [(start,)], [(target if target != "head" else head_revision(),)])
        db = open_database(url)  # must open, whatever the kill left
        with db.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                head_revision()
            )
            sessions = conn.execute(text("SELECT count(*) FROM sessions")).scalar()
            samples = conn.execute(text("SELECT sum(n) FROM reading_blocks")).scalar()
        db.dispose()
        assert sessions == (0 if start is None else 1)
        assert (samples or 0) == (0 if start is None else READINGS)  # none lost, none twice
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        con.close()
    assert interrupted >= KILLS - 1  # the kills landed inside the migration


def test_point2_a_creation_left_half_done_by_an_older_kapdesk_is_finished(
    tmp_path: Path,
) -> None:
    """Before migrations ran in one transaction a kill during the first start left tables
    without a version (every later start: "table ... already exists"); such a file, with
    no row in it, is cleared and created again."""
    path = tmp_path / "half.sqlite3"
    url = f"sqlite:///{path}"
    db = create_db_engine(url)
    migrate(db, "head")
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("DROP TABLE alembic_version")  # what the non-atomic creation could leave
    con.commit()
    con.close()
    db = open_database(url)
    with db.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    db.dispose()


def test_point2_tables_with_rows_but_no_version_are_reported_not_cleared(
    tmp_path: Path,
) -> None:
    path = tmp_path / "foreign.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO patients (name) VALUES ('kept')")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(Exception, match="no kapdesk schema version"):
        open_database(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    assert con.execute("SELECT name FROM patients").fetchall() == [("kept",)]
    con.close()
    assert len(path.read_bytes()) == len(before)
