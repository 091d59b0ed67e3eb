"""``kapdesk sessions list``: the sessions on record."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kapdesk.commands._args import add_database_option
from kapdesk.commands._sign_in import add_user_option, sign_in
from kapdesk.domain.access import can_see_patient_records
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.clock import iso_utc
from kapdesk.storage.database import DatabaseError, open_database_readonly
from kapdesk.storage.records import list_sessions


def register(sub: Any) -> None:
    p = sub.add_parser("sessions", help="list recorded sessions")
    ssub = p.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    lp = ssub.add_parser("list", help="one line per session: id, patient, start, state")
    lp.add_argument("--json", action="store_true", help="one JSON object per line")
    add_database_option(lp, sub_command=True)
    add_user_option(lp)
    lp.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    try:
        engine = open_database_readonly(getattr(args, "database_url", None))
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    user = sign_in(args, can_see_patient_records, "listing sessions (patient names)")
    if user is None:
        engine.dispose()
        return 2
    try:
        rows = list_sessions(engine)
        user.record(AuditAction.VIEW_SESSION, "sessions", listed=len(rows))
    finally:
        engine.dispose()  # close server connections now (psycopg warns about open ones)
        user.close()
    if args.json:
        for r in rows:
            print(
                json.dumps(
                    {
                        "id": r.id,
                        "patient": r.patient,
                        "protocol": r.protocol,
                        "started_at": iso_utc(r.started_at) if r.started_at else None,
                        "state": r.state,
                        "phase": r.phase,
                        "readings": r.readings,
                    }
                )
            )
        return 0
    if not rows:
        print("no sessions recorded")
        return 0
    print(f"{'ID':>4}  {'PATIENT':<24} {'STARTED (UTC)':<20} {'STATE':<12} {'PHASE':<12} READINGS")
    for r in rows:
        started = iso_utc(r.started_at)[:19].replace("T", " ") if r.started_at else "-"
        print(
            f"{r.id:>4}  {r.patient[:24]:<24} {started:<20} {r.state:<12} "
            f"{(r.phase or '-'):<12} {r.readings}"
        )
    return 0
