"""Full-text search of journal entries: SQLite FTS5, PostgreSQL text search, or LIKE.

What the user typed is treated as data: it is cut into words and each word is quoted for
FTS5 (or as a lexeme for PostgreSQL's ``to_tsquery``), so no operator, quote or column
filter the user types can change the query. The SQL filter matches
``access.can_read_entry_text``, and every hit is checked again as an ``EntryView``, so a
therapist's search only ever looks inside entries the patient shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, TextClause, and_, or_, select, text
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import EntryView, view_of
from kapdesk.storage.journal.entries import checkins_of, entry_of
from kapdesk.storage.journal.models import JournalEntryRow
from kapdesk.storage.models import PatientRow

#: Search terms beyond these are ignored: a pasted page is not a query.
MAX_SEARCH_TERMS = 16
MAX_SEARCH_CHARS = 500
#: Marks around matched words in a snippet; control characters no one types, so the UI can
#: escape the text first and then turn only these into highlighting.
HIT_START, HIT_END = "\x02", "\x03"
#: PostgreSQL text search configuration made by migration 0002 (``simple`` + unaccent).
POSTGRES_SEARCH_CONFIG = "kapdesk_search"

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class SearchHit:
    entry: EntryView
    patient_name: str
    snippet: str  # matched words between HIT_START and HIT_END


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


class JournalSearch:
    """Search over the entries an actor may read, on whichever database the engine is."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def search(
        self, actor: Actor, query: str, patient_id: int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Entries holding every word of ``query`` that the actor may read, best first."""
        if actor.has(access.Role.PATIENT) and patient_id is None:
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
            checkins = checkins_of(s, [r[0] for r in rows])
            for entry_id, snippet in rows:
                row = s.get(JournalEntryRow, entry_id)
                if row is None:
                    continue
                view = view_of(actor, entry_of(row, checkins.get(entry_id)))
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
        if not actor.has(access.Role.PATIENT):
            clauses.append("e.shared = :shared")
            params["shared"] = True
            if actor.care_of is not None:  # a therapist: the patients in their care
                care = sorted(actor.care_of)
                names = [f":care{i}" for i in range(len(care))]
                clauses.append(f"e.patient_id IN ({', '.join(names)})" if care else "1 = 0")
                params.update({f"care{i}": pid for i, pid in enumerate(care)})
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
        if not actor.has(access.Role.PATIENT):
            q = q.where(JournalEntryRow.shared.is_(True))
            if actor.care_of is not None:
                q = q.where(JournalEntryRow.patient_id.in_(sorted(actor.care_of)))
        with OrmSession(self.engine) as s:
            rows = s.execute(q.order_by(JournalEntryRow.updated_at.desc()).limit(limit))
            return [(i, body[:200]) for i, body in rows]
