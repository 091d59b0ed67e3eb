"""Opening the database: where it lives, how SQLite is tuned, and migrating at start-up."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url

if TYPE_CHECKING:
    from kapdesk.storage.encryption import DataKey

MIGRATIONS = Path(__file__).with_name("migrations")
APP_NAME = "kapdesk"
#: Key of the PostgreSQL advisory lock taken while migrating (any fixed 64-bit number).
MIGRATION_LOCK_ID = 0x6B617064_6D696772  # "kapdmigr"


class DatabaseError(RuntimeError):
    """The database cannot be opened or upgraded; the message says which and why."""


#: Hosts that are this machine: a server there needs no TLS (nothing crosses a network).
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
TLS_MODES = frozenset({"require", "verify-ca", "verify-full"})


def require_tls(url: str) -> None:
    """A PostgreSQL server on another machine is reached over TLS only: patient data must
    not cross the clinic's network in clear (``sslmode=verify-full`` is best: it also
    checks the server is the clinic's). A local server or a Unix socket needs none."""
    try:
        parsed = make_url(url)
    except Exception:
        return  # create_db_engine reports a bad URL
    if parsed.get_backend_name() != "postgresql":
        return
    host = (parsed.host or str(parsed.query.get("host", "") or "")).strip()
    if host.startswith("/") or host.lower() in LOCAL_HOSTS:
        return
    mode = str(parsed.query.get("sslmode", "") or "")
    if mode not in TLS_MODES:
        raise DatabaseError(
            f"the PostgreSQL server {host} is not on this machine: connect with TLS"
            " (add ?sslmode=verify-full&sslrootcert=<the clinic's CA file> to the URL;"
            f" sslmode={mode or 'not set'} is not enough)"
        )


class DatabaseLocked(DatabaseError):
    """The database is encrypted and its key is neither given nor known (keyring,
    ``KAPDESK_PASSPHRASE``): someone has to type the passphrase or the recovery key."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the database {path} is encrypted: its passphrase is needed (type it when asked,"
            " or set KAPDESK_PASSPHRASE for a script)"
        )
        self.path = path


def sqlite_file(url: str | None) -> Path | None:
    """The file of an SQLite URL (None: a server database, or an in-memory one)."""
    try:
        parsed = make_url(url or default_url(create=False))
    except Exception:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database or ""
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def _encrypted_engine(path: Path, key: DataKey | None, read_only: bool) -> Engine:
    """The engine of an encrypted SQLite file; a plain file beside a key file (an
    encryption interrupted, or asked for) is encrypted first, verified row by row."""
    from kapdesk.storage import encryption, keys

    try:
        if key is None:
            key = keys.known_key(path)
        if key is None:
            raise DatabaseLocked(path)
        if (
            not read_only
            and path.exists()
            and path.stat().st_size
            and not encryption.is_encrypted(path)
        ):
            report = encryption.migrate_plain_to_encrypted(path, key)
            logging.getLogger(__name__).info("encrypted %s: %s", path, report.describe())
        return encryption.create_encrypted_engine(path, key, read_only=read_only)
    except encryption.EncryptionError as exc:
        raise DatabaseError(str(exc)) from exc


def default_url(create: bool = True, demo: bool = False) -> str:
    """KAPDESK_DATABASE_URL, else an SQLite file in the per-user data directory
    (made unless ``create`` is false: a read-only command makes nothing). Demo mode has
    a file of its own there (``demo.sqlite3``): its patients and accounts never enter the
    clinic's database."""
    env = os.environ.get("KAPDESK_DATABASE_URL")
    if env:
        return env
    data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    if create:
        data.mkdir(parents=True, exist_ok=True)
        os.chmod(data, 0o700)  # the folder of the clinic's record: its owner's only
    return f"sqlite:///{data / ('demo.sqlite3' if demo else 'kapdesk.sqlite3')}"


