"""``kapdesk export --session ID --format json``: the canonical record of a session."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from kapdesk.commands._args import add_database_option
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        engine = open_database_readonly(getattr(args, "database_url", None))
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    try:
        if args.output:
            return write_output(Path(args.output), lambda f: write_json(engine, args.session, f))
        write_json(engine, args.session, sys.stdout)
    except SessionNotFoundError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()  # close server connections now (psycopg warns about open ones)
    return 0


def write_output(path: Path, write: Callable[[IO[str]], object]) -> int:
    """Write through ``PATH.part`` renamed at the end, so no half-written export ever sits
    under the real name; on any failure the ``.part`` is removed and the reason shown
    (exit 2), never a traceback or an empty file left behind."""
    if not path.parent.is_dir():
        print(f"kapdesk: cannot write {path}: no directory {path.parent}", file=sys.stderr)
        return 2
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            write(f)
        tmp.replace(path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            print(f"kapdesk: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        raise
    return 0
