"""The desk of a real runtime: who may act is what every service asks. Patient mode hands
the keyboard to one patient (their own journal, nothing else); a lock keeps the staff
member known but lets nothing through; a locked-out account stays out."""

from __future__ import annotations

import pytest

from kapdesk.demo.script import demo_patient
from kapdesk.domain.access import AccessDenied, Role
from kapdesk.domain.accounts import SignInRefused
from kapdesk.domain.patients import Patient
from kapdesk.live.desk import DeskState
from kapdesk.live.runtime import Runtime
from kapdesk.storage.audit import AuditFilter
from kapdesk.storage.database import open_database

PASSWORD = "long enough 1"


@pytest.fixture
def rt(db_url: str):
    rt = Runtime.build(open_database(db_url), flush_interval=0.05)
    rt.accounts.create(None, "ada", "Ada Admin", {Role.ADMIN}, PASSWORD)
    admin = rt.accounts.sign_in("ada", PASSWORD)
    rt.accounts.create(admin, "tess", "Tess", {Role.THERAPIST}, PASSWORD)
    yield rt
    rt.shutdown()


def test_nobody_signed_in_may_do_nothing_but_acknowledge(rt: Runtime) -> None:
    assert rt.desk.state is DeskState.SIGNED_OUT
    with pytest.raises(AccessDenied, match="nobody signed in"):
        rt.controller.open(demo_patient(), "im-ketamine")
    with pytest.raises(AccessDenied):
        rt.patients.all()
    rt.alarms.acknowledge().result(2)  # the one act open at the bedside


def test_patient_mode_reaches_the_patients_own_journal_and_nothing_else(rt: Runtime) -> None:
    rt.desk.sign_in("tess", PASSWORD)
    rt.controller.open(demo_patient(), "im-ketamine")
    rt.controller.start()
    mine = rt.controller.patient.id
    other = rt.patients.add(Patient(display_name="Someone Else"))
    patient = rt.desk.enter_patient_mode(mine)
    actor = rt.desk.current()
    assert actor == patient and actor.roles == {Role.PATIENT}
    entry = rt.journal.create_entry(actor, mine)
    rt.journal.autosave(actor, entry.id, "my own words")
    assert [p for p, _ in rt.journal.patients(actor)] == [mine]
    with pytest.raises(AccessDenied):
        rt.journal.entries(actor, other.id)
    with pytest.raises(AccessDenied):
        rt.journal.patient_name(actor, other.id)
    with pytest.raises(AccessDenied):
        rt.patients.all()
    with pytest.raises(AccessDenied):
        rt.controller.note("a patient writing on the timeline")
    with pytest.raises(AccessDenied):
        rt.desk.enter_patient_mode(other.id)  # only staff open patient mode
    rt.desk.leave_patient_mode(rt.desk.staff_member)
    assert rt.desk.state is DeskState.SIGNED_IN and rt.desk.current().username == "tess"
    actions = [e.action for e in rt.audit.search(AuditFilter(subject=f"patient:{mine}"))]
    assert {"patient_mode_entered", "patient_mode_left"} <= set(actions)


def test_a_lock_keeps_the_user_known_and_lets_nothing_through(rt: Runtime) -> None:
    rt.desk.sign_in("tess", PASSWORD)
    assert rt.desk.lock("test")
    assert rt.desk.state is DeskState.LOCKED and rt.desk.current() is None
    assert rt.desk.staff_member.username == "tess"
    with pytest.raises(AccessDenied, match="locked"):
        rt.patients.all()
    with pytest.raises(SignInRefused):
        rt.desk.unlock("wrong one")
    rt.desk.unlock(PASSWORD)
    assert rt.patients.all() == []


def test_a_locked_out_account_stays_out_and_another_person_signs_in(rt: Runtime) -> None:
    for _ in range(rt.desk.policy.max_failures):
        with pytest.raises(SignInRefused):
            rt.desk.sign_in("tess", "not it at all")
    with pytest.raises(SignInRefused, match="locked"):
        rt.desk.sign_in("tess", PASSWORD)
    assert rt.desk.state is DeskState.SIGNED_OUT
    rt.desk.sign_in("ada", PASSWORD)
    rt.accounts.enable(rt.desk.current(), "tess")  # the admin ends the lockout
    rt.desk.sign_in("tess", PASSWORD)
    assert rt.desk.current().username == "tess"


def test_a_protocol_file_changed_between_starts_is_in_the_audit_log(
    db_url: str, tmp_path, monkeypatch
) -> None:
    import shutil

    from kapdesk.config.paths import RESOURCES_ENV, resources_dir

    resources = tmp_path / "resources"
    shutil.copytree(resources_dir(), resources)
    monkeypatch.setenv(RESOURCES_ENV, str(resources))
    rt = Runtime.build(open_database(db_url))
    try:
        first = rt.audit.search(AuditFilter(action="protocol_changed"))
        assert first and all(e.outcome == "first seen" for e in first)
        assert rt.audit_clinic_files() == []  # nothing changed since
        protocol = resources / "protocols" / "im-ketamine.toml"
        protocol.write_text(protocol.read_text() + "\n# edited by the clinic\n")
        assert rt.audit_clinic_files() == ["file:protocols/im-ketamine.toml"]
        latest = rt.audit.search(AuditFilter(subject="file:protocols/im-ketamine.toml"))[0]
        assert latest.outcome == "changed since last start" and len(latest.detail["sha256"]) == 64
    finally:
        rt.shutdown()
