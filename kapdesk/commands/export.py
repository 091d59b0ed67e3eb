"""``kapdesk export --session ID --format json``: the canonical record of a session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kapdesk.storage.database import DatabaseError, open_database
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
    p.add_argument("--database-url", metavar="URL", default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        engine = open_database(getattr(args, "database_url", None))
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    try:
        if args.output:
            tmp = Path(args.output + ".part")
            with tmp.open("w", encoding="utf-8") as f:
                write_json(engine, args.session, f)
            tmp.replace(args.output)  # never leave a half-written export under the real name
        else:
            write_json(engine, args.session, sys.stdout)
    except SessionNotFoundError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()  # close server connections now (psycopg warns about open ones)
    return 0
