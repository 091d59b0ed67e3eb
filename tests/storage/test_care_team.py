"""Care teams on a real SQLite file: a therapist reads the shared entries of the patients
in their care only, through every store (journal, search, review, export, scores), joins
a patient's care team by adding the patient or opening a session for them, and every
change is audited and reaches the signed-in therapist at once."""

from __future__ import annotations

import pytest
from journal_support import make_world
from session_test_support import SPEED

from kapdesk.domain.access import AccessDenied, Actor, Role
from kapdesk.domain.accounts import SignInPolicy
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.patients import Patient
from kapdesk.live.runtime import Runtime
from kapdesk.storage.accounts import AccountStore
from kapdesk.storage.audit import AuditFilter, AuditLog
from kapdesk.storage.care_team import CareTeams
from kapdesk.storage.database import open_database
from kapdesk.storage.journal.export import journal_markdown
from kapdesk.storage.journal.writer import DirectWriter

PASSWORD = "a long enough password"


def _write(store, patient_id: int, body: str) -> None:
    me = Actor.patient(patient_id)
    entry = store.create_entry(me, patient_id, shared=True)
    store.autosave(me, entry.id, body)
    store.save(me, entry.id)


@pytest.fixture
def clinic(db_url):
    """Two patients with a shared entry each; an admin, two therapists and a nurse."""
    world = make_world(db_url)
    engine = world.engine
    writer = DirectWriter(engine)
    audit = AuditLog(engine, writer)
    accounts = AccountStore(engine, writer, audit)
    accounts.create(None, "ada", "Ada Admin", {Role.ADMIN}, PASSWORD)
    admin = accounts.sign_in("ada", PASSWORD)
    for name, roles in (("tess", {Role.THERAPIST}), ("theo", {Role.THERAPIST})):
        accounts.create(admin, name, name.title(), roles, PASSWORD)
    accounts.create(admin, "nia", "Nia Nurse", {Role.MEDICAL_STAFF}, PASSWORD)
    _write(world.store, world.alice, "alice sunflower words")
    _write(world.store, world.bob, "bob sunflower words")
    care = CareTeams(engine, writer, audit)
    care.join(admin, world.alice, "tess")
    care.join(admin, world.bob, "theo")
    yield world, accounts, care, audit, admin
    engine.dispose()


def test_a_therapist_reads_the_shared_entries_of_their_own_patients_only(clinic):
    world, accounts, _care, _audit, _admin = clinic
    st = world.store
    tess = accounts.sign_in("tess", PASSWORD)
    assert tess.care_of == {world.alice}
    assert [v.text for v in st.entries(tess, world.alice)] == ["alice sunflower words"]
    with pytest.raises(AccessDenied):
        st.entries(tess, world.bob)
    with pytest.raises(AccessDenied):
        journal_markdown(st, tess, world.bob)
    with pytest.raises(AccessDenied):
        st.scores(tess, world.bob)
    assert "alice sunflower" in journal_markdown(st, tess, world.alice)
    # across patients: the review and the search show only patients in the care team
    assert {n.entry.patient_id for n in st.new_entries(tess)} == {world.alice}
    assert {h.entry.patient_id for h in st.search(tess, "sunflower")} == {world.alice}
    assert [pid for pid, _name in st.patients(tess)] == [world.alice]
    theo = accounts.sign_in("theo", PASSWORD)
    assert {h.entry.patient_id for h in st.search(theo, "sunflower")} == {world.bob}
    # the patient's own journal is theirs, whoever cares for them
    assert st.entries(Actor.patient(world.bob), world.bob)


def test_a_therapist_in_no_care_team_reads_nothing_and_a_clinic_can_open_it_to_all(clinic):
    world, accounts, _care, audit, admin = clinic
    accounts.create(admin, "tom", "Tom New", {Role.THERAPIST}, PASSWORD)
    tom = accounts.sign_in("tom", PASSWORD)
    assert tom.care_of == frozenset()
    assert world.store.new_entries(tom) == []
    assert world.store.search(tom, "sunflower") == []
    every = AccountStore(
        accounts.engine, accounts.writer, audit, SignInPolicy(care_team_only=False)
    )
    tom = every.sign_in("tom", PASSWORD)
    assert tom.care_of is None
    assert {h.entry.patient_id for h in world.store.search(tom, "sunflower")} == {
        world.alice,
        world.bob,
    }


