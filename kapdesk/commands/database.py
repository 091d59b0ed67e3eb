"""``kapdesk database``: the schema on a PostgreSQL server, as its owner keeps it.

kapdesk database migrate --database-url OWNER_URL [--grant APP_ROLE]
kapdesk database grant APP_ROLE --database-url OWNER_URL

On a clinic's server the schema belongs to an owner role that runs the migrations, and
every workstation connects as an application role that may read and append to the audit
log but never change it (``kapdesk.storage.pg_roles``, docs/postgresql.md). These run as
the owner (the server's password is the gate) and read no patient data; what they change
is written to the audit log.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kapdesk.commands._args import add_database_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "database", help="PostgreSQL schema: migrate as its owner, grant the app role"
    )
    dsub = p.add_subparsers(dest="database_command", metavar="ACTION", required=True)
    mp = dsub.add_parser("migrate", help="bring the schema up to this kapdesk (as its owner)")
    mp.add_argument("--grant", metavar="APP_ROLE", help="then grant the application role")
    gp = dsub.add_parser("grant", help="give the application role what workstations need")
    gp.add_argument("role", metavar="APP_ROLE")
    for sp in (mp, gp):
        add_database_option(sp, sub_command=True)
        sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kapdesk.domain.audit import AuditAction
    from kapdesk.storage.audit import AuditLog
    from kapdesk.storage.database import DatabaseError, current_revision, open_database
    from kapdesk.storage.journal.writer import DirectWriter
    from kapdesk.storage.pg_roles import RoleError, grant_application_role

    url = getattr(args, "database_url", None)
    try:
        engine = open_database(url)  # migrates to this kapdesk's schema (owner's rights)
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    try:
        audit = AuditLog(engine, DirectWriter(engine), workstation="command line")
        owner = engine.url.username or "database owner"
        print(f"schema at revision {current_revision(engine)}")
        role = args.role if args.database_command == "grant" else args.grant
        if role:
            if engine.dialect.name != "postgresql":
                print("kapdesk: database roles are PostgreSQL's: a SQLite file has none",
                      file=sys.stderr)  # fmt: skip
                return 2
            try:
                statements = grant_application_role(engine, role)
            except RoleError as exc:
                print(f"kapdesk: {exc}", file=sys.stderr)
                return 1
            audit.append(
                None,
                AuditAction.SETTING_CHANGED,
                f"database:role:{role}",
                detail={"granted": len(statements), "audit_log": "SELECT, INSERT"},
                user=f"db:{owner}",
            )
            print(f"{role} may read and write kapdesk's tables; the audit log only read and append")
        return 0
    finally:
        engine.dispose()
