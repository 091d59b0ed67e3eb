"""PostgreSQL: the application's role may not change the audit log, even by owning it.

The trigger of migration 0005 refuses UPDATE, DELETE and TRUNCATE of ``audit_log``, but a
table's owner may drop a trigger. So on a clinic's server two roles are kept apart
(docs/postgresql.md): an *owner* role that owns the schema and runs the migrations
(``kapdesk database migrate``), and the *application* role every workstation signs in
with, granted here what kapdesk's work needs and no more: reading and writing the
clinical tables, only reading and appending the audit log, reading the schema version.
It owns nothing, so it can neither drop the trigger nor alter or drop a table.

Hand-written GRANTs because no library keeps a schema's privileges; they are plain SQL
run by the owner, and ``ALTER DEFAULT PRIVILEGES`` gives the application role the same
rights on the tables of later migrations (the audit log's are revoked again each time
this runs, which ``kapdesk database migrate --grant ROLE`` does after every upgrade).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, text

#: Tables the application role may only read and append to.
APPEND_ONLY = ("audit_log",)
#: Tables the application role may only read (the schema version is the owner's).
READ_ONLY = ("alembic_version",)
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(ValueError):
    """A role name PostgreSQL would not take as it is, or a role that does not exist."""


def _role(name: str) -> str:
    if not _ROLE.match(name):
        raise RoleError(f"role {name!r}: use lower-case letters, digits and underscores (up to 63)")
    return f'"{name}"'


def grant_application_role(engine: Engine, role: str) -> list[str]:
    """Give ``role`` (an existing login role, not the owner) what a workstation needs;
    the statements run, for the record. Run as the schema's owner."""
    quoted = _role(role)
    with engine.begin() as conn:
        _check(conn, role)
        statements = [
            f"GRANT USAGE ON SCHEMA public TO {quoted}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            f" GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
        ]
        for table in APPEND_ONLY:
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
        for table in READ_ONLY:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
        # Nobody but the owner makes objects in the schema (PostgreSQL < 15 let PUBLIC).
        statements.append(f"REVOKE CREATE ON SCHEMA public FROM {quoted}")
        statements.append("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for sql in statements:
            conn.execute(text(sql))
    return statements


def _check(conn: Connection, role: str) -> None:
    if conn.dialect.name != "postgresql":
        raise RoleError("database roles are PostgreSQL's: a SQLite file has none")
    row = conn.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if row is None:
        raise RoleError(f"no role {role!r} on this server: CREATE ROLE {role} LOGIN first")
    if row[0]:
        raise RoleError(f"role {role!r} is a superuser: it could change anything, audit log too")
    owner = conn.execute(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'")
    ).scalar()
    if owner is None:
        raise RoleError("no kapdesk schema here yet: run kapdesk database migrate first")
    if owner == role:
        raise RoleError(
            f"role {role!r} owns the tables: the application role must be another one"
            " (the owner runs the migrations; see docs/postgresql.md)"
        )


def audit_log_rights(engine: Engine, role: str) -> set[str]:
    """What ``role`` may do to the audit log (for the check in the docs and the tests)."""
    privileges = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
    with engine.connect() as conn:
        return {
            p
            for p in privileges
            if conn.execute(
                text("SELECT has_table_privilege(:r, 'audit_log', :p)"), {"r": role, "p": p}
            ).scalar()
        }
