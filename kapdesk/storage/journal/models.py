"""Tables of the integration journal (migration ``0002_journal``).

They share ``Base`` with the clinical record so one metadata describes the database. The
full-text index (SQLite FTS5 table ``journal_entries_fts``, or a tsvector expression index
on PostgreSQL) is made by the migration only: it is not a mapped table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kapdesk.storage.models import Base


class JournalEntryRow(Base):
    """An entry's working text (saved as the patient types) and what it is about."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_patient_updated", "patient_id", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    prompt_set: Mapped[str | None] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")  # normalised tags, space-separated
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class JournalRevisionRow(Base):
    """A saved state of an entry; rows are only ever added."""

    __tablename__ = "journal_entry_revisions"
    __table_args__ = (UniqueConstraint("entry_id", "number", name="uq_journal_revision_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean)
    saved_at: Mapped[float] = mapped_column(Float)


class JournalCheckInRow(Base):
    """Mood, anxiety, sleep, energy (0..10 each, or not answered)."""

    __tablename__ = "journal_checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    t: Mapped[float] = mapped_column(Float)
    mood: Mapped[int | None] = mapped_column(Integer)
    anxiety: Mapped[int | None] = mapped_column(Integer)
    sleep: Mapped[int | None] = mapped_column(Integer)
    energy: Mapped[int | None] = mapped_column(Integer)


class QuestionnaireResponseRow(Base):
    """A completed PHQ-9 or GAD-7: the answers as given and the score they make."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (Index("ix_questionnaire_patient_t", "patient_id", "completed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    instrument: Mapped[str] = mapped_column(String(20))
    answers: Mapped[list[int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(30))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    functional: Mapped[int | None] = mapped_column(Integer)  # the unscored difficulty item
    completed_at: Mapped[float] = mapped_column(Float)


class SafetyFlagRow(Base):
    """A safety answer (PHQ-9 item 9 > 0) waiting for, or given, a therapist's attention."""

    __tablename__ = "journal_safety_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_responses.id"))
    flag: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[float] = mapped_column(Float)
    acknowledged_at: Mapped[float | None] = mapped_column(Float)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))


class JournalReadRow(Base):
    """When a staff reader last opened an entry: what makes an entry 'new' to them."""

    __tablename__ = "journal_entry_reads"
    __table_args__ = (UniqueConstraint("entry_id", "reader", name="uq_journal_read"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    reader: Mapped[str] = mapped_column(String(100))
    read_at: Mapped[float] = mapped_column(Float)


class JournalSettingRow(Base):
    """Journal settings kept with the data, e.g. the staff PIN hash (never the PIN)."""

    __tablename__ = "journal_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Float)
