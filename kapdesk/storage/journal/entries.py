"""Journal entries: create, autosave, save as revisions, read, list, mark as read.

Every query and write here is checked by ``kapdesk.domain.access``. Autosave stores the
working text as typed, committed before it returns; ``save`` adds a revision, so earlier
saved text is never overwritten. Also the mapping from rows to ``JournalEntry``, which
search uses too (a hit is shown as the same ``EntryView`` an entry list shows).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Engine, and_, exists, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import (
    CheckIn,
    EntryState,
    EntryView,
    JournalEntry,
    JournalError,
    Revision,
    normalize_tags,
    view_of,
)
from kapdesk.storage.journal.models import (
    JournalCheckInRow,
    JournalEntryRow,
    JournalReadRow,
    JournalRevisionRow,
)
from kapdesk.storage.journal.writer import Writer, submit
from kapdesk.storage.models import PatientRow, SessionRow


class EntryNotFound(LookupError):
    """No journal entry has that id."""


@dataclass(frozen=True, slots=True)
class NewEntry:
    entry: EntryView
    patient_name: str


# -- rows -> domain -----------------------------------------------------------------------


def tags_text(tags: Sequence[str]) -> str:
    """Normalised tags as stored: space-separated."""
    return " ".join(tags)


def tags_of(row_tags: str) -> tuple[str, ...]:
    """The stored tags column back to a tuple."""
    return tuple(t for t in row_tags.split(" ") if t)


def entry_of(row: JournalEntryRow, checkin: JournalCheckInRow | None) -> JournalEntry:
    """The domain entry of a row and its check-in (an empty ``CheckIn`` if none)."""
    return JournalEntry(
        id=row.id,
        patient_id=row.patient_id,
        session_id=row.session_id,
        prompt_set=row.prompt_set,
        body=row.body,
        tags=tags_of(row.tags),
        shared=bool(row.shared),
        state=EntryState(row.state),
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        checkin=CheckIn(
            mood=checkin.mood, anxiety=checkin.anxiety, sleep=checkin.sleep, energy=checkin.energy
        )
        if checkin is not None
        else CheckIn(),
    )


def load_entry(s: OrmSession, entry_id: int) -> tuple[JournalEntryRow, JournalEntry]:
    """The row and domain entry of ``entry_id``, or ``EntryNotFound``."""
    row = s.get(JournalEntryRow, entry_id)
    if row is None:
        raise EntryNotFound(f"no journal entry {entry_id}")
    checkin = s.scalar(select(JournalCheckInRow).where(JournalCheckInRow.entry_id == entry_id))
    return row, entry_of(row, checkin)


def checkins_of(s: OrmSession, ids: list[int]) -> dict[int, JournalCheckInRow]:
    """The check-ins of these entries, by entry id (one query)."""
    if not ids:
        return {}
    rows = s.scalars(select(JournalCheckInRow).where(JournalCheckInRow.entry_id.in_(ids)))
    return {r.entry_id: r for r in rows if r.entry_id is not None}


def _write_checkin(s: OrmSession, row: JournalEntryRow, c: CheckIn, t: float) -> None:
    existing = s.scalar(select(JournalCheckInRow).where(JournalCheckInRow.entry_id == row.id))
    if c.empty:
        if existing is not None:
            s.delete(existing)
        return
    if existing is None:
        existing = JournalCheckInRow(patient_id=row.patient_id, entry_id=row.id, t=t)
        s.add(existing)
    existing.t = t
    existing.mood, existing.anxiety = c.mood, c.anxiety
    existing.sleep, existing.energy = c.sleep, c.energy


# -- entries ------------------------------------------------------------------------------


class JournalEntries:
    """Entries and their revisions, as each actor may see and change them."""

    def __init__(self, engine: Engine, writer: Writer, now: Callable[[], float]) -> None:
        self.engine = engine
        self.writer = writer
        self.now = now

    def create_entry(
        self,
        actor: Actor,
        patient_id: int,
        session_id: int | None = None,
        prompt_set: str | None = None,
        shared: bool = True,
    ) -> JournalEntry:
        access.require(access.can_write_entry(actor, patient_id), "write in this journal")
        t = self.now()

        def create(s: OrmSession) -> JournalEntry:
            if session_id is not None:
                sess = s.get(SessionRow, session_id)
                if sess is None or sess.patient_id != patient_id:
                    raise JournalError("an entry can only be linked to the patient's own session")
            row = JournalEntryRow(
                uid=str(uuid.uuid4()),
                patient_id=patient_id,
                session_id=session_id,
                prompt_set=prompt_set,
                body="",
                tags="",
                shared=shared,
                state=EntryState.DRAFT.value,
                revision=0,
                created_at=t,
                updated_at=t,
            )
            s.add(row)
            s.flush()
            return entry_of(row, None)

        return self.writer.call(create)

    def autosave(
        self,
        actor: Actor,
        entry_id: int,
        body: str,
        tags: str | Sequence[str] | None = None,
        shared: bool | None = None,
        checkin: CheckIn | None = None,
    ) -> JournalEntry:
        """Store the working state as typed, committed before returning; revisions are
        untouched (``save`` adds one), so earlier saved text is never overwritten."""
        return self.writer.call(self._autosave_fn(actor, entry_id, body, tags, shared, checkin))

    def autosave_later(
        self,
        actor: Actor,
        entry_id: int,
        body: str,
        tags: str | Sequence[str] | None = None,
        shared: bool | None = None,
        checkin: CheckIn | None = None,
    ) -> Future[JournalEntry]:
        """``autosave`` without waiting (for the GUI thread): the future resolves once the
        text is committed. Queued writes run in order, so later saves land after earlier."""
        return submit(self.writer, self._autosave_fn(actor, entry_id, body, tags, shared, checkin))

    def _autosave_fn(
        self,
        actor: Actor,
        entry_id: int,
        body: str,
        tags: str | Sequence[str] | None,
        shared: bool | None,
        checkin: CheckIn | None,
    ) -> Callable[[OrmSession], JournalEntry]:
        t = self.now()
        norm_tags = None if tags is None else normalize_tags(tags)

        def write(s: OrmSession) -> JournalEntry:
            row, entry = load_entry(s, entry_id)
            access.require(access.can_edit_entry(actor, entry), "change this entry")
            entry = entry.edited(body, t)  # validates length
            row.body = entry.body
            row.updated_at = t
            if norm_tags is not None:
                row.tags = tags_text(norm_tags)
            if shared is not None:
                row.shared = shared
            if checkin is not None:
                _write_checkin(s, row, checkin, t)
            s.flush()
            return load_entry(s, entry_id)[1]

        return write

    def link_session(self, actor: Actor, entry_id: int, session_id: int | None) -> None:
        """Say which session the entry is about (or none)."""

        def write(s: OrmSession) -> None:
            row, entry = load_entry(s, entry_id)
            access.require(access.can_edit_entry(actor, entry), "change this entry")
            if session_id is not None:
                sess = s.get(SessionRow, session_id)
                if sess is None or sess.patient_id != row.patient_id:
                    raise JournalError("an entry can only be linked to the patient's own session")
            row.session_id = session_id

        self.writer.call(write)

    def save(self, actor: Actor, entry_id: int) -> Revision | None:
        """Add a revision holding the current text, if it changed since the last one."""
        return self.writer.call(self._save_fn(actor, entry_id))

    def save_later(self, actor: Actor, entry_id: int) -> Future[Revision | None]:
        """``save`` without waiting (for the GUI thread)."""
        return submit(self.writer, self._save_fn(actor, entry_id))

    def _save_fn(self, actor: Actor, entry_id: int) -> Callable[[OrmSession], Revision | None]:
        t = self.now()

        def write(s: OrmSession) -> Revision | None:
            row, entry = load_entry(s, entry_id)
            access.require(access.can_edit_entry(actor, entry), "save this entry")
            last = s.scalar(
                select(JournalRevisionRow)
                .where(JournalRevisionRow.entry_id == entry_id)
                .order_by(JournalRevisionRow.number.desc())
                .limit(1)
            )
            last_rev = (
                None
                if last is None
                else Revision(
                    last.number, last.body, tags_of(last.tags), bool(last.shared), last.saved_at
                )
            )
            if not entry.is_changed_since(last_rev) or (last_rev is None and not entry.body):
                return None
            rev = entry.next_revision(t)
            s.add(
                JournalRevisionRow(
                    entry_id=entry_id,
                    number=rev.number,
                    body=rev.body,
                    tags=tags_text(rev.tags),
                    shared=rev.shared,
                    saved_at=t,
                )
            )
            row.revision = rev.number
            row.state = EntryState.SAVED.value
            return rev

        return write

    def entry(self, actor: Actor, entry_id: int) -> EntryView:
        """One entry as the actor may see it (``AccessDenied`` if not at all)."""
        with OrmSession(self.engine) as s:
            _row, entry = load_entry(s, entry_id)
        view = view_of(actor, entry)
        if view is None:
            raise access.AccessDenied("not allowed: see this entry")
        return view

    def working_entry(self, actor: Actor, entry_id: int) -> JournalEntry:
        """The full entry for its author (the editor reopening a draft)."""
        with OrmSession(self.engine) as s:
            _row, entry = load_entry(s, entry_id)
        access.require(access.can_edit_entry(actor, entry), "edit this entry")
        return entry

    def revisions(self, actor: Actor, entry_id: int) -> list[Revision]:
        """The entry's saved revisions, oldest first, for an actor who may read its text."""
        with OrmSession(self.engine) as s:
            _row, entry = load_entry(s, entry_id)
            access.require(access.can_read_entry_text(actor, entry), "read this entry")
            rows = s.scalars(
                select(JournalRevisionRow)
                .where(JournalRevisionRow.entry_id == entry_id)
                .order_by(JournalRevisionRow.number)
            )
            return [
                Revision(r.number, r.body, tags_of(r.tags), bool(r.shared), r.saved_at)
                for r in rows
            ]

    def entries(self, actor: Actor, patient_id: int) -> list[EntryView]:
        """A patient's journal as the actor may see it, newest first."""
        access.require(access.can_see_patient(actor, patient_id), "read this journal")
        with OrmSession(self.engine) as s:
            rows = list(
                s.scalars(
                    select(JournalEntryRow)
                    .where(JournalEntryRow.patient_id == patient_id)
                    .order_by(JournalEntryRow.created_at.desc(), JournalEntryRow.id.desc())
                )
            )
            checkins = checkins_of(s, [r.id for r in rows])
        views = [view_of(actor, entry_of(r, checkins.get(r.id))) for r in rows]
        return [v for v in views if v is not None]

    def new_entries(self, actor: Actor) -> list[NewEntry]:
        """Saved entries across patients that this reader has not opened since they last
        changed, newest first. Not-shared ones are listed too, without their text."""
        access.require(access.can_list_patients(actor), "review journals across patients")
        read = (
            select(JournalReadRow.id)
            .where(JournalReadRow.entry_id == JournalEntryRow.id)
            .where(JournalReadRow.reader == actor.who)
            .where(JournalReadRow.read_at >= JournalEntryRow.updated_at)
        )
        q = (
            select(JournalEntryRow, PatientRow.display_name)
            .join(PatientRow, PatientRow.id == JournalEntryRow.patient_id)
            .where(JournalEntryRow.revision > 0)
            .where(~exists(read))
            .order_by(JournalEntryRow.updated_at.desc())
        )
        with OrmSession(self.engine) as s:
            pairs = [(a, b) for a, b in s.execute(q)]
            checkins = checkins_of(s, [r.id for r, _ in pairs])
        out = []
        for row, name in pairs:
            view = view_of(actor, entry_of(row, checkins.get(row.id)))
            if view is not None:
                out.append(NewEntry(view, name))
        return out

    def mark_read(self, actor: Actor, entry_id: int) -> None:
        """Note that a staff reader opened the entry now (a patient's reading is not kept)."""
        t = self.now()

        def write(s: OrmSession) -> None:
            _row, entry = load_entry(s, entry_id)
            access.require(access.can_see_entry_exists(actor, entry), "see this entry")
            if not actor.is_staff:
                return
            mark = s.scalar(
                select(JournalReadRow).where(
                    and_(JournalReadRow.entry_id == entry_id, JournalReadRow.reader == actor.who)
                )
            )
            if mark is None:
                s.add(JournalReadRow(entry_id=entry_id, reader=actor.who, read_at=t))
            else:
                mark.read_at = max(t, mark.read_at)

        self.writer.call(write)
