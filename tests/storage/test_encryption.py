"""The database encrypted at rest (storage/encryption.py), on real SQLite and SQLCipher files:
set-up, unlocking, the verified migration of a plain database, the engine, the keyring.

The key files here use cheap argon2id costs (``FAST``); the defaults are timed once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from kapdesk.storage import encryption
from kapdesk.storage.database import current_revision, head_revision, migrate, open_database
from kapdesk.storage.encryption import (
    DEFAULT_KDF,
    DataKey,
    EncryptionError,
    KdfParams,
    Problem,
    change_passphrase,
    create_encrypted_engine,
    create_key_file,
    forget_keyring,
    is_encrypted,
    key_file_info,
    key_file_path,
    key_from_keyring,
    keyring_problem,
    migrate_plain_to_encrypted,
    recovery_key_problem,
    restore_key_file,
    store_in_keyring,
    unlock,
    unlock_with_recovery_key,
)
from kapdesk.storage.journal.search import fts5_match

FAST = KdfParams(memory_kib=1024, time_cost=1, parallelism=1)
PASSPHRASE = "the heron waits by the mill"
NAME = "Margarethe Quist"
SENTENCE = "the blue door opened"
LATER = "a lighthouse in the fog"  # written after the encryption, through the engine
SECRETS = [NAME.encode(), SENTENCE.encode(), LATER.encode(), b"lighthouse", b"Quist"]
#: A read-only connection to a WAL database leaves these behind (SQLite's doing).
SIDECARS = {"kapdesk.sqlite3-wal", "kapdesk.sqlite3-shm"}


def _plain_database(path: Path, extra_entries: int = 20) -> None:
    """A migrated plain kapdesk database with a patient, a session and journal entries."""
    engine = open_database(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (uid, display_name, allergies, medications, notes,"
                " baseline, created_at) VALUES ('p1', :name, 'penicillin', '', 'quiet',"
                " '{}', 1.0)"
            ),
            {"name": NAME},
        )
        conn.execute(
            text(
                "INSERT INTO sessions (uid, patient_id, protocol, state, clock_speed,"
                " created_at) VALUES ('s1', 1, 'im-standard', 'finished', 1.0, 2.0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO session_events (session_id, t, kind, phase, data)"
                " VALUES (1, 3.0, 'dose', 'induction', :data)"
            ),
            {"data": '{"note": "' + NAME + '"}'},
        )
        entries = [{"uid": "e0", "body": SENTENCE + " and light came in", "t": 4.0}]
        entries += [
            {"uid": f"e{i}", "body": f"entry {i} about the garden, the sea, the wind", "t": 4.0 + i}
            for i in range(1, extra_entries + 1)
        ]
        conn.execute(
            text(
                "INSERT INTO journal_entries (uid, patient_id, session_id, body, tags, shared,"
                " state, revision, created_at, updated_at)"
                " VALUES (:uid, 1, 1, :body, 'integration', 1, 'draft', 1, :t, :t)"
            ),
            entries,
        )
        conn.execute(
            text(
                "INSERT INTO journal_entry_revisions (entry_id, number, body, tags, shared,"
                " saved_at) VALUES (1, 1, :body, '', 1, 4.0)"
            ),
            {"body": SENTENCE},
        )
    engine.dispose()


def _all_rows(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of sqlite_master (shadow tables, alembic_version too) with its rows."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
    ]
    out = {}
    for t in tables:
        rows = conn.execute(f'SELECT * FROM "{t}"').fetchall()
        out[t] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _plain_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return _all_rows(conn)
    finally:
        conn.close()


def _engine_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    raw = engine.raw_connection()
    try:
        return _all_rows(raw.driver_connection)
    finally:
        raw.close()


def _fingerprint(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file in the directory: its content hash and mode."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def plain_db(tmp_path: Path) -> Path:
    path = tmp_path / "clinic" / "kapdesk.sqlite3"
    path.parent.mkdir()
    _plain_database(path)
    return path


@pytest.fixture
def encrypted_db(plain_db: Path) -> tuple[Path, encryption.SetUp]:
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    migrate_plain_to_encrypted(plain_db, setup.data_key)
    return plain_db, setup


# --- migration, engine, FTS5 ------------------------------------------------------------------


def test_a_plain_database_is_encrypted_with_every_row_intact_and_no_text_in_clear(
    plain_db: Path,
) -> None:
    before = _plain_rows(plain_db)
    assert {"alembic_version", "journal_entries_fts_data", "journal_entries_fts_idx"} <= set(before)
    assert NAME.encode() in plain_db.read_bytes()  # it was in clear
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)

    report = migrate_plain_to_encrypted(plain_db, setup.data_key)

    assert report.migrated
    assert {t.name for t in report.tables} == set(before)
    assert report.rows == sum(len(rows) for rows in before.values())
    assert "verified" in report.describe()
    assert is_encrypted(plain_db)
    assert not plain_db.read_bytes().startswith(b"SQLite format 3\x00")
    assert sorted(p.name for p in plain_db.parent.iterdir()) == [
        "kapdesk.sqlite3",
        "kapdesk.sqlite3.key.json",
    ]  # no temp copy, no plain -wal/-shm
    assert _mode(plain_db) == 0o600 and _mode(key_file_path(plain_db)) == 0o600
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        _plain_rows(plain_db)  # plain SQLite cannot read it

    engine = create_encrypted_engine(plain_db, unlock(plain_db, PASSPHRASE))
    try:
        assert _engine_rows(engine) == before  # every table, every row
        assert current_revision(engine) == head_revision()
        migrate(engine)  # what start-up does: Alembic runs on the encrypted engine
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
        with engine.begin() as conn:  # a new entry, kept in the FTS5 index by its trigger
            conn.execute(
                text(
                    "INSERT INTO journal_entries (uid, patient_id, body, tags, shared, state,"
                    " revision, created_at, updated_at)"
                    " VALUES ('new', 1, :body, '', 1, 'draft', 0, 9.0, 9.0)"
                ),
                {"body": LATER},
            )
        wal = plain_db.with_name(plain_db.name + "-wal")
        shm = plain_db.with_name(plain_db.name + "-shm")
        assert wal.stat().st_size > 0  # the new entry is in the WAL now
        assert _mode(wal) == 0o600 and _mode(shm) == 0o600
        for path in (plain_db, wal):
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret not in data, (path.name, secret)
        search = text(
            "SELECT e.uid FROM journal_entries_fts JOIN journal_entries AS e"
            " ON e.id = journal_entries_fts.rowid WHERE journal_entries_fts MATCH :m"
            " ORDER BY e.uid"
        )
        with engine.connect() as conn:
            assert conn.execute(search, {"m": fts5_match("blue door")}).scalars().all() == ["e0"]
            assert conn.execute(search, {"m": fts5_match("lighthouse")}).scalars().all() == ["new"]
            assert len(conn.execute(search, {"m": fts5_match("garden")}).all()) == 20
            conn.exec_driver_sql(
                "INSERT INTO journal_entries_fts(journal_entries_fts, rank)"
                " VALUES ('integrity-check', 1)"
            )
    finally:
        engine.dispose()
    for secret in SECRETS:  # after the checkpoint at close as well
        assert secret not in plain_db.read_bytes()


def test_encrypting_again_leaves_an_encrypted_file_alone(
    encrypted_db: tuple[Path, encryption.SetUp],
) -> None:
    """As after a crash between the rename and the chmod: only the mode is put right."""
    path, setup = encrypted_db
    os.chmod(path, 0o644)
    before = _fingerprint(path.parent)
    report = migrate_plain_to_encrypted(path, setup.data_key)
    assert not report.migrated and "already" in report.describe()
    assert _mode(path) == 0o600
    before[path.name] = (before[path.name][0], 0o600)
    assert _fingerprint(path.parent) == before


def test_commits_left_in_the_plain_wal_by_a_crash_are_encrypted_too(plain_db: Path) -> None:
    writer = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute(\"UPDATE patients SET notes = 'written just before the crash'\")\n"
        "c.commit()\n"
        "os._exit(0)  # no close, no checkpoint: the commit is only in the -wal\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(plain_db)], check=True)
    wal = plain_db.with_name(plain_db.name + "-wal")
    assert wal.stat().st_size > 0
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    assert migrate_plain_to_encrypted(plain_db, setup.data_key).migrated
    assert not wal.exists()
    engine = create_encrypted_engine(plain_db, setup.data_key)
    try:
        with engine.connect() as conn:
            notes = conn.execute(text("SELECT notes FROM patients")).scalar()
        assert notes == "written just before the crash"
    finally:
        engine.dispose()


def test_the_engine_serves_other_threads(encrypted_db: tuple[Path, encryption.SetUp]) -> None:
    """The recorder writes from its own thread: the pool hands connections across threads."""
    path, setup = encrypted_db
    engine = create_encrypted_engine(path, setup.data_key)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO devices (name) VALUES (:n)"), {"n": f"monitor {i}"})
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM devices")).scalar() == 4
    finally:
        engine.dispose()


def test_a_lossy_copy_is_refused_and_the_plain_file_left_untouched(
    plain_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    before = _fingerprint(plain_db.parent)
    real = encryption._table_digest
    seen: list[str] = []

    def lossy(conn: Any, table: str) -> tuple[int, str]:
        rows, digest = real(conn, table)
        seen.append(table)
        if table == "journal_entries" and seen.count(table) == 2:  # the copy's side
            return rows, "0" * 64
        return rows, digest

    monkeypatch.setattr(encryption, "_table_digest", lossy)
    with pytest.raises(EncryptionError) as err:
        migrate_plain_to_encrypted(plain_db, setup.data_key)
    assert err.value.kind is Problem.MIGRATION_FAILED
    assert "journal_entries" in str(err.value) and "left as it was" in str(err.value)
    assert _fingerprint(plain_db.parent) == before  # no temp file; the plain file as it was
    assert not is_encrypted(plain_db)
    assert _plain_rows(plain_db)["patients"][0][2] == NAME


def test_a_copy_with_a_row_missing_is_refused(
    plain_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real loss in the copy (not just a different digest): the count tells."""
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    before = _fingerprint(plain_db.parent)
    real_verify = encryption._verify_copy

    def drop_a_row(plain: Any, tmp: Path, key: DataKey) -> Any:
        conn = encryption._open_keyed(tmp, key)
        conn.execute("DELETE FROM journal_entry_revisions")
        conn.close()
        return real_verify(plain, tmp, key)

    monkeypatch.setattr(encryption, "_verify_copy", drop_a_row)
    with pytest.raises(EncryptionError, match="journal_entry_revisions: 0 rows instead of 1"):
        migrate_plain_to_encrypted(plain_db, setup.data_key)
    assert _fingerprint(plain_db.parent) == before


