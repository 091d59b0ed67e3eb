"""``kapdesk export --session ID --format json``: the canonical record of a session."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from kapdesk.commands._args import add_database_option
from kapdesk.commands._sign_in import add_user_option, sign_in
from kapdesk.domain.access import can_export_session
from kapdesk.domain.audit import AuditAction
from kapdesk.storage.database import DatabaseError, open_database_readonly
from kapdesk.storage.export import SessionNotFoundError, write_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write a session's record (see docs/session-record.md)",
        description="Write the canonical record of a session: patient reference, phases,"
        " events, every reading and alarms, times in ISO 8601 UTC.",
    )
    p.add_argument("--session", type=int, required=True, metavar="ID")
    p.add_argument("--format", choices=["json"], default="json")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    add_database_option(p, sub_command=True)
    add_user_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        engine = open_database_readonly(getattr(args, "database_url", None))
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    user = sign_in(args, can_export_session, "exporting a session's record")
    if user is None:
        engine.dispose()
        return 2
    target = str(Path(args.output).resolve()) if args.output else "stdout"
    try:
        if args.output:
            status = write_output(Path(args.output), lambda f: write_json(engine, args.session, f))
        else:
            write_json(engine, args.session, sys.stdout)
            status = 0
    except SessionNotFoundError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        user.record(AuditAction.EXPORT, f"session:{args.session}", to=target, outcome="not found")
        return 2
    finally:
        engine.dispose()  # close server connections now (psycopg warns about open ones)
    user.record(
        AuditAction.EXPORT, f"session:{args.session}", to=target, format="json", written=status == 0
    )
    user.close()
    return status


def write_output(path: Path, write: Callable[[IO[str]], object]) -> int:
    """Write through ``PATH.part`` renamed at the end, so no half-written export ever sits
    under the real name; on any failure the ``.part`` is removed and the reason shown
    (exit 2), never a traceback or an empty file left behind."""
    if not path.parent.is_dir():
        print(f"kapdesk: cannot write {path}: no directory {path.parent}", file=sys.stderr)
        return 2
    tmp = path.with_name(path.name + ".part")
    try:
        # readable by its owner only: an export holds patient data (os.open, not open(),
        # so the file never exists with wider permissions, whatever the umask)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an old .part left with other permissions
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            write(f)
        tmp.replace(path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            print(f"kapdesk: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        raise
    return 0
