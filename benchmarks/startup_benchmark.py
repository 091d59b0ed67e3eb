"""Start-up with an encrypted database (issue 14): from the launch of kapdesk to its first
frame, i.e. the first window a person sees, the sign-in dialog, with the SQLCipher
database already opened (its key derived with argon2id from the passphrase, as every
start without a keyring does) and migrated, the runtime (recorder, alarm service)
running. Two starts are measured:

- the demo (``kapdesk --demo``, the README's command), its own encrypted database;
- a clinic workstation (``kapdesk --database-url ...`` with ``KAPDESK_PASSPHRASE``, as
  an unattended start or a remembered key would unlock it), after its first start made
  the admin account.

The app logs the moment itself ("first frame N s after start", from the process's start
time: interpreter and imports included); the process is then stopped. Times are noisy on
a shared machine, so each start runs several times; the target is held by the median.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FIRST_FRAME = re.compile(r"first frame ([0-9.]+) s after start \((\w+)\)")


def one_start(args: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Start kapdesk, wait for its first frame, stop it; (seconds, the window drawn)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kapdesk", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    try:
        for line in proc.stderr:
            found = FIRST_FRAME.search(line)
            if found:
                return float(found.group(1)), found.group(2)
            if time.monotonic() > deadline:
                break
        raise RuntimeError("kapdesk drew no first frame")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _clinic_database(workdir: Path) -> tuple[str, dict[str, str]]:
    """A clinic's encrypted database with its admin account, as a first start leaves it."""
    from kapdesk.domain.access import Role
    from kapdesk.storage.accounts import AccountStore
    from kapdesk.storage.audit import AuditLog
    from kapdesk.storage.database import open_database
    from kapdesk.storage.encryption import create_key_file
    from kapdesk.storage.journal.writer import DirectWriter

    db = workdir / "startup-clinic.sqlite3"
    passphrase = "benchmark clinic passphrase"
    key = create_key_file(db, passphrase, "Benchmark Clinic").data_key
    engine = open_database(f"sqlite:///{db}", key)
    writer = DirectWriter(engine)
    AccountStore(engine, writer, AuditLog(engine, writer)).create(
        None, "admin", "Admin", {Role.ADMIN}, "benchmark admin 1"
    )
    engine.dispose()
    return f"sqlite:///{db}", {"KAPDESK_PASSPHRASE": passphrase}


def measure_startup(workdir: Path, runs: int = 5) -> dict[str, Any]:
    demo = ["--demo", "--database-url", f"sqlite:///{workdir / 'startup-demo.sqlite3'}"]
    first, window = one_start(demo)  # makes the demo's key file and accounts
    demo_s = [one_start(demo)[0] for _ in range(runs)]
    url, env = _clinic_database(workdir)
    clinic_s = [one_start(["--database-url", url], env)[0] for _ in range(runs)]
    both = demo_s + clinic_s
    return {
        "encrypted": True,
        "first_window": window,
        "demo_first_start_s": round(first, 3),
        "demo_s": [round(x, 3) for x in demo_s],
        "clinic_s": [round(x, 3) for x in clinic_s],
        "median_s": round(statistics.median(both), 3),
        "max_s": round(max(both), 3),
    }
