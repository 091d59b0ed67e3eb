"""The application role on PostgreSQL (issue 14 point 5): the schema belongs to an owner
role that migrates it, workstations connect as an application role granted by
``kapdesk database grant``, and that role records sessions and appends to the audit log
but can neither change an audit row nor drop the trigger that guards it, nor change the
schema."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from access_support import CLINICIAN
from pg_cluster import PgServer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kapdesk.demo.script import demo_patient
from kapdesk.domain.audit import AuditAction
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import DatabaseError, create_db_engine, open_database
from kapdesk.storage.pg_roles import RoleError, audit_log_rights, grant_application_role

OWNER, APP = "kapdesk", "kapdesk_ws"


@pytest.fixture
def two_roles(pg_server: PgServer):
    """A database owned by the owner role, and a login role for the workstations."""
    name, owner_url = pg_server.create_database()
    pg_server.admin(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP}')"
        f" THEN CREATE ROLE {APP} LOGIN; END IF; END $$"
    )
    yield owner_url, pg_server.url(name, role=APP)
    pg_server.drop_database(name)
    pg_server.admin(f"DROP OWNED BY {APP}")


def _kapdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kapdesk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def test_the_application_role_records_but_cannot_touch_the_audit_log_or_schema(two_roles):
    owner_url, app_url = two_roles
    # before the owner made the schema, the app role cannot make it: said plainly
    with pytest.raises(DatabaseError, match="cannot upgrade") as refused:
        open_database(app_url)
    assert "kapdesk database migrate" in str(refused.value)
    done = _kapdesk("database", "migrate", "--grant", APP, "--database-url", owner_url)
    assert done.returncode == 0, done.stderr
    assert "only read and append" in done.stdout

    owner = create_db_engine(owner_url)
    assert audit_log_rights(owner, APP) == {"SELECT", "INSERT"}
    # a workstation works as the application role: a session recorded, the log appended
    app_engine = open_database(app_url)
    rt = Runtime.build(app_engine, actor=CLINICIAN)
    try:
        rt.controller.open(demo_patient(), "im-ketamine")
        rt.controller.start()
        rt.audit.append(CLINICIAN, AuditAction.VIEW_PATIENT, "patient:1")
        rt.recorder.flush()
        for sql in (
            "UPDATE audit_log SET \"user\" = 'eve'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "DROP TABLE audit_log",
            "CREATE TABLE mine (x int)",
            "UPDATE alembic_version SET version_num = '0001'",
        ):
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                rt.engine.begin() as conn,
            ):
                conn.execute(text(sql))
        count, broken = rt.audit.verify()
        assert broken is None and count >= 2
    finally:
        rt.shutdown()
        app_engine.dispose()
    with owner.connect() as conn:
        kinds = {k for (k,) in conn.execute(text("SELECT kind FROM session_events"))}
        granted = conn.execute(
            text("SELECT subject, \"user\" FROM audit_log WHERE subject LIKE 'database:%'")
        ).all()
    owner.dispose()
    assert "session_started" in kinds
    assert granted == [(f"database:role:{APP}", f"db:{OWNER}")]


def test_grant_refuses_the_owner_a_superuser_and_a_missing_role(two_roles):
    owner_url, _app_url = two_roles
    engine = open_database(owner_url)
    try:
        for role, says in (
            (OWNER, "owns the tables"),
            ("postgres", "superuser"),
            ("nobody_here", "no role"),
            ("Robert'); DROP TABLE audit_log;--", "lower-case letters"),
        ):
            with pytest.raises(RoleError, match=says):
                grant_application_role(engine, role)
    finally:
        engine.dispose()
