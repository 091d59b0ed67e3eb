"""The journal's full-text search on PostgreSQL (tsvector + GIN index), held to the same
promises as the SQLite FTS5 path in tests/storage/journal/test_journal_store.py: every
word must match, prefixes and tags count, a therapist never gets a private entry's text,
and what a user types is data, never query syntax."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from access_support import CLINICIAN
from pg_cluster import PgServer
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session as OrmSession

from kapdesk.demo.journal import create_demo_session
from kapdesk.domain.access import Actor
from kapdesk.domain.patients import Patient
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.journal.search import HIT_END, HIT_START, pg_tsquery
from kapdesk.storage.journal.store import JournalStore
from kapdesk.storage.records import add_patient

DR = Actor.therapist("dr")


@dataclass
class World:
    engine: Engine
    store: JournalStore
    alice: int
    bob: int


@pytest.fixture
def world(pg_url: str) -> Iterator[World]:
    engine = open_database(pg_url)
    alice, _ = create_demo_session(engine)
    bob, _ = create_demo_session(engine)
    with OrmSession(engine) as s, s.begin():
        add_patient(s, Patient("Carol"))
    try:
        yield World(engine, JournalStore(engine), alice, bob)
    finally:
        engine.dispose()


def write(store: JournalStore, patient: int, body: str, shared: bool = True, tags: str = "") -> int:
    me = Actor.patient(patient)
    entry = store.create_entry(me, patient, shared=shared)
    assert entry.id is not None
    store.autosave(me, entry.id, body, tags=tags)
    store.save(me, entry.id)
    return entry.id


def ids(hits: list) -> list[int]:  # type: ignore[type-arg]
    return [h.entry.id for h in hits]


def test_a_shared_entry_is_found_by_a_word_and_a_private_one_never_shows_its_text(
    world: World,
) -> None:
    st = world.store
    shared = write(st, world.alice, "the lake at dawn")
    private = write(st, world.alice, "the lake secret", shared=False)
    hits = st.search(DR, "lake")
    assert ids(hits) == [shared]
    assert hits[0].patient_name == "Demo Patient (journal)"
    assert HIT_START + "lake" + HIT_END in hits[0].snippet
    assert st.search(DR, "secret") == []  # a search must not reveal private words
    assert st.search(DR, "lake", patient_id=world.bob) == []
    assert set(ids(st.search(Actor.patient(world.alice), "lake"))) == {shared, private}
    assert ids(st.search(Actor.patient(world.bob), "lake")) == []  # own journal only
    for hit in st.search(DR, "the"):
        assert not hit.entry.redacted and "secret" not in hit.snippet


def test_search_finds_words_prefixes_and_tags_and_follows_edits(world: World) -> None:
    st, me = world.store, Actor.patient(world.alice)
    eid = write(st, world.alice, "Gratitude for my grandmother's kitchen")
    hits = st.search(DR, "grandmother")
    assert ids(hits) == [eid] and HIT_START in hits[0].snippet
    assert ids(st.search(DR, "grati")) == [eid]  # prefix, as on SQLite
    assert ids(st.search(DR, "GRATITUDE kitchen")) == [eid]
    assert st.search(DR, "gratitude ocean") == []  # every word must match
    st.autosave(me, eid, "Only the ocean now", tags="waves")
    assert st.search(DR, "kitchen") == []  # the index follows the edit
    assert ids(st.search(DR, "ocean")) == [eid]
    assert ids(st.search(DR, "waves")) == [eid]  # tags are searched too
    st.autosave(me, eid, "Only the ocean now", shared=False)
    assert st.search(DR, "ocean") == []  # unshared later: gone from the therapist's search


def test_short_words_match_whole_words_only(world: World) -> None:
    st = world.store
    eid = write(st, world.alice, "an owl at night")
    assert ids(st.search(DR, "ow")) == []  # under three letters: no prefix match
    assert ids(st.search(DR, "at")) == [eid]


def test_better_matches_come_first(world: World) -> None:
    st = world.store
    once = write(st, world.alice, "music, then a long silence and the rest of the afternoon")
    often = write(st, world.alice, "music music music")
    assert ids(st.search(DR, "music")) == [often, once]


def test_accents_need_not_be_typed(world: World) -> None:
    """As SQLite's FTS5 with remove_diacritics: "cafe" finds "café"."""
    st = world.store
    eid = write(st, world.alice, "Ein Café in Zürich, später am Nachmittag", tags="Ärger")
    write(st, world.alice, "a cafeteria elsewhere")
    assert ids(st.search(DR, "cafe zurich")) == [eid]
    assert ids(st.search(DR, "CAFÉ ZÜRICH")) == [eid]
    assert ids(st.search(DR, "spater nachm")) == [eid]
    assert ids(st.search(DR, "arger")) == [eid]  # in the tags
    hit = st.search(DR, "zurich")[0]
    assert HIT_START + "Zürich" + HIT_END in hit.snippet  # the text as written, marked


