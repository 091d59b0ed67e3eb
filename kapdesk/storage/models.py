"""SQLAlchemy 2.0 typed models.

Times are stored as epoch seconds (UTC) in double-precision columns: exact enough for
100 Hz waveforms, identical on SQLite and PostgreSQL, cheap to index and batch-insert.
Exports turn them into ISO 8601 UTC. Schema changes go through Alembic migrations in
``migrations/versions``; never change a table here without one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
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


class DeviceRow(Base):
    """A monitor's name, stored once (blocks refer to it by id)."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class ChannelRow(Base):
    """A channel in one unit (and the unit the device reported it in, "" when the same),
    stored once (blocks refer to it by id)."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("name", "unit", "original_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    original_unit: Mapped[str] = mapped_column(String(16), default="")


class ReadingBlockRow(Base):
    """Consecutive samples of one channel from one device (``storage/signals/codec.py``):
    a waveform's second, a minute of a 1 Hz vital, or a single blood pressure.
    ``t0``/``t1``: the earliest and latest sample time, for time-ordered reads."""

    __tablename__ = "reading_blocks"
    __table_args__ = (Index("ix_reading_blocks_session_t0", "session_id", "t0"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    t0: Mapped[float] = mapped_column(Float)
    t1: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReadingMinuteRow(Base):
    """One channel's minute of one session: how many samples, and the lowest, highest
    and summed measured values (flagged and non-finite values left out), so a
    whole-session trend reads a row per minute and its peaks survive."""

    __tablename__ = "reading_minutes"
    __table_args__ = (Index("ix_reading_minutes_session", "session_id", "channel_id", "minute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    minute: Mapped[int] = mapped_column(Integer)  # epoch seconds // 60
    n: Mapped[int] = mapped_column(Integer)  # every sample, measured or not
    measured: Mapped[int] = mapped_column(Integer)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float, default=0.0)


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
