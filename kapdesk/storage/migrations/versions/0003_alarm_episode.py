"""Alarm episodes: one id per alarm on each of its transitions (raised ... cleared).

Adds ``alarms.episode`` (indexed with the session) and fills it in for transitions
recorded before it existed. That pairing is exact: the engine has one alarm per
(channel, condition) at a time and the recorder inserts transitions in the order the
engine made them, so, in id order, each ``raised`` opens an episode that the following
transitions of the same channel and condition belong to until its ``cleared``. (Id
order, not time order: older records could stamp a "no data" clear before its raise.)
Limit changes and audio pauses belong to no alarm and keep a null episode.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NO_EPISODE = ("limit_changed", "audio_paused")


def upgrade() -> None:
    op.add_column("alarms", sa.Column("episode", sa.String(40), nullable=True))
    op.create_index("ix_alarms_session_episode", "alarms", ["session_id", "episode"])
    alarms = sa.table(
        "alarms",
        sa.column("id", sa.Integer()),
        sa.column("session_id", sa.Integer()),
        sa.column("t", sa.Float()),
        sa.column("channel", sa.String()),
        sa.column("condition", sa.String()),
        sa.column("transition", sa.String()),
        sa.column("episode", sa.String()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            alarms.c.id,
            alarms.c.session_id,
            alarms.c.t,
            alarms.c.channel,
            alarms.c.condition,
            alarms.c.transition,
        ).order_by(alarms.c.id)
    ).all()
    open_episodes: dict[tuple[object, object, object], str] = {}
    updates: list[dict[str, object]] = []
    for row_id, session_id, t, channel, condition, transition in rows:
        if transition in NO_EPISODE:
            continue
        key = (session_id, channel, condition)
        if transition == "raised" or key not in open_episodes:
            open_episodes[key] = f"{round(t * 1000)}-r{row_id}"
        updates.append({"row_id": row_id, "ep": open_episodes[key]})
        if transition == "cleared":
            del open_episodes[key]
    if updates:
        conn.execute(
            alarms.update()
            .where(alarms.c.id == sa.bindparam("row_id"))
            .values(episode=sa.bindparam("ep")),
            updates,
        )


def downgrade() -> None:
    op.drop_index("ix_alarms_session_episode", table_name="alarms")
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("episode")
