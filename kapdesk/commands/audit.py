"""``kapdesk audit``: check the audit log's chain, and read it (the clinic admin).

kapdesk audit verify     (exit 0: every link holds; 1: names the first broken entry)
kapdesk audit list [--who USERNAME] [--action ACTION] [--patient ID] [--days N]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from kapdesk.commands._args import add_database_option
from kapdesk.commands._sign_in import add_user_option, sign_in
from kapdesk.domain import access
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.clock import iso_utc
from kapdesk.storage.audit import AuditFilter
from kapdesk.storage.database import DatabaseError, open_database_readonly


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit log: verify, list")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    vp = asub.add_parser("verify", help="recompute the hash chain; name the first broken link")
    lp = asub.add_parser("list", help="entries, newest first, filtered")
    lp.add_argument("--who", metavar="USERNAME", default="")
    lp.add_argument("--action", choices=[a.value for a in AuditAction], default="")
    lp.add_argument("--patient", type=int, metavar="ID")
    lp.add_argument("--days", type=int, default=0, metavar="N", help="only the last N days")
    for sp in (vp, lp):
        add_database_option(sp, sub_command=True)
        add_user_option(sp)
        sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = getattr(args, "database_url", None)
    try:
        open_database_readonly(url).dispose()  # an existing database at today's schema
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    user = sign_in(args, access.can_review_audit, "reviewing the audit log", url=url)
    if user is None:
        return 2
    try:
        audit = user.audit
        if args.audit_command == "verify":
            count, broken = audit.verify()
            user.record(
                AuditAction.AUDIT_REVIEWED, "audit:verify", entries=count, intact=broken is None
            )
            if broken is not None:
                print(f"kapdesk: {broken}", file=sys.stderr)
                return 1
            print(f"audit log intact: {count} entries, every link holds")
            return 0
        f = AuditFilter(
            user=args.who,
            action=args.action,
            subject=f"patient:{args.patient}" if args.patient is not None else "",
            since=time.time() - args.days * 86400 if args.days else None,
        )
        user.record(AuditAction.AUDIT_REVIEWED, "audit:list")
        for e in audit.search(f):
            print(
                f"{e.seq:>6}  {iso_utc(e.t)}  {e.user or '-':<16} {e.action:<22}"
                f" {e.subject:<28} {e.outcome}  [{e.workstation}]"
            )
        return 0
    finally:
        user.close()
