"""Questionnaires (PHQ-9, GAD-7) and the safety flags their answers raise.

A response is scored by ``kapdesk.domain.questionnaires`` before anything is written, and
a safety answer is flagged in the same commit as the response, so no flag is ever lost
between the two. Reading scores and flags, and acknowledging a flag, are checked by
``kapdesk.domain.access``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import JournalError
from kapdesk.domain.questionnaires import Score, flag_message, instrument, score
from kapdesk.storage.journal.models import (
    JournalEntryRow,
    QuestionnaireResponseRow,
    SafetyFlagRow,
)
from kapdesk.storage.journal.writer import Writer
from kapdesk.storage.models import PatientRow


@dataclass(frozen=True, slots=True)
class ScorePoint:
    response_id: int
    patient_id: int
    instrument: str
    t: float
    total: int
    band: str
    flags: tuple[str, ...]
    entry_id: int | None
    session_id: int | None


@dataclass(frozen=True, slots=True)
class SafetyFlag:
    id: int
    patient_id: int
    patient_name: str
    flag: str
    message: str
    raised_at: float
    response_id: int
    acknowledged_at: float | None
    acknowledged_by: str | None


class Questionnaires:
    """Questionnaire responses, their scores over time, and the safety flags."""

    def __init__(self, engine: Engine, writer: Writer, now: Callable[[], float]) -> None:
        self.engine = engine
        self.writer = writer
        self.now = now

    def submit_questionnaire(
        self,
        actor: Actor,
        patient_id: int,
        instrument_id: str,
        answers: Sequence[Any],
        functional: int | None = None,
        entry_id: int | None = None,
        session_id: int | None = None,
    ) -> tuple[int, Score]:
        """Score and store a questionnaire; a safety answer is flagged in the same commit."""
        access.require(access.can_write_entry(actor, patient_id), "answer for this patient")
        inst = instrument(instrument_id)
        result = score(inst, answers)  # raises AnswerError before anything is written
        if functional is not None and (isinstance(functional, bool) or functional not in range(4)):
            raise JournalError("the difficulty answer must be 0-3")
        t = self.now()

        def write(s: OrmSession) -> int:
            if entry_id is not None:
                entry = s.get(JournalEntryRow, entry_id)
                if entry is None or entry.patient_id != patient_id:
                    raise JournalError("a questionnaire can only be linked to the patient's entry")
            row = QuestionnaireResponseRow(
                patient_id=patient_id,
                entry_id=entry_id,
                session_id=session_id,
                instrument=inst.id,
                answers=list(result.answers),
                total=result.total,
                band=result.band,
                flags=list(result.flags),
                functional=functional,
                completed_at=t,
            )
            s.add(row)
            s.flush()
            for flag in result.flags:
                s.add(
                    SafetyFlagRow(
                        patient_id=patient_id,
                        response_id=row.id,
                        flag=flag,
                        detail={
                            "instrument": inst.id,
                            "message": flag_message(inst, flag),
                            "answers": list(result.answers),
                            "total": result.total,
                        },
                        raised_at=t,
                    )
                )
            return row.id

        return self.writer.call(write), result

    def scores(
        self, actor: Actor, patient_id: int, instrument_id: str | None = None
    ) -> list[ScorePoint]:
        """Questionnaire results over the course of care, oldest first."""
        access.require(access.can_see_scores(actor, patient_id), "see these scores")
        q = select(QuestionnaireResponseRow).where(
            QuestionnaireResponseRow.patient_id == patient_id
        )
        if instrument_id is not None:
            q = q.where(QuestionnaireResponseRow.instrument == instrument_id)
        with OrmSession(self.engine) as s:
            rows = s.scalars(
                q.order_by(QuestionnaireResponseRow.completed_at, QuestionnaireResponseRow.id)
            )
            return [
                ScorePoint(
                    r.id,
                    r.patient_id,
                    r.instrument,
                    r.completed_at,
                    r.total,
                    r.band,
                    tuple(r.flags or ()),
                    r.entry_id,
                    r.session_id,
                )
                for r in rows
            ]

    def safety_flags(
        self, actor: Actor, open_only: bool = True, patient_id: int | None = None
    ) -> list[SafetyFlag]:
        """Safety flags, newest first: the open ones only, unless ``open_only`` is false."""
        access.require(access.can_see_safety_flags(actor), "see safety flags")
        q = select(SafetyFlagRow, PatientRow.display_name).join(
            PatientRow, PatientRow.id == SafetyFlagRow.patient_id
        )
        if open_only:
            q = q.where(SafetyFlagRow.acknowledged_at.is_(None))
        if patient_id is not None:
            q = q.where(SafetyFlagRow.patient_id == patient_id)
        with OrmSession(self.engine) as s:
            return [
                SafetyFlag(
                    f.id,
                    f.patient_id,
                    name,
                    f.flag,
                    str((f.detail or {}).get("message", f.flag)),
                    f.raised_at,
                    f.response_id,
                    f.acknowledged_at,
                    f.acknowledged_by,
                )
                for f, name in s.execute(q.order_by(SafetyFlagRow.raised_at.desc()))
            ]

    def acknowledge_flag(self, actor: Actor, flag_id: int) -> None:
        """Mark a flag as seen by this actor; acknowledging it again changes nothing."""
        access.require(access.can_acknowledge_safety_flag(actor), "acknowledge safety flags")
        t = self.now()

        def write(s: OrmSession) -> None:
            row = s.get(SafetyFlagRow, flag_id)
            if row is None:
                raise LookupError(f"no safety flag {flag_id}")
            if row.acknowledged_at is None:
                row.acknowledged_at = t
                row.acknowledged_by = actor.who

        self.writer.call(write)
