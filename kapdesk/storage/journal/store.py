"""``JournalStore``: the one object the journal's windows, commands and demo talk to.

It holds one part per concern and forwards each method to the part that owns it, with
that part's queries and ``kapdesk.domain.access`` checks: patients and sessions
(``patients.py``), entries and revisions (``entries.py``), full-text search
(``search.py``), questionnaires and safety flags (``questionnaires.py``) and the staff PIN
hash (``staff_pin.py``). All of them write through the same ``Writer`` (``writer.py``)
and stamp times from the same clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.access import Actor
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.journal import CheckIn, EntryView, JournalEntry, Revision
from kapdesk.domain.questionnaires import Score
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.journal.entries import JournalEntries, NewEntry
from kapdesk.storage.journal.models import JournalEntryRow
from kapdesk.storage.journal.patients import JournalPatients, SessionContext
from kapdesk.storage.journal.questionnaires import Questionnaires, SafetyFlag, ScorePoint
from kapdesk.storage.journal.search import JournalSearch, SearchHit
from kapdesk.storage.journal.staff_pin import StaffPinHash
from kapdesk.storage.journal.writer import DirectWriter, Writer


class JournalStore:
    """The journal's data, as each actor is allowed to see and change it."""

    def __init__(
        self,
        engine: Engine,
        writer: Writer | None = None,
        now: Callable[[], float] = time.time,
        audit: AuditLog | None = None,
    ) -> None:
        """``audit``: where staff reading a journal or an entry is recorded (the app's
        log; a patient reading their own journal is not an access to audit)."""
        self._engine = engine
        self._audit = audit
        self._writer: Writer = writer if writer is not None else DirectWriter(engine)
        self._now = now
        # The parts are given the engine, writer and clock once, so these three are
        # read-only here: replacing one on the store would not reach the parts.
        self._patients = JournalPatients(engine)
        self._entries = JournalEntries(engine, self._writer, now)
        self._search = JournalSearch(engine)
        self._questionnaires = Questionnaires(engine, self._writer, now)
        self._staff_pin = StaffPinHash(engine, self._writer, now)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def writer(self) -> Writer:
        return self._writer

    @property
    def now(self) -> Callable[[], float]:
        return self._now

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # -- patients and sessions (patients.py) ----------------------------------------------

    def patients(self, actor: Actor) -> list[tuple[int, str]]:
        return self._patients.patients(actor)

    def patient_name(self, actor: Actor, patient_id: int) -> str:
        return self._patients.patient_name(actor, patient_id)

    def sessions(self, actor: Actor, patient_id: int) -> list[tuple[int, float | None, str]]:
        return self._patients.sessions(actor, patient_id)

    def session_context(self, actor: Actor, session_id: int) -> SessionContext:
        return self._patients.session_context(actor, session_id)

    # -- entries (entries.py) -------------------------------------------------------------

    def create_entry(
        self,
        actor: Actor,
        patient_id: int,
        session_id: int | None = None,
        prompt_set: str | None = None,
        shared: bool = True,
    ) -> JournalEntry:
        return self._entries.create_entry(actor, patient_id, session_id, prompt_set, shared)

    def autosave(
        self,
        actor: Actor,
        entry_id: int,
        body: str,
        tags: str | Sequence[str] | None = None,
        shared: bool | None = None,
        checkin: CheckIn | None = None,
    ) -> JournalEntry:
        return self._entries.autosave(actor, entry_id, body, tags, shared, checkin)

    def autosave_later(
        self,
        actor: Actor,
        entry_id: int,
        body: str,
        tags: str | Sequence[str] | None = None,
        shared: bool | None = None,
        checkin: CheckIn | None = None,
    ) -> Future[JournalEntry]:
        return self._entries.autosave_later(actor, entry_id, body, tags, shared, checkin)

    def link_session(self, actor: Actor, entry_id: int, session_id: int | None) -> None:
        self._entries.link_session(actor, entry_id, session_id)

    def save(self, actor: Actor, entry_id: int) -> Revision | None:
        return self._entries.save(actor, entry_id)

    def save_later(self, actor: Actor, entry_id: int) -> Future[Revision | None]:
        return self._entries.save_later(actor, entry_id)

    def entry(self, actor: Actor, entry_id: int) -> EntryView:
        view = self._entries.entry(actor, entry_id)
        self._audited(actor, AuditAction.VIEW_ENTRY, f"patient:{view.patient_id}/entry:{entry_id}")
        return view

    def _audited(self, actor: Actor, action: AuditAction, subject: str) -> None:
        if self._audit is not None and actor.is_staff:
            self._audit.append(actor, action, subject)

    def working_entry(self, actor: Actor, entry_id: int) -> JournalEntry:
        return self._entries.working_entry(actor, entry_id)

    def revisions(self, actor: Actor, entry_id: int) -> list[Revision]:
        return self._entries.revisions(actor, entry_id)

    def entries(self, actor: Actor, patient_id: int) -> list[EntryView]:
        views = self._entries.entries(actor, patient_id)
        self._audited(actor, AuditAction.VIEW_JOURNAL, f"patient:{patient_id}/journal")
        return views

    def new_entries(self, actor: Actor) -> list[NewEntry]:
        return self._entries.new_entries(actor)

    def mark_read(self, actor: Actor, entry_id: int) -> None:
        self._entries.mark_read(actor, entry_id)

    # -- search (search.py) ---------------------------------------------------------------

    def search(
        self, actor: Actor, query: str, patient_id: int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        return self._search.search(actor, query, patient_id, limit)

    # -- questionnaires and safety flags (questionnaires.py) ------------------------------

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
        return self._questionnaires.submit_questionnaire(
            actor, patient_id, instrument_id, answers, functional, entry_id, session_id
        )

    def scores(
        self, actor: Actor, patient_id: int, instrument_id: str | None = None
    ) -> list[ScorePoint]:
        return self._questionnaires.scores(actor, patient_id, instrument_id)

    def safety_flags(
        self, actor: Actor, open_only: bool = True, patient_id: int | None = None
    ) -> list[SafetyFlag]:
        return self._questionnaires.safety_flags(actor, open_only, patient_id)

    def acknowledge_flag(self, actor: Actor, flag_id: int) -> None:
        self._questionnaires.acknowledge_flag(actor, flag_id)

    # -- the staff PIN, hash only (staff_pin.py) ------------------------------------------

    def staff_pin_hash(self) -> str | None:
        return self._staff_pin.get()

    def set_staff_pin_hash(self, pin_hash: str) -> None:
        self._staff_pin.set(pin_hash)


def count_entries(engine: Engine, patient_id: int | None = None) -> int:
    """How many entries exist (for tests and status lines; says nothing of their text)."""
    q = select(func.count()).select_from(JournalEntryRow)
    if patient_id is not None:
        q = q.where(JournalEntryRow.patient_id == bindparam("pid", patient_id))
    with OrmSession(engine) as s:
        return int(s.scalar(q) or 0)
