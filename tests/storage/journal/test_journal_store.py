"""Storage: revisions, autosave, questionnaires, safety flags and full-text search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from journal_support import World, make_world
from sqlalchemy import text

from kapdesk.domain.access import AccessDenied, Actor
from kapdesk.domain.journal import CheckIn, JournalError
from kapdesk.domain.questionnaires import AnswerError
from kapdesk.storage.database import create_db_engine, current_revision, migrate, open_database
from kapdesk.storage.journal.search import HIT_START, fts5_match
from kapdesk.storage.journal.store import JournalStore

DR = Actor.therapist("dr")


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def write(store: JournalStore, patient: int, body: str, shared: bool = True) -> int:
    me = Actor.patient(patient)
    entry = store.create_entry(me, patient, shared=shared)
    assert entry.id is not None
    store.autosave(me, entry.id, body)
    store.save(me, entry.id)
    return entry.id


def test_autosave_keeps_the_text_and_edits_after_saving_keep_earlier_revisions(world: World):
    st, me = world.store, Actor.patient(world.alice)
    e = st.create_entry(me, world.alice, session_id=world.alice_session, prompt_set="weekly")
    assert e.id is not None
    st.autosave(me, e.id, "first draft", tags="#Sleep, calm", checkin=CheckIn(mood=6))
    assert st.revisions(me, e.id) == []  # typing alone makes no revision
    assert st.working_entry(me, e.id).body == "first draft"
    r1 = st.save(me, e.id)
    assert r1 is not None and r1.number == 1
    assert st.save(me, e.id) is None  # nothing changed: no empty revision
    st.autosave(me, e.id, "second thoughts")
    st.save(me, e.id)
    revs = st.revisions(me, e.id)
    assert [(r.number, r.body) for r in revs] == [(1, "first draft"), (2, "second thoughts")]
    assert revs[0].tags == ("sleep", "calm")
    view = st.entry(me, e.id)
    assert view.text == "second thoughts" and view.revision == 2 and view.checkin.mood == 6


def test_a_patient_cannot_touch_another_patients_journal(world: World) -> None:
    st = world.store
    bobs = write(st, world.bob, "bob's words")
    alice = Actor.patient(world.alice)
    with pytest.raises(AccessDenied):
        st.entries(alice, world.bob)
    with pytest.raises(AccessDenied):
        st.entry(alice, bobs)
    with pytest.raises(AccessDenied):
        st.autosave(alice, bobs, "overwritten")
    with pytest.raises(AccessDenied):
        st.session_context(alice, world.bob_session)
    with pytest.raises(JournalError):  # nor link an entry to someone else's session
        st.create_entry(alice, world.alice, session_id=world.bob_session)
    assert [p for p, _ in st.patients(alice)] == [world.alice]
    assert [h.entry.id for h in st.search(alice, "words")] == []  # own journal only
    with pytest.raises(AccessDenied):  # the therapist reads, never writes
        st.create_entry(DR, world.bob)
    assert st.entry(Actor.patient(world.bob), bobs).text == "bob's words"


def test_the_therapist_sees_a_private_entry_exists_but_never_its_text(world: World) -> None:
    st = world.store
    shared = write(st, world.alice, "the lake at dawn")
    private = write(st, world.alice, "the lake secret", shared=False)
    views = {v.id: v for v in st.entries(DR, world.alice)}
    assert views[shared].text == "the lake at dawn"
    assert views[private].redacted and views[private].text is None
    assert "secret" not in repr(views[private])
    assert [h.entry.id for h in st.search(DR, "lake")] == [shared]
    assert st.search(DR, "secret") == []  # a search must not reveal private words
    assert {h.entry.id for h in st.search(Actor.patient(world.alice), "lake")} == {
        shared,
        private,
    }
    with pytest.raises(AccessDenied):
        st.revisions(DR, private)
    new = {n.entry.id: n for n in st.new_entries(DR)}
    assert new[private].entry.redacted and set(new) == {shared, private}
    st.mark_read(DR, shared)
    assert {n.entry.id for n in st.new_entries(DR)} == {private}


def test_search_finds_words_prefixes_and_tags_and_follows_edits(world: World) -> None:
    st, me = world.store, Actor.patient(world.alice)
    eid = write(st, world.alice, "Gratitude for my grandmother's kitchen")
    hits = st.search(DR, "grandmother")
    assert [h.entry.id for h in hits] == [eid] and HIT_START in hits[0].snippet
    assert [h.entry.id for h in st.search(DR, "grati")] == [eid]  # prefix
    assert [h.entry.id for h in st.search(DR, "GRATITUDE kitchen")] == [eid]
    assert st.search(DR, "gratitude ocean") == []  # every word must match
    st.autosave(me, eid, "Only the ocean now", tags="waves")
    assert st.search(DR, "kitchen") == []  # the index followed the edit
    assert [h.entry.id for h in st.search(DR, "ocean")] == [eid]
    assert [h.entry.id for h in st.search(DR, "waves")] == [eid]
    st.autosave(me, eid, "Only the ocean now", shared=False)
    assert st.search(DR, "ocean") == []  # unshared later: gone from the therapist's search


HOSTILE = [
    '"',
    '""',
    "*",
    "**",
    "NEAR(",
    "NEAR(a b",
    "OR",
    "AND",
    "NOT",
    "--",
    "-",
    "'",
    '"unbalanced',
    "body:",
    "tags:secret",
    "{body tags}: x",
    "^",
    "a OR b",
    "'; DROP TABLE journal_entries; --",
    "%",
    "_",
    "\\",
    "\x00",
    "(",
    ")",
    "x" * 5000,
    "word " * 200,
    "\u202e\u0000\ufeff",
    "é",
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
    assert [h.entry.id for h in st.search(DR, "NEAR(")] == [near]
    assert [h.entry.id for h in st.search(DR, "OR")] == [near]
    assert st.search(DR, "fire NOT") == []  # NOT is a word here, and it is not in the text
    assert fts5_match('a"b OR c*') == '"a" AND "b" AND "OR" AND "c"'
    assert fts5_match("*** --") is None


def test_questionnaires_are_scored_stored_and_item9_is_flagged_at_once(world: World) -> None:
    st, me = world.store, Actor.patient(world.alice)
    rid, result = st.submit_questionnaire(me, world.alice, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.total == 1 and result.band == "minimal" and result.flagged
    flags = st.safety_flags(DR)
    assert [(f.patient_id, f.response_id) for f in flags] == [(world.alice, rid)]
    assert "item 9" in flags[0].message
    assert st.safety_flags(Actor.medical_staff("nurse"))  # medical staff see it too
    with pytest.raises(AccessDenied):
        st.safety_flags(me)
    st.acknowledge_flag(DR, flags[0].id)
    assert st.safety_flags(DR) == []
    assert st.safety_flags(DR, open_only=False)[0].acknowledged_by == "dr"
    st.submit_questionnaire(me, world.alice, "gad7", [3, 3, 3, 3, 3, 2, 0])
    scores = st.scores(DR, world.alice)
    assert [(s.instrument, s.total, s.band) for s in scores] == [
        ("phq9", 1, "minimal"),
        ("gad7", 17, "severe"),
    ]
    assert scores[0].flags == ("self_harm_thoughts",)
    with pytest.raises(AnswerError):
        st.submit_questionnaire(me, world.alice, "phq9", [0] * 8 + [9])
    assert len(st.scores(DR, world.alice)) == 2  # a refused questionnaire writes nothing
    with pytest.raises(AccessDenied):
        st.submit_questionnaire(DR, world.alice, "phq9", [0] * 9)


def test_the_session_beside_the_entry_shows_no_dose_or_staff_note(world: World) -> None:
    ctx = world.store.session_context(Actor.patient(world.alice), world.alice_session)
    texts = [m.text for m in ctx.timeline]
    assert ctx.intention == "To meet what comes with curiosity and kindness."
    assert "Eye mask on" in texts and any("Spiegel im Spiegel" in t for t in texts)
    assert any("the kitchen" in t for t in texts)
    joined = " ".join(texts)
    assert "DEMO-0001" not in joined and "BP 142/88" not in joined and "Dose" not in joined


def test_a_version_1_database_is_upgraded_with_the_journal_and_its_index(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_db_engine(url)
    migrate(engine, "0001")
    engine.dispose()
    engine = open_database(url)
    assert current_revision(engine) is not None
    conn = sqlite3.connect(tmp_path / "old.sqlite3")
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"journal_entries", "journal_entries_fts", "journal_entries_fts_au"} <= names
    assert {"questionnaire_responses", "journal_safety_flags", "journal_checkins"} <= names
