"""The tables of who is at the keyboard: staff accounts and the audit log (migration 0005),
the care teams (0006).

Kept apart from the clinical record's models: nothing clinical refers to them by key (an
event names its author by username, so disabling an account changes no record).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kapdesk.storage.models import Base


class AccountRow(Base):
    """One person. ``roles`` is the sorted, comma-separated role values; the password is
    only ever stored as an argon2id hash (its parameters inside it)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    roles: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class AuditRow(Base):
    """One audit entry, chained to the one before (``kapdesk.domain.audit``). ``seq`` and
    ``previous`` are unique, so two writers that read the same last entry cannot both
    append after it: the second one's insert fails and it reads again."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    t: Mapped[float] = mapped_column(Float, index=True)
    user: Mapped[str] = mapped_column(String(40), index=True)
    roles: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(300), index=True)
    outcome: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON
    workstation: Mapped[str] = mapped_column(String(100))
    previous: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class CareTeamRow(Base):
    """A staff member in a patient's care team: a therapist there reads the patient's
    shared journal entries (``kapdesk.domain.access``). Named by username, like every
    record's author, so a disabled account's membership stays readable."""

    __tablename__ = "care_team"
    __table_args__ = (UniqueConstraint("patient_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    added_at: Mapped[float] = mapped_column(Float)
    added_by: Mapped[str] = mapped_column(String(40))
