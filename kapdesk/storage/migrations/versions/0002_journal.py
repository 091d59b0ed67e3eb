"""The integration journal: entries, revisions, check-ins, questionnaires, safety flags,
reads, settings, and full-text search over entries.

On SQLite the search index is an FTS5 table with external content (the text lives once, in
``journal_entries``) kept in step by triggers; on PostgreSQL it is a GIN expression index
on ``to_tsvector('kapdesk_search', body || ' ' || tags)``, which the store's query matches.
``kapdesk_search`` is PostgreSQL's ``simple`` configuration plus the ``unaccent``
dictionary, so "cafe" finds "café" as FTS5's ``remove_diacritics`` does; where the server
cannot provide ``unaccent`` (not installed, or not permitted) it is plain ``simple``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger(__name__)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE journal_entries_fts USING fts5("
    " body, tags, content='journal_entries', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER journal_entries_fts_ai AFTER INSERT ON journal_entries BEGIN"
    " INSERT INTO journal_entries_fts(rowid, body, tags) VALUES (new.id, new.body, new.tags);"
    " END",
    "CREATE TRIGGER journal_entries_fts_ad AFTER DELETE ON journal_entries BEGIN"
    " INSERT INTO journal_entries_fts(journal_entries_fts, rowid, body, tags)"
    " VALUES ('delete', old.id, old.body, old.tags);"
    " END",
    "CREATE TRIGGER journal_entries_fts_au AFTER UPDATE OF body, tags ON journal_entries BEGIN"
    " INSERT INTO journal_entries_fts(journal_entries_fts, rowid, body, tags)"
    " VALUES ('delete', old.id, old.body, old.tags);"
    " INSERT INTO journal_entries_fts(rowid, body, tags) VALUES (new.id, new.body, new.tags);"
    " END",
]

POSTGRES_SEARCH_CONFIG = "kapdesk_search"
POSTGRES_UNACCENT = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # Only the token types that can hold non-ASCII letters need unaccent (the docs' recipe).
    f"ALTER TEXT SEARCH CONFIGURATION {POSTGRES_SEARCH_CONFIG}"
    " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
]
POSTGRES_FTS = [
    "CREATE INDEX ix_journal_entries_fts ON journal_entries USING gin"
    f" (to_tsvector('{POSTGRES_SEARCH_CONFIG}',"
    " coalesce(body, '') || ' ' || coalesce(tags, '')))",
]


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id"), nullable=True),
        sa.Column("prompt_set", sa.String(50), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_journal_entries_patient_updated", "journal_entries", ["patient_id", "updated_at"]
    )
    op.create_table(
        "journal_entry_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("saved_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("entry_id", "number", name="uq_journal_revision_number"),
    )
    op.create_table(
        "journal_checkins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column(
            "entry_id",
            sa.Integer(),
            sa.ForeignKey("journal_entries.id"),
            nullable=True,
            unique=True,
        ),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=True),
        sa.Column("anxiety", sa.Integer(), nullable=True),
        sa.Column("sleep", sa.Integer(), nullable=True),
        sa.Column("energy", sa.Integer(), nullable=True),
    )
    op.create_index("ix_journal_checkins_patient_id", "journal_checkins", ["patient_id"])
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id"), nullable=True),
        sa.Column("instrument", sa.String(20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(30), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("functional", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_questionnaire_patient_t", "questionnaire_responses", ["patient_id", "completed_at"]
    )
    op.create_table(
        "journal_safety_flags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column(
            "response_id",
            sa.Integer(),
            sa.ForeignKey("questionnaire_responses.id"),
            nullable=False,
        ),
        sa.Column("flag", sa.String(50), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.Float(), nullable=False),
        sa.Column("acknowledged_at", sa.Float(), nullable=True),
        sa.Column("acknowledged_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_journal_safety_flags_patient_id", "journal_safety_flags", ["patient_id"])
    op.create_table(
        "journal_entry_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("reader", sa.String(100), nullable=False),
        sa.Column("read_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("entry_id", "reader", name="uq_journal_read"),
    )
    op.create_table(
        "journal_settings",
        sa.Column("key", sa.String(50), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else []:
        op.execute(statement)
    if dialect == "postgresql":
        _create_postgres_search()


def _create_postgres_search() -> None:
    """The search configuration (with unaccent if the server allows) and the index."""
    bind = op.get_bind()
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {POSTGRES_SEARCH_CONFIG} (COPY = simple)")
    available = bind.exec_driver_sql(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'"
    ).scalar()
    if available:
        try:
            with bind.begin_nested():  # a refused CREATE EXTENSION must not abort the rest
                for statement in POSTGRES_UNACCENT:
                    bind.exec_driver_sql(statement)
        except sa.exc.DBAPIError as exc:
            log.warning("journal search without unaccent (accents must match): %s", exc)
    else:
        log.warning("journal search without unaccent: the server lacks the extension")
    for statement in POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS journal_entries_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS journal_entries_fts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_journal_entries_fts")
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {POSTGRES_SEARCH_CONFIG}")
    for table in (
        "journal_settings",
        "journal_entry_reads",
        "journal_safety_flags",
        "questionnaire_responses",
        "journal_checkins",
        "journal_entry_revisions",
        "journal_entries",
    ):
        op.drop_table(table)
