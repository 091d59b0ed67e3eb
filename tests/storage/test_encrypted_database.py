"""The clinic's database encrypted at rest, as kapdesk opens it (issue 14 point 4): the
demo, a plain database from today's schema encrypted once and verified, a wrong
passphrase that changes nothing, and the blunt check: ``strings`` on the file and its
-wal finds no patient name, intention or journal sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from access_support import CLINICIAN
from sqlalchemy import text

from kapdesk.demo.journal import PRIVATE_TEXT, SHARED_TEXT
from kapdesk.demo.script import DEMO_INTENTION
from kapdesk.live.runtime import Runtime
from kapdesk.storage import encryption
from kapdesk.storage.database import DatabaseError, DatabaseLocked, open_database
from kapdesk.storage.encryption import key_file_path
from kapdesk.storage.keys import DEMO_PASSPHRASE


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kapdesk", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


def strings(path: Path, min_len: int = 4) -> str:
    """What ``strings`` prints: the runs of printable ASCII in a file."""
    out, run_ = [], bytearray()
    for b in path.read_bytes() if path.exists() else b"":
        if 32 <= b < 127:
            run_.append(b)
            continue
        if len(run_) >= min_len:
            out.append(run_.decode())
        run_.clear()
    if len(run_) >= min_len:
        out.append(run_.decode())
    return "\n".join(out)


def test_a_demo_session_and_journal_leave_no_patient_text_in_the_files(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    url = f"sqlite:///{db}"
    shot = run(
        "--demo", "--speed", "20", "--database-url", url,
        "--screenshot", str(tmp_path / "s.png"), "--after", "8",
    )  # fmt: skip
    assert shot.returncode == 0, shot.stderr[-2000:]
    journal = run("journal", "demo", "--database-url", url)
    assert journal.returncode == 0, journal.stderr[-2000:]
    assert key_file_path(db).exists() and encryption.is_encrypted(db)
    assert db.stat().st_mode & 0o777 == 0o600
    # the record is there (read through the key) ...
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            names = {r[0] for r in conn.execute(text("SELECT display_name FROM patients"))}
            events = conn.execute(text("SELECT count(*) FROM session_events")).scalar_one()
            entries = conn.execute(text("SELECT count(*) FROM journal_entries")).scalar_one()
    finally:
        engine.dispose()
    assert any(n.startswith("Demo Patient") for n in names) and events > 5 and entries >= 2
    # ... and none of it is readable in the files themselves
    found = "\n".join(strings(p) for p in (db, Path(f"{db}-wal")))
    for secret in (
        *names,
        DEMO_INTENTION,
        SHARED_TEXT[:40],
        PRIVATE_TEXT[:40],
        "grandmother",
        "curiosity and kindness",
    ):
        assert secret not in found, f"{secret!r} readable in the database file"
    assert "SQLite format 3" not in found


def _record_a_session(url: str) -> tuple[int, dict[str, int]]:
    """A plain database of today's schema with a recorded session in every table."""
    from kapdesk.demo.script import demo_patient
    from kapdesk.domain.session import EventKind

    rt = Runtime.build(open_database(url), actor=CLINICIAN, flush_interval=0.05)
    try:
        rt.controller.open(demo_patient(), "im-ketamine")
        rt.controller.start()
        rt.controller.note("a note that must survive")
        rt.controller.record(EventKind.MARKER)
        from kapdesk.domain.readings import Reading

        for i in range(200):
            rt.hub.publish(Reading("heart_rate", 60 + i % 7, "/min", rt.clock.now() + i, "strap"))
        session_id = rt.controller.session.id
    finally:
        rt.shutdown()
        rt.engine.dispose()  # the last connection closes: the WAL is checkpointed
    engine = open_database(url)
    with engine.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            )
        ]
        counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
    engine.dispose()
    return session_id, counts


