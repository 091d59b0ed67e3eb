"""A throwaway PostgreSQL cluster for the multi-workstation storage tests.

One cluster per test run (initdb into a temp dir, trust auth, TCP on 127.0.0.1 at a free
port plus a private unix-socket dir), stopped and removed at the end. Each test gets its
own fresh database on it, owned by an ordinary (non-superuser) role as a clinic's would be,
so a migration that needs superuser rights fails here too.

Hand-written rather than pytest-postgresql: the tests run as root in CI, initdb and
pg_ctl refuse to run as root, and pytest-postgresql cannot drop to another user
(dbfixtures/pytest-postgresql#455). This runs the server as ``postgres`` when root, else
as the current user. No skips: a machine without PostgreSQL fails with what to install.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: The role the app connects as (a workstation's login), and the superuser for set-up.
APP_ROLE = "kapdesk"
ADMIN_ROLE = "postgres"
SERVER_USER = "postgres"  # the system user that runs the server when the tests run as root
INSTALL_HINT = (
    "the PostgreSQL tests need a PostgreSQL server installed (initdb, pg_ctl): on Debian/"
    "Ubuntu `apt-get install postgresql` (scripts/setup does it as root), or set "
    "KAPDESK_PG_BINDIR to the directory holding initdb and pg_ctl"
)


def find_bindir() -> Path:
    """Where initdb and pg_ctl live: KAPDESK_PG_BINDIR, Debian's layout, else PATH."""
    candidates = []
    if os.environ.get("KAPDESK_PG_BINDIR"):
        candidates.append(Path(os.environ["KAPDESK_PG_BINDIR"]))

    def version(p: str) -> float:
        try:
            return float(Path(p).parent.parent.name)
        except ValueError:
            return 0.0

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    candidates += [Path(p).parent for p in debian]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    pytest.fail(INSTALL_HINT, pytrace=False)


def require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(
            "the PostgreSQL tests need the psycopg 3 driver: pip install 'psycopg[binary]'"
            " (part of kapdesk's test extras)",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway cluster and how to make databases on it."""

    bindir: Path
    root: Path
    port: int
    run_as: list[str]  # command prefix that runs a program as the server's user
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    def url(self, database: str, role: str = APP_ROLE) -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE)."""
        import psycopg

        conninfo = f"host={self.sockets} port={self.port} user={ADMIN_ROLE} dbname={database}"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.encode())  # only our own fixed statements, never user input

    def create_database(self, app_owns: bool = True) -> tuple[str, str]:
        """A new empty database: (name, SQLAlchemy URL for the app's role). Owned by the
        app's role, or else by an administrator who granted it only what tables need."""
        name = f"kapdesk_test_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} OWNER {APP_ROLE if app_owns else ADMIN_ROLE}")
        if not app_owns:
            self.admin(f"GRANT CREATE, USAGE ON SCHEMA public TO {APP_ROLE}", database=name)
        return name, self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets}"
            # Throwaway data: skip the disk syncs that make a real server durable.
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.root / "server.log"
        done = self.pg_ctl("start", "-w", "-t", "30", "-l", str(log), "-o", options)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr}{done.stdout}\n{tail}")

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast", "-w", "-t", "30")

    def remove(self) -> None:
        """Stop the server (if running) and delete the cluster with its data."""
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def run_as_prefix() -> list[str]:
    """initdb and postgres refuse root: as root, run them as the ``postgres`` user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.fail(
            f"running as root, the PostgreSQL tests start the server as the {SERVER_USER!r}"
            f" user, which does not exist; {INSTALL_HINT}",
            pytrace=False,
        )
    return ["runuser", "-u", SERVER_USER, "--"]


def create_cluster() -> PgServer:
    """initdb a new cluster in a temp dir, start it, and add the app's login role."""
    require_driver()
    bindir = find_bindir()
    run_as = run_as_prefix()
    root = Path(tempfile.mkdtemp(prefix="kapdesk-pg-"))
    (root / "sockets").mkdir()
    if run_as:
        entry = pwd.getpwnam(SERVER_USER)
        for p in (root, root / "sockets"):
            os.chown(p, entry.pw_uid, entry.pw_gid)
    server = PgServer(bindir, root, free_port(), run_as)
    try:
        initdb = [str(bindir / "initdb"), "-D", str(server.data), "-U", ADMIN_ROLE]
        options = ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]
        done = subprocess.run(
            [*run_as, *initdb, *options], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            pytest.fail(f"initdb failed: {done.stderr or done.stdout}", pytrace=False)
        for attempt in range(3):  # the free port can be taken between probe and start
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = free_port()
        server.admin(f"CREATE ROLE {APP_ROLE} LOGIN")
    except BaseException:
        server.remove()
        raise
    return server
