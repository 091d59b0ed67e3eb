"""Rescue files: what the recorder could not commit when it stopped (a full disk).

Written as JSON lines, one row per line, in the first directory that takes it (the
per-user data directory, then the system's temporary directory, then home: a full disk
under the database need not be the disk of the others). The first line names the
database. For an encrypted database the rows are sealed with its key (AES-GCM,
``encryption.seal``): the file holds patient data, so it is no plainer than the
database. The next start of kapdesk on that database imports every rescue file for it
in one transaction and removes the file, so what was on screen as recorded ends up
recorded. Hand-written because it is a few lines of JSON over tables we own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession

from kapdesk.storage.encryption import engine_key, seal, unseal
from kapdesk.storage.models import AlarmRow, SessionEventRow
from kapdesk.storage.signals.writer import ReadingSamples, write_samples

log = logging.getLogger(__name__)

APP_NAME = "kapdesk"
RESCUE_PURPOSE = "rescue file"
_TABLES: dict[str, type[Any]] = {
    "readings": ReadingSamples,  # one sample a line, written back as blocks
    "session_events": SessionEventRow,
    "alarms": AlarmRow,
}


def rescue_dirs() -> list[Path]:
    """Where rescue files go, and are looked for, in order."""
    return [
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "rescue",
        Path(tempfile.gettempdir()) / f"{APP_NAME}-rescue-{os.getuid()}",
        Path.home() / f".{APP_NAME}-rescue",
    ]


def _database_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def write_rescue(engine: Engine, rows: list[tuple[type[Any], dict[str, Any]]]) -> Path | None:
    """Write ``rows`` ((table, row) in commit order) to a rescue file; its path, or None
    if no directory would take it."""
    names = {table: name for name, table in _TABLES.items()}
    body = [json.dumps({"table": names[table], "row": row}, default=str) for table, row in rows]
    header: dict[str, Any] = {"database": _database_key(engine), "written_at": time.time()}
    key = engine_key(engine)
    if key is not None:
        sealed = seal(key, RESCUE_PURPOSE, "\n".join(body).encode("utf-8"))
        header["sealed"] = True
        body = [base64.b64encode(sealed).decode("ascii")]
    text = "\n".join([json.dumps(header), *body]) + "\n"
    for directory in rescue_dirs():
        path = directory / f"unsaved-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
        tmp = path.with_suffix(".part")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            # patient data: readable by its owner only, whatever the umask
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
            return path
        except OSError as exc:  # that disk is full too, or not writable: the next one
            log.warning("cannot write a rescue file in %s: %s", directory, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return None


def import_rescued(engine: Engine) -> list[tuple[Path, int]]:
    """Import every rescue file written for this database; (file, rows) imported. A file
    that cannot be imported stays where it is, and is logged, for the next start."""
    key = _database_key(engine)
    done: list[tuple[Path, int]] = []
    for directory in rescue_dirs():
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("unsaved-*.jsonl")):
            try:
                with path.open(encoding="utf-8") as f:
                    header = json.loads(f.readline())
                    if header.get("database") != key:
                        continue
                    lines = [line for line in f if line.strip()]
                if header.get("sealed"):
                    data_key = engine_key(engine)
                    if data_key is None:
                        raise ValueError("a sealed rescue file needs the database's key")
                    opened = unseal(data_key, RESCUE_PURPOSE, base64.b64decode(lines[0]))
                    lines = opened.decode("utf-8").splitlines()
                entries = [json.loads(line) for line in lines if line.strip()]
                with OrmSession(engine) as s, s.begin():
                    write_samples(s, [e["row"] for e in entries if e["table"] == "readings"])
                    for entry in entries:
                        if entry["table"] != "readings":
                            s.add(_TABLES[entry["table"]](**entry["row"]))
            except Exception:  # never stop a start-up on a rescue file: keep it
                log.exception("rescue file %s could not be imported; it is kept", path)
                continue
            path.unlink()
            log.warning("imported %d unsaved rows from rescue file %s", len(entries), path)
            done.append((path, len(entries)))
    return done