def test_a_stale_temp_file_from_an_interrupted_migration_is_removed_and_it_is_redone(
    plain_db: Path,
) -> None:
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    stale = plain_db.with_name(plain_db.name + ".encrypting")
    stale.write_bytes(os.urandom(10_000))  # half a copy, from a kill -9
    stale.with_name(stale.name + "-journal").write_bytes(b"junk")
    before = _plain_rows(plain_db)
    report = migrate_plain_to_encrypted(plain_db, setup.data_key)
    assert report.migrated
    assert not stale.exists() and not stale.with_name(stale.name + "-journal").exists()
    engine = create_encrypted_engine(plain_db, setup.data_key)
    try:
        assert _engine_rows(engine) == before
    finally:
        engine.dispose()


def test_a_plain_database_with_a_key_file_is_not_opened_as_encrypted(plain_db: Path) -> None:
    """Set-up done, migration not (yet): the engine refuses, the migration finishes it."""
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    before = _fingerprint(plain_db.parent)
    with pytest.raises(EncryptionError) as err:
        create_encrypted_engine(plain_db, setup.data_key)
    assert err.value.kind is Problem.DATABASE_PLAIN and "Nothing was changed" in str(err.value)
    assert _fingerprint(plain_db.parent) == before
    assert migrate_plain_to_encrypted(plain_db, setup.data_key).migrated