def test_a_plain_database_of_todays_schema_is_encrypted_with_every_row(tmp_path: Path) -> None:
    db = tmp_path / "kapdesk.sqlite3"
    url = f"sqlite:///{db}"
    session_id, before = _record_a_session(url)
    assert before["reading_blocks"] > 0 and before["audit_log"] > 0
    setup = encryption.create_key_file(db, "clinic passphrase 1", "Test Clinic")
    engine = open_database(url, setup.data_key)  # the one-time, verified encryption
    try:
        with engine.connect() as conn:
            after = {
                t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in before
            }
            note = conn.execute(
                text("SELECT data FROM session_events WHERE kind = 'note' AND session_id = :s"),
                {"s": session_id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert after == before
    assert "a note that must survive" in note
    assert encryption.is_encrypted(db) and "a note that must survive" not in strings(db)
    # later starts: the key from the passphrase; without one, a clear refusal
    with pytest.raises(DatabaseLocked, match="passphrase"):
        open_database(url)


def test_a_wrong_passphrase_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "kapdesk.sqlite3"
    url = f"sqlite:///{db}"
    _record_a_session(url)
    encryption.create_key_file(db, "clinic passphrase 1", "Test Clinic")
    open_database(url, encryption.unlock(db, "clinic passphrase 1")).dispose()
    files = {p: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.setenv("KAPDESK_PASSPHRASE", "not the passphrase")
    with pytest.raises(DatabaseError, match=r"(?i)passphrase"):
        open_database(url)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == files
    monkeypatch.setenv("KAPDESK_PASSPHRASE", "clinic passphrase 1")
    open_database(url).dispose()


def test_another_clinics_database_is_refused_unchanged(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.sqlite3", tmp_path / "theirs.sqlite3"
    for path, phrase in ((ours, "our passphrase 1"), (theirs, "their passphrase 1")):
        key = encryption.create_key_file(path, phrase, path.stem).data_key
        open_database(f"sqlite:///{path}", key).dispose()
    their_bytes = theirs.read_bytes()
    our_key = encryption.unlock(ours, "our passphrase 1")
    with pytest.raises(DatabaseError, match=r"(?i)match|key"):
        open_database(f"sqlite:///{theirs}", our_key)
    assert theirs.read_bytes() == their_bytes


def test_the_demo_database_opens_with_the_published_demo_passphrase(tmp_path: Path) -> None:
    from kapdesk.storage.keys import set_up_demo_key

    db = tmp_path / "demo.sqlite3"
    key = set_up_demo_key(db)
    assert encryption.unlock(db, DEMO_PASSPHRASE) == key
    open_database(f"sqlite:///{db}").dispose()  # no one asked: it is the demo's


def test_a_lost_key_file_is_said_plainly_and_the_recovery_key_makes_a_new_one(
    tmp_path: Path,
) -> None:
    db = tmp_path / "kapdesk.sqlite3"
    url = f"sqlite:///{db}"
    setup = encryption.create_key_file(db, "clinic passphrase 1", "Test Clinic")
    open_database(url, setup.data_key).dispose()
    key_file_path(db).unlink()  # lost
    before = db.read_bytes()
    start = run("--database-url", url, "--screenshot", str(tmp_path / "s.png"))
    assert start.returncode == 2 and "key file" in start.stderr and "recover-key" in start.stderr
    assert db.read_bytes() == before and not key_file_path(db).exists()
    typo = run(
        "recover-key", "--database-url", url,
        env={"KAPDESK_RECOVERY_KEY": setup.recovery_key[:-1] + "0",
             "KAPDESK_NEW_PASSPHRASE": "a new passphrase 1"},
    )  # fmt: skip
    assert typo.returncode == 1 and not key_file_path(db).exists()
    done = run(
        "recover-key", "--database-url", url, "--clinic", "Test Clinic",
        env={"KAPDESK_RECOVERY_KEY": setup.recovery_key,
             "KAPDESK_NEW_PASSPHRASE": "a new passphrase 1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    open_database(url, encryption.unlock(db, "a new passphrase 1")).dispose()


def test_kill_9_while_encrypting_leaves_a_database_that_opens_with_every_row(
    tmp_path: Path,
) -> None:
    """The one-time encryption killed at moments spread over its run: each time the file
    opens afterwards (the plain one, or the verified encrypted one) with every row."""
    import shutil
    import time

    plain = tmp_path / "plain.sqlite3"
    _, before = _record_a_session(f"sqlite:///{plain}")
    script = (
        "import sys\n"
        "from kapdesk.storage.encryption import migrate_plain_to_encrypted, unlock\n"
        "key = unlock(sys.argv[1], 'clinic passphrase 1')\n"
        "print('go', flush=True)\n"
        "migrate_plain_to_encrypted(sys.argv[1], key)\n"
    )
    for i, delay in enumerate((0.0, 0.005, 0.01, 0.02, 0.04, 0.08)):
        work = tmp_path / f"run{i}"
        work.mkdir()
        db = work / "kapdesk.sqlite3"
        shutil.copy(plain, db)
        assert not Path(f"{plain}-wal").exists() or Path(f"{plain}-wal").stat().st_size == 0
        key = encryption.create_key_file(db, "clinic passphrase 1", "Test Clinic").data_key
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "go"
        time.sleep(delay)
        proc.kill()
        proc.wait()
        proc.stdout.close()
        engine = open_database(f"sqlite:///{db}", key)  # finishes an interrupted encryption
        try:
            with engine.connect() as conn:
                after = {
                    t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in before
                }
        finally:
            engine.dispose()
        assert after == before, f"kill after {delay} s"
        assert encryption.is_encrypted(db)
        assert not (work / "kapdesk.sqlite3.encrypting").exists()  # no stale copy left


def test_a_rescue_file_of_an_encrypted_database_is_sealed_and_imported_back(
    tmp_path: Path,
) -> None:
    """A full disk's rescue file holds what the database would: sealed with its key."""
    from kapdesk.storage.models import SessionEventRow
    from kapdesk.storage.rescue import import_rescued, write_rescue

    db = tmp_path / "kapdesk.sqlite3"
    url = f"sqlite:///{db}"
    session_id, _ = _record_a_session(url)
    key = encryption.create_key_file(db, "clinic passphrase 1", "Test Clinic").data_key
    engine = open_database(url, key)
    try:
        row = {"session_id": session_id, "t": 1.8e9, "kind": "note", "phase": None,
               "data": {"text": "kept through a full disk"}}  # fmt: skip
        path = write_rescue(engine, [(SessionEventRow, row)])
        assert path is not None and path.stat().st_mode & 0o777 == 0o600
        assert "kept through a full disk" not in path.read_text()
        assert import_rescued(engine) == [(path, 1)] and not path.exists()
        with engine.connect() as conn:
            notes = (
                conn.execute(text("SELECT data FROM session_events WHERE kind = 'note'"))
                .scalars()
                .all()
            )
        assert any("kept through a full disk" in n for n in notes)
    finally:
        engine.dispose()
