"""Care teams: which staff members care for which patient.

Creates ``care_team`` (see ``kapdesk.storage.security_models.CareTeamRow``). A therapist
reads the shared journal entries of the patients in their care team only, so a clinic's
therapists must not lose the patients they already care for: the table is seeded with
every therapist account that opened a session for a patient (the ``by`` of its
``session_started`` event) or has read one of the patient's entries. Everyone else is
added in the patient dialog, or joins by opening a session.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SEEDED_BY = "migration 0006"


def upgrade() -> None:
    op.create_table(
        "care_team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.Column("added_by", sa.String(40), nullable=False),
        sa.UniqueConstraint("patient_id", "username"),
    )
    op.create_index("ix_care_team_patient_id", "care_team", ["patient_id"])
    op.create_index("ix_care_team_username", "care_team", ["username"])
    _seed(op.get_bind())


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _seed(conn: sa.Connection) -> None:
    therapists = {
        str(name)
        for name, roles in conn.execute(sa.text("SELECT username, roles FROM accounts"))
        if "therapist" in str(roles).split(",")
    }
    if not therapists:
        return
    pairs: set[tuple[int, str]] = set()
    started = conn.execute(
        sa.text(
            "SELECT s.patient_id, e.data FROM session_events AS e"
            " JOIN sessions AS s ON s.id = e.session_id WHERE e.kind = 'session_started'"
        )
    )
    for patient_id, data in started:
        by = _data(data).get("by")
        if isinstance(by, str) and by in therapists:
            pairs.add((int(patient_id), by))
    read = conn.execute(
        sa.text(
            "SELECT DISTINCT e.patient_id, r.reader FROM journal_entry_reads AS r"
            " JOIN journal_entries AS e ON e.id = r.entry_id"
        )
    )
    for patient_id, reader in read:
        if reader in therapists:
            pairs.add((int(patient_id), str(reader)))
    now = time.time()
    rows = [
        {"patient_id": p, "username": u, "added_at": now, "added_by": SEEDED_BY}
        for p, u in sorted(pairs)
    ]
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO care_team (patient_id, username, added_at, added_by)"
                " VALUES (:patient_id, :username, :added_at, :added_by)"
            ),
            rows,
        )


def downgrade() -> None:
    op.drop_index("ix_care_team_username", "care_team")
    op.drop_index("ix_care_team_patient_id", "care_team")
    op.drop_table("care_team")