def create_db_engine(url: str | None = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync, foreign keys and a busy timeout.

    A database server (PostgreSQL) gets ``pool_pre_ping``: a pooled connection that the
    server or a firewall closed while it sat idle is replaced on checkout, rather than
    failing the next write and raising a recording-failed alarm for nothing.
    """
    url = url or default_url()
    require_tls(url)
    try:
        server = make_url(url).get_backend_name() != "sqlite"
        engine = create_engine(url, future=True, pool_pre_ping=server)
    except Exception as exc:  # bad URL, missing driver
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", tune_sqlite)
    return engine


def tune_sqlite(dbapi_connection: Any, _record: Any = None) -> None:
    """The pragmas every read-write SQLite connection gets, plain or encrypted (the
    encrypted engine, ``storage/encryption.py``, calls it right after keying)."""
    # WAL lets the GUI and CLI read while the writer thread writes; FULL syncs the WAL on
    # every commit so a committed clinical event survives even a power cut (pitfalls.md).
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema in place to ``revision``; data is kept, never dropped."""
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Workstations started together would all try to create the schema; this
                # lock (held until commit) lets one migrate while the others wait, then
                # find it done. PostgreSQL's DDL is transactional, so it is all or nothing.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            elif conn.dialect.name == "sqlite":
                # Python's sqlite3 opens a transaction only before DML, so DDL (ALTER TABLE)
                # committed on its own: a kill -9 mid-migration left a new column behind with
                # the old version number, and the next start failed on "duplicate column".
                # One explicit transaction makes the upgrade all or nothing (and IMMEDIATE
                # keeps a second process starting at once from migrating alongside).
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                _clear_interrupted_creation(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as exc:
        hint = ""
        if any(s in str(exc) for s in ("permission denied", "must be owner")):
            hint = (
                " (this role may not change the schema: its owner upgrades it with"
                " `kapdesk database migrate --database-url OWNER_URL`, docs/postgresql.md)"
            )
        raise DatabaseError(f"cannot upgrade database {engine.url!r}: {exc}{hint}") from exc


def _clear_interrupted_creation(conn: Connection) -> None:
    """Finish a first creation that an older kapdesk left half-done (before migrations ran
    in one transaction, a kill -9 during the first start left some tables and no version:
    every later start failed on "table ... already exists"). Such a file has tables but no
    recorded revision; if none of them holds a row, nothing was ever recorded in it and it
    is cleared so the creation runs again. A file with rows and no revision is not ours
    to touch: it is reported.
    """
    if MigrationContext.configure(conn).get_current_revision() is not None:
        return
    tables = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).all()
    if not tables:
        return  # a new, empty file
    virtual = [name for name, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL")]
    shadow = {f"{v}_{part}" for v in virtual for part in FTS5_SHADOWS}
    ordinary = [name for name, _ in tables if name not in shadow and name not in virtual]
    for name in ordinary:
        if conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first() is not None:
            raise DatabaseError(
                f"the database has tables and rows (in {name}) but no kapdesk schema"
                " version; it was not changed"
            )
    for name in virtual:  # dropping an FTS5 table drops its shadow tables
        conn.exec_driver_sql(f'DROP TABLE "{name}"')
    for name in ordinary:
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')


#: The shadow tables SQLite's FTS5 keeps for each full-text table.
FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")


def open_database_readonly(url: str | None = None, key: DataKey | None = None) -> Engine:
    """Engine for reading an existing database at the newest revision; it never writes.

    For the read-only commands (sessions, export, journal export): an SQLite file is
    opened with ``mode=ro`` and no WAL pragma, so a misspelt path is reported rather than
    created, and a file that is refused (a newer schema) is left byte for byte. In a
    directory that cannot be written (no ``-wal``/``-shm`` can be made) the file is opened
    ``immutable``: nobody can be writing it there either. An older SQLite schema is refused
    with what to do; a server database (PostgreSQL) is migrated as at start-up.
    """
    url = url or default_url(create=False)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from exc
    path = sqlite_file(url)
    if path is not None and (key is not None or _has_key_file(path)):
        engine = _encrypted_engine(path, key, read_only=True)
    elif parsed.get_backend_name() == "sqlite":
        engine = _sqlite_readonly_engine(parsed.database or "")
    else:
        engine = create_db_engine(url)
    try:
        try:
            revision = current_revision(engine)
        except Exception as exc:
            raise DatabaseError(f"cannot read database {url!r}: {exc}") from exc
        head = head_revision()
        if revision != head:
            script = ScriptDirectory.from_config(alembic_config())
            known = {s.revision for s in script.walk_revisions()}
            if revision is not None and revision not in known:
                raise DatabaseError(
                    f"database {url!r} has schema {revision}, newer than this kapdesk"
                    f" knows ({head}); use a newer kapdesk (the file was not changed)"
                )
            if engine.dialect.name != "sqlite":
                # a server database exists whatever the command (the clinic made it); its
                # schema is brought up to date as every workstation's start-up does
                migrate(engine)
                return engine
            if revision is None:
                raise DatabaseError(f"{url!r} holds no kapdesk database")
            raise DatabaseError(
                f"database {url!r} has the older schema {revision} (this kapdesk: {head});"
                " start kapdesk once to upgrade it, then try again"
            )
    except DatabaseError:
        engine.dispose()
        raise
    return engine


def _sqlite_readonly_engine(path: str) -> Engine:
    if not path or path == ":memory:" or not Path(path).is_file():
        raise DatabaseError(f"no database at {path or '(no path)'}")
    resolved = Path(path).resolve()
    immutable = not os.access(resolved.parent, os.W_OK)
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    engine = create_engine(f"sqlite:///file:{quote(str(resolved))}?{query}&uri=true", future=True)

    def tune(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA query_only=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    event.listen(engine, "connect", tune)
    return engine


def _has_key_file(path: Path) -> bool:
    from kapdesk.storage.encryption import key_file_path

    return key_file_path(path).exists()


def open_database(url: str | None = None, key: DataKey | None = None) -> Engine:
    """Engine for ``url`` with the schema upgraded to the newest revision. An SQLite file
    with a key file beside it (or any with ``key`` given) is encrypted (SQLCipher): opened
    with ``key``, or the key known without asking (``storage.keys``), else
    ``DatabaseLocked``."""
    path = sqlite_file(url)
    if path is not None and (key is not None or _has_key_file(path)):
        engine = _encrypted_engine(path, key, read_only=False)
    else:
        engine = create_db_engine(url)
    try:
        migrate(engine)
    except DatabaseError:
        engine.dispose()  # leave no pooled server connection behind
        raise
    return engine
