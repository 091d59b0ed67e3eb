"""Issue 11 point 2 on PostgreSQL: a migration killed (kill -9 of the client) mid-way is
rolled back by the server, whose DDL is transactional, so the database stays at the
previous revision and the next start upgrades it to head."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import inspect, text

from kapdesk.storage.database import create_db_engine, head_revision, migrate, open_database

ROOT = Path(__file__).resolve().parents[3]
CHILD = """
import sys, time
from sqlalchemy import event
from kapdesk.storage.database import create_db_engine, migrate
engine = create_db_engine(sys.argv[1])
@event.listens_for(engine, "before_cursor_execute")
def _slow(*_args):
    print("stmt", flush=True)
    time.sleep(0.003)
migrate(engine, "head")
print("migrated", flush=True)
"""


def kill_mid_migration(url: str, after: int) -> bool:
    """Migrate to head in a child, kill -9 it after ``after`` statements; finished?"""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    done = False
    for seen, line in enumerate(child.stdout, 1):
        if line.strip() == "migrated":
            done = True
            break
        if seen >= after:
            time.sleep(0.002)
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(30)
    child.stdout.close()
    return done


def revision(url: str) -> str | None:
    db = create_db_engine(url)
    try:
        with db.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        db.dispose()


def test_point2_postgres_kill_9_mid_migration_then_it_upgrades(pg_url: str) -> None:
    db = create_db_engine(pg_url)
    migrate(db, "0001")
    db.dispose()
    rng = random.Random("point2-pg")
    assert not kill_mid_migration(pg_url, rng.randint(3, 20))
    time.sleep(0.5)  # the server notices the lost client and rolls its transaction back
    assert revision(pg_url) == "0001"  # all or nothing: still the previous revision
    db = open_database(pg_url)
    db.dispose()
    assert revision(pg_url) == head_revision()


def test_point2_postgres_a_failing_step_leaves_the_previous_revision(pg_url: str) -> None:
    db = create_db_engine(pg_url)
    migrate(db, "0002")
    with db.begin() as conn:  # makes 0003's add_column fail half-way through the upgrade
        conn.execute(text("ALTER TABLE alarms ADD COLUMN episode integer"))
    try:
        migrate(db, "head")
    except Exception as exc:
        assert "episode" in str(exc)
    else:
        raise AssertionError("the upgrade should have failed")
    db.dispose()
    assert revision(pg_url) == "0002"