def test_search_works_where_the_server_refuses_unaccent(pg_server: PgServer) -> None:
    """A clinic's database owned by an administrator: the app's role may create tables but
    not extensions. The schema still migrates and search still works, accents exact."""
    name, url = pg_server.create_database(app_owns=False)
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            installed = conn.execute(
                text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")
            ).scalar()
        assert installed == 0
        alice, _ = create_demo_session(engine)
        st = JournalStore(engine)
        eid = write(st, alice, "Ein Café in Zürich")
        assert ids(st.search(DR, "café zür")) == [eid]
        assert ids(st.search(DR, "cafe")) == []  # without unaccent, accents must match
    finally:
        engine.dispose()
        pg_server.drop_database(name)


HOSTILE = [
    '"',
    "*",
    ":*",
    "sea:*",
    "!",
    "!sea",
    "sea | mountains",
    "sea & !mountains",
    "<->",
    "sea <-> text",
    "(",
    ")",
    "'",
    "''",
    "'sea' | 'mountains'",
    "NEAR(",
    "OR",
    "a OR b",
    "--",
    "'; DROP TABLE journal_entries; --",
    "%",
    "_",
    "___",
    "\\",
    "\x00",
    "x" * 5000,
    "word " * 200,
    "\u202e\u0000\ufeff",
    "é",
    "text:A",
    "sea:B*",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_search_input_is_data_never_syntax(world: World, query: str) -> None:
    st = world.store
    write(st, world.alice, "ordinary text about the sea")
    write(st, world.alice, "another text about mountains")
    write(st, world.alice, "private notes about the sea", shared=False)
    hits = st.search(DR, query)  # must not raise
    assert len(hits) < 2, "hostile input matched everything"
    assert all(not h.entry.redacted for h in hits)
    with world.engine.connect() as conn:  # and nothing was dropped
        assert conn.execute(text("SELECT count(*) FROM journal_entries")).scalar() == 3


def test_operators_typed_by_the_user_are_words_not_operators(world: World) -> None:
    st = world.store
    near = write(st, world.alice, "we sat near the fire, OR so it felt")
    write(st, world.alice, "nothing to see")
    assert ids(st.search(DR, "NEAR(")) == [near]
    assert ids(st.search(DR, "OR")) == [near]
    assert ids(st.search(DR, "fire | nothing")) == []  # "|" is not "or": both words needed
    assert ids(st.search(DR, "fire !sat")) == [near]  # "!" is not "not": "sat" is a word
    assert pg_tsquery("a'b | c:* !d") == "'a' & 'b' & 'c' & 'd'"
    assert pg_tsquery("grati tude") == "'grati':* & 'tude':*"
    assert pg_tsquery("*** --") is None


def test_the_search_uses_the_index_the_migration_made(world: World) -> None:
    """The query's tsvector expression must be the index's, or every search is a scan."""
    for i in range(30):
        write(world.store, world.alice, f"entry {i} about the garden")
    searches: list[tuple[str, Any]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "@@" in statement:
            searches.append((statement, parameters))

    event.listen(world.engine, "before_cursor_execute", remember)
    try:
        assert len(world.store.search(DR, "garden")) == 30
    finally:
        event.remove(world.engine, "before_cursor_execute", remember)
    [(statement, parameters)] = searches
    with world.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # as on a big table
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
    assert "ix_journal_entries_fts" in plan, plan


def test_an_entry_saved_on_one_workstation_is_found_from_another(pg_url: str) -> None:
    """The patient writes in the treatment room (through its runtime's writer thread); the
    therapist searches from the office, on another engine, as soon as the save returns."""
    room_engine = open_database(pg_url)
    office_engine = open_database(pg_url)
    room = Runtime.build(room_engine, flush_interval=0.05, actor=CLINICIAN)
    try:
        patient, _ = create_demo_session(room_engine)
        eid = write(room.journal, patient, "a heron over the river")
        office = JournalStore(office_engine)
        assert ids(office.search(DR, "heron")) == [eid]
        assert office.entry(DR, eid).text == "a heron over the river"
    finally:
        room.shutdown()
        room_engine.dispose()
        office_engine.dispose()
