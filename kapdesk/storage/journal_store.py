"""Journal queries and writes, every one of them checked by ``kapdesk.domain.access``.

Writes go through the app's single writer (``Recorder.call``: run on the writer thread,
committed before it returns, so an autosave that returned is on disk). Reads use their
own short sessions. Full-text search treats what the user typed as data: it is cut into
words and each word is quoted for FTS5 (or as a lexeme for PostgreSQL's ``to_tsquery``),
so no operator, quote or column filter the user types can change the query, and a
therapist's search only ever looks inside entries the patient shared.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, TextClause, and_, bindparam, exists, func, or_, select, text
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
    TimelineItem,
    normalize_tags,
    patient_timeline,
    session_intention,
    view_of,
)
from kapdesk.domain.questionnaires import Score, flag_message, instrument, score
from kapdesk.storage.journal_models import (
    JournalCheckInRow,
    JournalEntryRow,
    JournalReadRow,
    JournalRevisionRow,
    JournalSettingRow,
    QuestionnaireResponseRow,
    SafetyFlagRow,
)
from kapdesk.storage.models import PatientRow, SessionEventRow, SessionRow

T = TypeVar("T")

#: Search terms beyond these are ignored: a pasted page is not a query.
MAX_SEARCH_TERMS = 16
MAX_SEARCH_CHARS = 500
#: Marks around matched words in a snippet; control characters no one types, so the UI can
#: escape the text first and then turn only these into highlighting.
HIT_START, HIT_END = "\x02", "\x03"
STAFF_PIN_KEY = "staff_pin_hash"
#: PostgreSQL text search configuration made by migration 0002 (``simple`` + unaccent).
POSTGRES_SEARCH_CONFIG = "kapdesk_search"


class Writer(Protocol):
    """What the store needs of the recorder: run ``fn(orm_session)`` and commit."""

    def call(self, fn: Callable[[OrmSession], T], timeout: float = 30.0) -> T: ...


class DirectWriter:
    """A writer for tools that run without the app (CLI, tests of the store alone): one
    committed transaction per call, on the caller's thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def call(self, fn: Callable[[OrmSession], T], timeout: float = 30.0) -> T:
        with OrmSession(self.engine, expire_on_commit=False) as s, s.begin():
            return fn(s)


class EntryNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class SearchHit:
    entry: EntryView
    patient_name: str
    snippet: str  # matched words between HIT_START and HIT_END


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


@dataclass(frozen=True, slots=True)
class SessionContext:
    """The session beside an entry: what the patient may see of it."""

    session_id: int
    patient_id: int
    protocol: str
    started_at: float | None
    intention: str | None
    timeline: tuple[TimelineItem, ...]


@dataclass(frozen=True, slots=True)
class NewEntry:
    entry: EntryView
    patient_name: str


_WORD = re.compile(r"\w+")


def fts5_match(query: str) -> str | None:
    """An FTS5 MATCH expression that finds entries holding every word of ``query``.

    Each word becomes a double-quoted string (FTS5's literal), so ``OR``, ``NEAR(``, ``*``,
    ``-``, ``:`` column filters and unbalanced quotes are just text. Words of three or more
    characters also match as prefixes ("grat" finds "gratitude"). No words, no query:
    the caller returns nothing rather than everything.
    """
    words = _WORD.findall(query[:MAX_SEARCH_CHARS])[:MAX_SEARCH_TERMS]
    if not words:
        return None
    # \w never matches '"', but quoting by doubling keeps this safe if the pattern changes.
    terms = ['"' + w.replace('"', '""') + '"' + ("*" if len(w) >= 3 else "") for w in words]
    return " AND ".join(terms)