def test_a_database_open_elsewhere_is_not_migrated(plain_db: Path) -> None:
    """Another process (another kapdesk, idle) has the file open: a write it made after the
    copy would be lost, so nothing is done. (It must be another process: two copies of
    SQLite in one process, stdlib sqlite3 and sqlcipher3's, do not see each other's locks.)
    """
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    holder = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('SELECT count(*) FROM patients').fetchall()\n"
        "print('open', flush=True)\n"
        "sys.stdin.readline()\n"
        "c.close()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holder, str(plain_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "open"
        before = _fingerprint(plain_db.parent)
        with pytest.raises(EncryptionError) as err:
            migrate_plain_to_encrypted(plain_db, setup.data_key)
        assert err.value.kind is Problem.DATABASE_IN_USE
        after = _fingerprint(plain_db.parent)
        shm = plain_db.name + "-shm"  # shared memory of the two connections, not data
        assert {k: v for k, v in after.items() if k != shm} == {
            k: v for k, v in before.items() if k != shm
        }
    finally:
        other.communicate("close\n", timeout=30)
    assert migrate_plain_to_encrypted(plain_db, setup.data_key).migrated


def test_the_migration_needs_the_key_of_the_key_file(plain_db: Path, tmp_path: Path) -> None:
    create_key_file(plain_db, PASSPHRASE, "Clinic by the Mill", kdf=FAST)
    before = _fingerprint(plain_db.parent)
    with pytest.raises(EncryptionError) as err:
        migrate_plain_to_encrypted(plain_db, DataKey(os.urandom(32)))
    assert err.value.kind is Problem.WRONG_KEY
    assert _fingerprint(plain_db.parent) == before
    lone = tmp_path / "lone.sqlite3"
    _plain_database(lone, extra_entries=0)
    with pytest.raises(EncryptionError) as err:
        migrate_plain_to_encrypted(lone, DataKey(os.urandom(32)))
    assert err.value.kind is Problem.NO_KEY_FILE


