from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from kapdesk.storage.database import (
    DatabaseError,
    create_db_engine,
    current_revision,
    default_url,
    head_revision,
    migrate,
    open_database,
)


def test_new_database_is_migrated_to_head_in_wal_mode(db_url: str) -> None:
    engine = open_database(db_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"patients", "sessions", "session_events", "reading_blocks", "alarms"} <= tables
    assert {"devices", "channels", "reading_minutes"} <= tables and "readings" not in tables
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_older_database_is_upgraded_in_place_keeping_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_db_engine(url)
    migrate(engine, "0001")  # the oldest schema
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (uid, display_name, allergies, medications, notes,"
                " baseline, created_at) VALUES ('u1', 'Old Record', '', '', '', '{}', :t)"
            ),
            {"t": time.time()},
        )
    engine.dispose()
    engine = open_database(url)  # what start-up does
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        names = conn.execute(text("SELECT display_name FROM patients")).scalars().all()
    assert names == ["Old Record"]


def test_opening_twice_is_harmless(db_url: str) -> None:
    open_database(db_url).dispose()
    engine = open_database(db_url)
    assert current_revision(engine) == head_revision()


def test_default_location_is_the_per_user_data_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = default_url()
    assert url.startswith("sqlite:///")
    assert str(tmp_path / "xdg" / "kapdesk") in url
    monkeypatch.setenv("KAPDESK_DATABASE_URL", "sqlite:///elsewhere.db")
    assert default_url() == "sqlite:///elsewhere.db"


def test_a_bad_url_names_the_problem() -> None:
    with pytest.raises(DatabaseError, match="nosuchdriver"):
        open_database("nosuchdriver://x/y")


def test_a_file_that_is_not_a_database_is_reported_not_overwritten(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("this is not a database, and it must survive\n" * 100)
    with pytest.raises(DatabaseError, match="cannot upgrade"):
        open_database(f"sqlite:///{f}")
    assert f.read_text().startswith("this is not a database")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(f).execute("select 1 from sqlite_master").fetchall()


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("postgresql+psycopg://k@db.clinic.lan/kapdesk", True),
        ("postgresql+psycopg://k@10.0.0.5/kapdesk?sslmode=prefer", True),
        ("postgresql+psycopg://k@db.clinic.lan/kapdesk?sslmode=verify-full", False),
        ("postgresql+psycopg://k@10.0.0.5/kapdesk?sslmode=require", False),
        ("postgresql+psycopg://k@localhost/kapdesk", False),
        ("postgresql+psycopg://k@127.0.0.1:5432/kapdesk", False),
        ("postgresql+psycopg://k@/kapdesk?host=/var/run/postgresql", False),
    ],
)
def test_a_server_on_another_machine_needs_tls(url: str, refused: bool) -> None:
    from kapdesk.storage.database import require_tls

    if refused:
        with pytest.raises(DatabaseError, match="TLS"):
            require_tls(url)
    else:
        require_tls(url)