def pg_tsquery(query: str) -> str | None:
    """A PostgreSQL ``to_tsquery`` text that finds entries holding every word of ``query``.

    The same rules as ``fts5_match``: each word is a quoted lexeme (so ``|``, ``!``,
    ``<->``, ``:*`` and quotes typed by the user are just text), joined by ``&``; words of
    three or more characters also match as prefixes, which ``plainto_tsquery`` cannot do.
    No words, no query.
    """
    words = _WORD.findall(query[:MAX_SEARCH_CHARS])[:MAX_SEARCH_TERMS]
    if not words:
        return None
    # \w never matches a quote or backslash; escaping them keeps this safe if it changes.
    quoted = ["'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in words]
    return " & ".join(q + (":*" if len(w) >= 3 else "") for q, w in zip(quoted, words, strict=True))


def _tags_text(tags: Sequence[str]) -> str:
    return " ".join(tags)


def _tags_of(row_tags: str) -> tuple[str, ...]:
    return tuple(t for t in row_tags.split(" ") if t)


def _entry(row: JournalEntryRow, checkin: JournalCheckInRow | None) -> JournalEntry:
    return JournalEntry(
        id=row.id,
        patient_id=row.patient_id,
        session_id=row.session_id,
        prompt_set=row.prompt_set,
        body=row.body,
        tags=_tags_of(row.tags),
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


class JournalStore:
    """The journal's data, as each actor is allowed to see and change it."""

    def __init__(
        self, engine: Engine, writer: Writer | None = None, now: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.writer: Writer = writer if writer is not None else DirectWriter(engine)
        self.now = now

    @classmethod
    def for_runtime(cls, runtime: Any) -> JournalStore:
        """The store wired to a ``Runtime``: its recorder writes, its clock stamps."""
        return cls(runtime.engine, runtime.recorder, runtime.clock.now)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- patients and sessions ------------------------------------------------------------

    def patients(self, actor: Actor) -> list[tuple[int, str]]:
        """(id, display name) of every patient the actor may see."""
        with OrmSession(self.engine) as s:
            rows = s.execute(select(PatientRow.id, PatientRow.display_name).order_by(PatientRow.id))
            return [(pid, name) for pid, name in rows if access.can_see_patient(actor, pid)]

    def patient_name(self, actor: Actor, patient_id: int) -> str:
        access.require(access.can_see_patient(actor, patient_id), "see this patient")
        with OrmSession(self.engine) as s:
            row = s.get(PatientRow, patient_id)
            if row is None:
                raise LookupError(f"no patient with id {patient_id}")
            return row.display_name

    def sessions(self, actor: Actor, patient_id: int) -> list[tuple[int, float | None, str]]:
        """(id, started_at, protocol) of the patient's sessions, newest first."""
        access.require(access.can_see_patient(actor, patient_id), "see this patient's sessions")
        with OrmSession(self.engine) as s:
            rows = s.execute(
                select(SessionRow.id, SessionRow.started_at, SessionRow.protocol)
                .where(SessionRow.patient_id == patient_id)
                .order_by(SessionRow.id.desc())
            )
            return [(i, t, p) for i, t, p in rows]

    def session_context(self, actor: Actor, session_id: int) -> SessionContext:
        """Intention and the patient-facing timeline of a session the actor may see."""
        with OrmSession(self.engine) as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                raise LookupError(f"no session with id {session_id}")
            access.require(access.can_see_patient(actor, row.patient_id), "see this session")
            events = [
                {"t": e.t, "kind": e.kind, "data": dict(e.data or {})}
                for e in s.scalars(
                    select(SessionEventRow)
                    .where(SessionEventRow.session_id == session_id)
                    .order_by(SessionEventRow.t, SessionEventRow.id)
                )
            ]
            return SessionContext(
                session_id=row.id,
                patient_id=row.patient_id,
                protocol=row.protocol,
                started_at=row.started_at,
                intention=session_intention(events),
                timeline=tuple(patient_timeline(events)),
            )

    # -- entries --------------------------------------------------------------------------

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
            return _entry(row, None)

        return self.writer.call(create)

    def _load(self, s: OrmSession, entry_id: int) -> tuple[JournalEntryRow, JournalEntry]:
        row = s.get(JournalEntryRow, entry_id)
        if row is None:
            raise EntryNotFound(f"no journal entry {entry_id}")
        checkin = s.scalar(select(JournalCheckInRow).where(JournalCheckInRow.entry_id == entry_id))
        return row, _entry(row, checkin)

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
        return self._submit(self._autosave_fn(actor, entry_id, body, tags, shared, checkin))

    def _submit(self, fn: Callable[[OrmSession], T]) -> Future[T]:
        submit = getattr(self.writer, "submit", None)
        if submit is not None:
            fut: Future[T] = submit(fn)
            return fut
        done: Future[T] = Future()
        try:
            done.set_result(self.writer.call(fn))
        except Exception as exc:
            done.set_exception(exc)
        return done

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
            row, entry = self._load(s, entry_id)
            access.require(access.can_edit_entry(actor, entry), "change this entry")
            entry = entry.edited(body, t)  # validates length
            row.body = entry.body
            row.updated_at = t
            if norm_tags is not None:
                row.tags = _tags_text(norm_tags)
            if shared is not None:
                row.shared = shared
            if checkin is not None:
                self._write_checkin(s, row, checkin, t)
            s.flush()
            return self._load(s, entry_id)[1]

        return write

    def link_session(self, actor: Actor, entry_id: int, session_id: int | None) -> None:
        """Say which session the entry is about (or none)."""

        def write(s: OrmSession) -> None:
            row, entry = self._load(s, entry_id)
            access.require(access.can_edit_entry(actor, entry), "change this entry")
            if session_id is not None:
                sess = s.get(SessionRow, session_id)
                if sess is None or sess.patient_id != row.patient_id:
                    raise JournalError("an entry can only be linked to the patient's own session")
            row.session_id = session_id

        self.writer.call(write)

    @staticmethod
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

    def save(self, actor: Actor, entry_id: int) -> Revision | None:
        """Add a revision holding the current text, if it changed since the last one."""
        return self.writer.call(self._save_fn(actor, entry_id))

    def save_later(self, actor: Actor, entry_id: int) -> Future[Revision | None]:
        return self._submit(self._save_fn(actor, entry_id))

    def _save_fn(self, actor: Actor, entry_id: int) -> Callable[[OrmSession], Revision | None]:
        t = self.now()

        def write(s: OrmSession) -> Revision | None:
            row, entry = self._load(s, entry_id)
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
                    last.number, last.body, _tags_of(last.tags), bool(last.shared), last.saved_at
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
                    tags=_tags_text(rev.tags),
                    shared=rev.shared,
                    saved_at=t,
                )
            )
            row.revision = rev.number
            row.state = EntryState.SAVED.value
            return rev

        return write

    def entry(self, actor: Actor, entry_id: int) -> EntryView:
        with OrmSession(self.engine) as s:
            _row, entry = self._load(s, entry_id)
        view = view_of(actor, entry)
        if view is None:
            raise access.AccessDenied("not allowed: see this entry")
        return view

    def working_entry(self, actor: Actor, entry_id: int) -> JournalEntry:
        """The full entry for its author (the editor reopening a draft)."""
        with OrmSession(self.engine) as s:
            _row, entry = self._load(s, entry_id)
        access.require(access.can_edit_entry(actor, entry), "edit this entry")
        return entry

    def revisions(self, actor: Actor, entry_id: int) -> list[Revision]:
        with OrmSession(self.engine) as s:
            _row, entry = self._load(s, entry_id)
            access.require(access.can_read_entry_text(actor, entry), "read this entry")
            rows = s.scalars(
                select(JournalRevisionRow)
                .where(JournalRevisionRow.entry_id == entry_id)
                .order_by(JournalRevisionRow.number)
            )
            return [
                Revision(r.number, r.body, _tags_of(r.tags), bool(r.shared), r.saved_at)
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
            checkins = self._checkins(s, [r.id for r in rows])
        views = [view_of(actor, _entry(r, checkins.get(r.id))) for r in rows]
        return [v for v in views if v is not None]

    @staticmethod
    def _checkins(s: OrmSession, ids: list[int]) -> dict[int, JournalCheckInRow]:
        if not ids:
            return {}
        rows = s.scalars(select(JournalCheckInRow).where(JournalCheckInRow.entry_id.in_(ids)))
        return {r.entry_id: r for r in rows if r.entry_id is not None}

    def new_entries(self, actor: Actor) -> list[NewEntry]:
        """Saved entries across patients that this reader has not opened since they last
        changed, newest first. Not-shared ones are listed too, without their text."""
        access.require(access.can_list_patients(actor), "review journals across patients")
        read = (
            select(JournalReadRow.id)
            .where(JournalReadRow.entry_id == JournalEntryRow.id)
            .where(JournalReadRow.reader == actor.name)
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
            checkins = self._checkins(s, [r.id for r, _ in pairs])
        out = []
        for row, name in pairs:
            view = view_of(actor, _entry(row, checkins.get(row.id)))
            if view is not None:
                out.append(NewEntry(view, name))
        return out

    def mark_read(self, actor: Actor, entry_id: int) -> None:
        t = self.now()

        def write(s: OrmSession) -> None:
            _row, entry = self._load(s, entry_id)
            access.require(access.can_see_entry_exists(actor, entry), "see this entry")
            if not actor.is_staff:
                return
            mark = s.scalar(
                select(JournalReadRow).where(
                    and_(JournalReadRow.entry_id == entry_id, JournalReadRow.reader == actor.name)
                )
            )
            if mark is None:
                s.add(JournalReadRow(entry_id=entry_id, reader=actor.name, read_at=t))
            else:
                mark.read_at = max(t, mark.read_at)

        self.writer.call(write)

    # -- search ---------------------------------------------------------------------------

    def search(
        self, actor: Actor, query: str, patient_id: int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Entries holding every word of ``query`` that the actor may read, best first."""
        if actor.role is access.Role.PATIENT and patient_id is None:
            patient_id = actor.patient_id  # a patient's search is of their own journal
        access.require(access.can_search(actor, patient_id), "search these journals")
        limit = max(1, min(int(limit), 200))
        if self.dialect == "sqlite":
            rows = self._search_sqlite(actor, query, patient_id, limit)
        elif self.dialect == "postgresql":
            rows = self._search_postgres(actor, query, patient_id, limit)
        else:
            rows = self._search_like(actor, query, patient_id, limit)
        if not rows:
            return []
        hits: list[SearchHit] = []
        with OrmSession(self.engine) as s:
            checkins = self._checkins(s, [r[0] for r in rows])
            for entry_id, snippet in rows:
                row = s.get(JournalEntryRow, entry_id)
                if row is None:
                    continue
                view = view_of(actor, _entry(row, checkins.get(entry_id)))
                if view is None or view.redacted:  # belt and braces: never a private snippet
                    continue
                name = s.get(PatientRow, row.patient_id)
                hits.append(SearchHit(view, name.display_name if name else "?", snippet))
        return hits

    def _readable_filter(self, actor: Actor, patient_id: int | None) -> tuple[str, dict[str, Any]]:
        """SQL conditions matching ``access.can_read_entry_text`` for this actor."""
        clauses, params = [], {}
        if patient_id is not None:
            clauses.append("e.patient_id = :pid")
            params["pid"] = patient_id
        if actor.role is not access.Role.PATIENT:
            clauses.append("e.shared = :shared")
            params["shared"] = True
        return " AND ".join(clauses) or "1 = 1", params

    def _search_sqlite(
        self, actor: Actor, query: str, patient_id: int | None, limit: int
    ) -> list[tuple[int, str]]:
        match = fts5_match(query)
        if match is None:
            return []
        where, params = self._readable_filter(actor, patient_id)
        sql = text(
            "SELECT e.id, snippet(journal_entries_fts, 0, :hs, :he, '\u2026', 16)"
            " FROM journal_entries_fts JOIN journal_entries AS e"
            " ON e.id = journal_entries_fts.rowid"
            f" WHERE journal_entries_fts MATCH :match AND {where}"
            " ORDER BY bm25(journal_entries_fts), e.updated_at DESC LIMIT :limit"
        )
        return self._hits(sql, {"match": match, "limit": limit, **params})

    def _search_postgres(
        self, actor: Actor, query: str, patient_id: int | None, limit: int
    ) -> list[tuple[int, str]]:
        tsquery = pg_tsquery(query)
        if tsquery is None:
            return []
        where, params = self._readable_filter(actor, patient_id)
        # Exactly the expression of the migration's GIN index, or the index is not used.
        cfg = POSTGRES_SEARCH_CONFIG
        doc = f"to_tsvector('{cfg}', coalesce(e.body, '') || ' ' || coalesce(e.tags, ''))"
        sql = text(
            f"SELECT e.id, ts_headline('{cfg}', e.body, q,"
            " 'StartSel=' || :hs || ', StopSel=' || :he || ', MaxWords=30')"
            f" FROM journal_entries AS e, to_tsquery('{cfg}', :tsq) AS q"
            f" WHERE {doc} @@ q AND {where}"
            f" ORDER BY ts_rank({doc}, q) DESC, e.updated_at DESC LIMIT :limit"
        )
        return self._hits(sql, {"tsq": tsquery, "limit": limit, **params})

    def _hits(self, sql: TextClause, params: dict[str, Any]) -> list[tuple[int, str]]:
        """Run a search query whose rows are (entry id, snippet with hit markers)."""
        with self.engine.connect() as conn:
            result = conn.execute(sql, {"hs": HIT_START, "he": HIT_END, **params})
            return [(int(i), str(snip or "")) for i, snip in result]

    def _search_like(
        self, actor: Actor, query: str, patient_id: int | None, limit: int
    ) -> list[tuple[int, str]]:
        """Other databases: every word as an escaped LIKE pattern (slow, but correct)."""
        words = _WORD.findall(query[:MAX_SEARCH_CHARS])[:MAX_SEARCH_TERMS]
        if not words:
            return []
        conds = []
        for w in words:
            pattern = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(
                or_(
                    JournalEntryRow.body.ilike(pattern, escape="\\"),
                    JournalEntryRow.tags.ilike(pattern, escape="\\"),
                )
            )
        q = select(JournalEntryRow.id, JournalEntryRow.body).where(and_(*conds))
        if patient_id is not None:
            q = q.where(JournalEntryRow.patient_id == patient_id)
        if actor.role is not access.Role.PATIENT:
            q = q.where(JournalEntryRow.shared.is_(True))
        with OrmSession(self.engine) as s:
            rows = s.execute(q.order_by(JournalEntryRow.updated_at.desc()).limit(limit))
            return [(i, body[:200]) for i, body in rows]

    # -- questionnaires and safety flags --------------------------------------------------

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
        access.require(access.can_acknowledge_safety_flag(actor), "acknowledge safety flags")
        t = self.now()

        def write(s: OrmSession) -> None:
            row = s.get(SafetyFlagRow, flag_id)
            if row is None:
                raise LookupError(f"no safety flag {flag_id}")
            if row.acknowledged_at is None:
                row.acknowledged_at = t
                row.acknowledged_by = actor.name

        self.writer.call(write)

    # -- the staff PIN (hash only) --------------------------------------------------------

    def staff_pin_hash(self) -> str | None:
        with OrmSession(self.engine) as s:
            row = s.get(JournalSettingRow, STAFF_PIN_KEY)
            return row.value if row is not None else None

    def set_staff_pin_hash(self, pin_hash: str) -> None:
        if not pin_hash.startswith("scrypt$"):
            raise ValueError("store a PIN hash, never a PIN")
        t = self.now()

        def write(s: OrmSession) -> None:
            row = s.get(JournalSettingRow, STAFF_PIN_KEY)
            if row is None:
                s.add(JournalSettingRow(key=STAFF_PIN_KEY, value=pin_hash, updated_at=t))
            else:
                row.value, row.updated_at = pin_hash, t

        self.writer.call(write)


def store_for(source: Any) -> JournalStore:
    """A store from a ``JournalStore``, a ``Runtime`` (its recorder writes, its clock
    stamps) or an ``Engine`` (direct writes, for tools that run without the app)."""
    if isinstance(source, JournalStore):
        return source
    if isinstance(source, Engine):
        return JournalStore(source)
    if hasattr(source, "recorder") and hasattr(source, "engine"):
        return JournalStore.for_runtime(source)
    raise TypeError(f"need a JournalStore, Runtime or Engine, not {type(source).__name__}")


def count_entries(engine: Engine, patient_id: int | None = None) -> int:
    """How many entries exist (for tests and status lines; says nothing of their text)."""
    q = select(func.count()).select_from(JournalEntryRow)
    if patient_id is not None:
        q = q.where(JournalEntryRow.patient_id == bindparam("pid", patient_id))
    with OrmSession(engine) as s:
        return int(s.scalar(q) or 0)