def test_a_new_database_is_made_encrypted_and_private(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    setup = create_key_file(path, PASSPHRASE, "New Clinic", kdf=FAST)
    assert not path.exists()
    engine = create_encrypted_engine(path, setup.data_key)
    try:
        migrate(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert is_encrypted(path) and _mode(path) == 0o600
    with pytest.raises(EncryptionError) as err:  # no database with a key recorded nowhere
        create_encrypted_engine(tmp_path / "other.sqlite3", DataKey(os.urandom(32)))
    assert err.value.kind is Problem.NO_KEY_FILE
    assert not (tmp_path / "other.sqlite3").exists()


def test_a_read_only_engine_reads_and_never_writes(
    encrypted_db: tuple[Path, encryption.SetUp],
) -> None:
    path, setup = encrypted_db
    before = _fingerprint(path.parent)
    engine = create_encrypted_engine(path, setup.data_key, read_only=True)
    try:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT display_name FROM patients")).scalars().all()
            assert names == [NAME]
            with pytest.raises(OperationalError, match="readonly"):
                conn.exec_driver_sql("DELETE FROM patients")
    finally:
        engine.dispose()
    after = _fingerprint(path.parent)
    assert after.get(path.name) == before[path.name]


# --- unlocking ---------------------------------------------------------------------------------


def test_a_wrong_passphrase_is_refused_and_nothing_changes(
    encrypted_db: tuple[Path, encryption.SetUp],
) -> None:
    path, _ = encrypted_db
    before = _fingerprint(path.parent)
    with pytest.raises(EncryptionError) as err:
        unlock(path, PASSPHRASE + "!")
    assert err.value.kind is Problem.WRONG_PASSPHRASE
    assert "Clinic by the Mill" in str(err.value) and "Nothing was changed" in str(err.value)
    assert _fingerprint(path.parent) == before


def test_the_recovery_key_unlocks_and_a_typo_is_caught_by_its_checksum(
    encrypted_db: tuple[Path, encryption.SetUp], tmp_path: Path
) -> None:
    path, setup = encrypted_db
    key = setup.recovery_key
    groups = key.split("-")
    assert len(groups) == 9 and all(len(g) == 4 for g in groups)
    assert unlock_with_recovery_key(path, key) == setup.data_key
    # as people type it: lower case, spaces instead of dashes, O for 0 and l for 1
    typed = key.lower().replace("-", " ").replace("0", "O").replace("1", "l")
    assert unlock_with_recovery_key(path, typed) == setup.data_key
    assert recovery_key_problem(typed) is None

    before = _fingerprint(path.parent)
    i = 5
    swapped = "A" if key[i] != "A" else "B"
    typo = key[:i] + swapped + key[i + 1 :]
    for bad in (typo, key[:-1], key + "Q", key.replace(key[0], "U", 1)):
        with pytest.raises(EncryptionError) as err:
            unlock_with_recovery_key(path, bad)
        assert err.value.kind is Problem.RECOVERY_KEY_TYPO, bad
        assert recovery_key_problem(bad) == str(err.value)
    assert _fingerprint(path.parent) == before

    other = create_key_file(tmp_path / "other.sqlite3", PASSPHRASE, "Other", kdf=FAST)
    with pytest.raises(EncryptionError) as err:  # well formed, another clinic's
        unlock_with_recovery_key(path, other.recovery_key)
    assert err.value.kind is Problem.WRONG_RECOVERY_KEY


def test_change_passphrase_then_the_old_one_fails_and_the_new_one_works(
    encrypted_db: tuple[Path, encryption.SetUp],
) -> None:
    path, setup = encrypted_db
    database = path.read_bytes()
    info = change_passphrase(path, setup.data_key, "a new passphrase for spring", kdf=FAST)
    assert info.database_id == setup.info.database_id
    assert info.clinic_name == "Clinic by the Mill"
    with pytest.raises(EncryptionError) as err:
        unlock(path, PASSPHRASE)
    assert err.value.kind is Problem.WRONG_PASSPHRASE
    assert unlock(path, "a new passphrase for spring") == setup.data_key
    assert unlock_with_recovery_key(path, setup.recovery_key) == setup.data_key
    assert path.read_bytes() == database  # the database is untouched
    assert _mode(key_file_path(path)) == 0o600
    before = _fingerprint(path.parent)
    with pytest.raises(EncryptionError) as err:
        change_passphrase(path, DataKey(os.urandom(32)), "another passphrase here", kdf=FAST)
    assert err.value.kind is Problem.WRONG_KEY
    with pytest.raises(EncryptionError) as err:
        change_passphrase(path, setup.data_key, "short", kdf=FAST)
    assert err.value.kind is Problem.WEAK_PASSPHRASE
    assert _fingerprint(path.parent) == before


def test_a_database_of_another_key_file_does_not_match_and_nothing_changes(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "a" / "kapdesk.sqlite3", tmp_path / "b" / "kapdesk.sqlite3"
    for path in (a, b):
        path.parent.mkdir()
        _plain_database(path, extra_entries=2)
        setup = create_key_file(path, PASSPHRASE, f"Clinic {path.parent.name}", kdf=FAST)
        migrate_plain_to_encrypted(path, setup.data_key)
    shutil.copyfile(a, b)  # clinic a's database put in the place of b's
    os.chmod(b, 0o640)
    before = _fingerprint(b.parent)
    key_b = unlock(b, PASSPHRASE)  # b's key file and passphrase are fine
    with pytest.raises(EncryptionError) as err:
        create_encrypted_engine(b, key_b)
    assert err.value.kind is Problem.DATABASE_MISMATCH
    assert "does not match" in str(err.value) and "Nothing was changed" in str(err.value)
    assert _fingerprint(b.parent) == before  # no -wal/-shm made, not even the mode changed
    with pytest.raises(EncryptionError) as err:
        migrate_plain_to_encrypted(b, key_b)
    assert err.value.kind is Problem.DATABASE_MISMATCH
    assert _fingerprint(b.parent) == before


def test_set_up_refusals(plain_db: Path, tmp_path: Path) -> None:
    with pytest.raises(EncryptionError) as err:
        create_key_file(plain_db, "short one", "Clinic", kdf=FAST)
    assert err.value.kind is Problem.WEAK_PASSPHRASE and "12 characters" in str(err.value)
    with pytest.raises(EncryptionError) as err:
        create_key_file(plain_db, PASSPHRASE, "  ", kdf=FAST)
    assert err.value.kind is Problem.MISSING_CLINIC_NAME
    assert not key_file_path(plain_db).exists()
    setup = create_key_file(plain_db, PASSPHRASE, "Clinic", kdf=FAST)
    key_file = key_file_path(plain_db).read_bytes()
    with pytest.raises(EncryptionError) as err:
        create_key_file(plain_db, PASSPHRASE, "Clinic", kdf=FAST)
    assert err.value.kind is Problem.KEY_FILE_EXISTS
    assert key_file_path(plain_db).read_bytes() == key_file
    for secret in (setup.data_key.raw.hex(), setup.recovery_key, PASSPHRASE):
        assert secret.encode() not in key_file  # nothing secret in clear
    assert "Clinic" in key_file.decode() and repr(setup).count("recovery_key") == 0
    migrate_plain_to_encrypted(plain_db, setup.data_key)
    key_file_path(plain_db).unlink()
    with pytest.raises(EncryptionError) as err:  # a new key could never open it
        create_key_file(plain_db, PASSPHRASE, "Clinic", kdf=FAST)
    assert err.value.kind is Problem.DATABASE_ALREADY_ENCRYPTED


@pytest.mark.parametrize(
    ("damage", "kind", "field"),
    [
        (lambda body: "{not json", Problem.KEY_FILE_DAMAGED, "the whole file"),
        (
            lambda body: body.replace('"salt"', '"sault"'),
            Problem.KEY_FILE_DAMAGED,
            "passphrase.salt",
        ),
        (
            lambda body: body.replace('"memory_kib": 1024', '"memory_kib": 999999999'),
            Problem.KEY_FILE_DAMAGED,
            "passphrase.memory_kib",
        ),
        (
            lambda body: body.replace('"version": 1', '"version": 7'),
            Problem.KEY_FILE_TOO_NEW,
            "version",
        ),
        (lambda body: None, Problem.NO_KEY_FILE, None),
    ],
)
def test_a_missing_or_damaged_key_file_is_named(
    encrypted_db: tuple[Path, encryption.SetUp], damage: Any, kind: Problem, field: str | None
) -> None:
    path, _ = encrypted_db
    key_file = key_file_path(path)
    body = damage(key_file.read_text())
    if body is None:
        key_file.unlink()
    else:
        key_file.write_text(body)
    before = _fingerprint(path.parent)
    with pytest.raises(EncryptionError) as err:
        unlock(path, PASSPHRASE)
    assert err.value.kind is kind and err.value.field == field
    assert str(key_file) in str(err.value) and "Nothing was changed" in str(err.value)
    assert _fingerprint(path.parent) == before


def test_the_recovery_key_opens_the_database_without_its_key_file(
    encrypted_db: tuple[Path, encryption.SetUp],
) -> None:
    path, setup = encrypted_db
    key_file_path(path).write_text("{ damaged")
    assert unlock_with_recovery_key(path, setup.recovery_key) == setup.data_key
    engine = create_encrypted_engine(path, setup.data_key)  # e.g. the key from the keyring
    engine.dispose()
    other = DataKey(os.urandom(32))
    with pytest.raises(EncryptionError) as err:
        create_encrypted_engine(path, other)
    assert err.value.kind is Problem.DATABASE_MISMATCH
    info = restore_key_file(path, setup.recovery_key, "a passphrase chosen again", "Clinic 2")
    assert info.clinic_name == "Clinic 2" and info.kdf == DEFAULT_KDF
    assert key_file_path(path).with_name(key_file_path(path).name + ".damaged").exists()
    key = unlock(path, "a passphrase chosen again")
    assert key == setup.data_key
    engine = create_encrypted_engine(path, key)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT display_name FROM patients")).scalar() == NAME
    finally:
        engine.dispose()


def test_is_encrypted(tmp_path: Path, plain_db: Path) -> None:
    assert not is_encrypted(tmp_path / "missing.sqlite3")
    (tmp_path / "empty.sqlite3").touch()
    assert not is_encrypted(tmp_path / "empty.sqlite3")
    assert not is_encrypted(plain_db)


def test_the_default_argon2id_costs_take_well_under_half_a_second(tmp_path: Path) -> None:
    path = tmp_path / "timed.sqlite3"
    setup = create_key_file(path, PASSPHRASE, "Timed Clinic")
    assert key_file_info(path).kdf == KdfParams(memory_kib=65536, time_cost=3, parallelism=1)
    start = time.perf_counter()
    key = unlock(path, PASSPHRASE)
    seconds = time.perf_counter() - start
    print(f"unlock with the default argon2id costs (64 MiB, t=3, p=1): {seconds * 1000:.0f} ms")
    assert key == setup.data_key
    assert 0.01 < seconds < 1.0  # slow for a guesser, quick for the clinic


# --- the keyring -------------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in this test only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class BrokenKeyring(MemoryKeyring):
    """A keyring whose every call fails, as a locked or unreachable one does."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("D-Bus went away")


@pytest.fixture
def use_keyring() -> Iterator[Any]:
    previous = keyring.get_keyring()

    def use(backend: keyring.backend.KeyringBackend) -> None:
        keyring.set_keyring(backend)

    yield use
    keyring.set_keyring(previous)


def test_the_key_round_trips_through_a_keyring(use_keyring: Any) -> None:
    memory = MemoryKeyring()
    use_keyring(memory)
    key = DataKey(os.urandom(32))
    assert keyring_problem() is None
    assert key_from_keyring("db-1") is None
    assert store_in_keyring("db-1", key)
    assert key_from_keyring("db-1") == key
    assert key.raw.hex() in memory.entries.values()  # in the keyring, as the OS keeps it
    assert forget_keyring("db-1") and key_from_keyring("db-1") is None
    assert forget_keyring("db-1")  # nothing to forget is fine


def test_no_keyring_or_a_failing_one_never_raises(use_keyring: Any) -> None:
    key = DataKey(os.urandom(32))
    use_keyring(keyring.backends.fail.Keyring())
    problem = keyring_problem()
    assert problem is not None and "no keyring" in problem
    assert store_in_keyring("db-1", key) is False
    assert key_from_keyring("db-1") is None
    assert forget_keyring("db-1")
    use_keyring(BrokenKeyring())
    assert store_in_keyring("db-1", key) is False
    assert key_from_keyring("db-1") is None


def test_a_path_with_spaces_and_url_characters_is_a_path(tmp_path: Path) -> None:
    path = tmp_path / "clinic data #1?%20" / "kapdesk.sqlite3"
    path.parent.mkdir()
    setup = create_key_file(path, PASSPHRASE, "Clinic", kdf=FAST)
    engine = create_encrypted_engine(path, setup.data_key)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    engine = create_encrypted_engine(path, setup.data_key, read_only=True)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert [p.name for p in tmp_path.iterdir()] == [path.parent.name]  # nothing made elsewhere
    names = {p.name for p in path.parent.iterdir()}
    assert {"kapdesk.sqlite3", "kapdesk.sqlite3.key.json"} <= names
    assert names <= {"kapdesk.sqlite3", "kapdesk.sqlite3.key.json", *SIDECARS}
    assert is_encrypted(path)