def test_joining_and_leaving_are_audited_and_only_clinicians_and_the_admin_change_it(clinic):
    world, accounts, care, audit, admin = clinic
    tess = accounts.sign_in("tess", PASSWORD)
    assert care.join(tess, world.bob, "tess", why="covering for theo")
    assert not care.join(tess, world.bob, "tess")  # already in: nothing changes
    assert care.members(world.bob) == ["tess", "theo"]
    assert care.leave(admin, world.bob, "tess")
    assert care.members(world.bob) == ["theo"]
    entries = audit.search(AuditFilter(subject=f"patient:{world.bob}"))
    acts = [(e.action, e.user, e.detail.get("member")) for e in entries]
    assert (AuditAction.CARE_TEAM_JOINED, "tess", "tess") in acts
    assert (AuditAction.CARE_TEAM_LEFT, "ada", "tess") in acts
    with pytest.raises(AccessDenied):
        care.join(Actor.patient(world.bob), world.bob, "tess")
    with pytest.raises(ValueError, match="no account 'nobody'"):
        care.join(admin, world.bob, "nobody")
    assert care.members(world.bob) == ["theo"]
    assert audit.verify()[1] is None


def test_the_signed_in_therapist_joins_by_adding_a_patient_or_opening_a_session(db_url):
    rt = Runtime.build(open_database(db_url), speed=SPEED)
    try:
        rt.accounts.create(None, "ada", "Ada Admin", {Role.ADMIN}, PASSWORD)
        admin = rt.accounts.sign_in("ada", PASSWORD)
        rt.accounts.create(admin, "tess", "Tess", {Role.THERAPIST}, PASSWORD)
        rt.accounts.create(admin, "nia", "Nia", {Role.MEDICAL_STAFF}, PASSWORD)
        rt.desk.sign_in("tess", PASSWORD)
        added = rt.patients.add(Patient("Dana"))
        assert rt.care_teams.members(added.id) == ["tess"]
        assert rt.desk.current().care_of == {added.id}  # at once, no new sign-in
        rt.desk.sign_in("nia", PASSWORD)
        session = rt.controller.open(Patient("Eve"), "im-ketamine")
        rt.controller.start()
        assert rt.care_teams.members(session.patient_id) == []  # the nurse reads no journal
        rt.desk.sign_in("tess", PASSWORD)
        rt.controller.resume(session.id)
        assert rt.care_teams.members(session.patient_id) == ["tess"]
        assert rt.desk.current().care_of == {added.id, session.patient_id}
        rt.care_teams.leave(admin, added.id, "tess")
        assert rt.desk.current().care_of == {session.patient_id}
    finally:
        rt.shutdown()


def test_emergency_access_is_not_restricted_to_a_care_team(clinic):
    world, accounts, _care, audit, _admin = clinic
    from kapdesk.live.desk import Desk

    desk = Desk(accounts, audit)
    actor = desk.break_glass("theo", PASSWORD, "patient collapsed, covering therapist away")
    assert actor.care_of is None
    assert world.store.entries(actor, world.alice)


def test_migration_0006_keeps_the_patients_a_clinics_therapists_already_care_for(db_url):
    """An existing clinic's therapists keep reading their patients' journals: whoever
    started a session for a patient or read one of their entries is in the care team."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session as OrmSession

    from kapdesk.domain.session import Session
    from kapdesk.storage.database import create_db_engine, migrate
    from kapdesk.storage.journal.models import JournalEntryRow, JournalReadRow
    from kapdesk.storage.models import SessionEventRow
    from kapdesk.storage.records import add_patient, add_session

    engine = create_db_engine(db_url)
    migrate(engine, "0005")
    acct = (
        "INSERT INTO accounts (username, display_name, roles, password_hash, disabled,"
        " failures, locked_until, must_change_password, demo, created_at, updated_at)"
        " VALUES (:u, :u, :r, 'x', 0, 0, 0, 0, 0, 0, 0)"
    )
    with engine.begin() as c:
        for u, r in (("tess", "therapist"), ("nia", "medical_staff"), ("theo", "therapist")):
            c.execute(text(acct), {"u": u, "r": r})
    pids = []
    with OrmSession(engine) as s, s.begin():
        for by in ("tess", "nia", "ghost"):
            patient = Patient(f"P-{by}")
            add_patient(s, patient)
            session = Session(patient.id, "im-ketamine")
            add_session(s, session)
            s.add(
                SessionEventRow(
                    session_id=session.id, t=0.0, kind="session_started", data={"by": by}
                )
            )
            pids.append(patient.id)
        entry = JournalEntryRow(
            uid="e1",
            patient_id=pids[1],
            created_at=0.0,
            updated_at=0.0,
            shared=True,
            revision=1,
            body="x",
            state="saved",
            tags="",
            prompt_set="",
        )
        s.add(entry)
        s.flush()
        s.add(JournalReadRow(entry_id=entry.id, reader="theo", read_at=0.0))
    migrate(engine)
    with engine.connect() as c:
        rows = sorted(c.execute(text("SELECT patient_id, username FROM care_team")))
    engine.dispose()
    # the nurse and the unknown name join nothing: care teams are therapists' reading
    assert rows == [(pids[0], "tess"), (pids[1], "theo")]
