"""SQLAlchemy 2.0 typed models.

Times are stored as epoch seconds (UTC) in double-precision columns: exact enough for
100 Hz waveforms, identical on SQLite and PostgreSQL, cheap to index and batch-insert.
Exports turn them into ISO 8601 UTC. Schema changes go through Alembic migrations in
``migrations/versions``; never change a table here without one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PatientRow(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    allergies: Mapped[str] = mapped_column(Text, default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    current_phase: Mapped[str | None] = mapped_column(String(50))
    started_at: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)
    clock_speed: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[float] = mapped_column(Float)


class SessionEventRow(Base):
    __tablename__ = "session_events"
    __table_args__ = (Index("ix_session_events_session_t", "session_id", "t"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    t: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(50))
    phase: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReadingRow(Base):
    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_session_t", "session_id", "t"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    t: Mapped[float] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    device: Mapped[str] = mapped_column(String(100), default="")
    flags: Mapped[str] = mapped_column(String(300), default="")  # sorted, comma-separated
    original_unit: Mapped[str | None] = mapped_column(String(16))


class AlarmRow(Base):
    """One alarm transition (raised, escalated, condition ended, acknowledged, cleared...)."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_session_t", "session_id", "t"),
        Index("ix_alarms_session_episode", "session_id", "episode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    t: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(20))  # physiological | technical
    priority: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(100))
    condition: Mapped[str] = mapped_column(String(50))
    transition: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    #: the alarm this transition belongs to (raised ... cleared); None for limit changes
    #: and audio pauses (migration 0003)
    episode: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the full record
