"""Who is at the keyboard, through the real MainWindow built as the app builds it: real
accounts (argon2id) in a real SQLite file, the sign-in dialog, the lock that never hides
the patient's monitor, acknowledging an alarm while locked, break glass, the admin's
windows, patient mode left only by a staff PIN or sign-in."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapdesk.app import build_main_window
from kapdesk.demo.script import demo_patient
from kapdesk.domain.access import AT_THE_BEDSIDE, AccessDenied, Role
from kapdesk.domain.alarms import Priority
from kapdesk.domain.readings import Reading
from kapdesk.live.desk import DeskState
from kapdesk.live.runtime import Runtime
from kapdesk.storage.audit import AuditFilter
from kapdesk.storage.database import open_database
from kapdesk.storage.records import load_alarm_transitions
from kapdesk.ui.common.lock import IdleLock
from kapdesk.ui.common.sign_in import FirstStartDialog, SignInDialog

PASSWORD = "long enough 1"


@pytest.fixture
def clinic(qtbot: QtBot, qapp, db_url: str):
    rt = Runtime.build(open_database(db_url), speed=1.0)
    first = FirstStartDialog(rt.desk)
    first.display_name.setText("Ada Admin")
    first.username.setText("ada")
    first.password.setText(PASSWORD)
    first.again.setText(PASSWORD)
    assert first.try_create(), first.message.text()
    admin = rt.desk.current()
    rt.accounts.create(admin, "nia", "Nia Nurse", {Role.MEDICAL_STAFF}, PASSWORD)
    rt.accounts.create(admin, "tess", "Tess Therapist", {Role.THERAPIST}, PASSWORD)
    rt.accounts.create(admin, "dr.m", "Dr Mendes", {Role.THERAPIST, Role.MEDICAL_STAFF}, PASSWORD)
    rt.desk.sign_in("dr.m", PASSWORD)
    rt.controller.open(demo_patient(), "im-ketamine")
    rt.controller.start()
    win = build_main_window(qapp, rt)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: rt.alarms.audio_state().sounding is not None, timeout=3000)
    rt.alarms.acknowledge().result(2)  # this machine's "no audio device" alarm
    yield rt, win
    win.close()
    rt.shutdown()


def test_the_first_start_makes_the_admin_and_refuses_mismatched_passwords(qapp, db_url) -> None:
    rt = Runtime.build(open_database(db_url))
    try:
        first = FirstStartDialog(rt.desk)
        first.display_name.setText("Jordan Lee")
        first.username.setText("jlee")
        first.password.setText("one password 1")
        first.again.setText("another one 22")
        assert not first.try_create() and "differ" in first.message.text()
        first.again.setText("one password 1")
        first.also_therapist.setChecked(True)
        assert first.try_create()
        actor = rt.desk.current()
        assert actor is not None and actor.roles == {Role.ADMIN, Role.THERAPIST}
    finally:
        rt.shutdown()


def test_sign_in_names_the_user_on_every_act_and_refuses_a_wrong_password(
    qtbot: QtBot, clinic
) -> None:
    rt, win = clinic
    dialog = SignInDialog(rt.desk)
    dialog.username.setText("nia")
    dialog.password.setText("wrong password")
    assert not dialog.try_sign_in() and "Wrong username or password" in dialog.message.text()
    dialog.password.setText(PASSWORD)
    assert dialog.try_sign_in()
    win.add_marker()
    marker = rt.controller.events[-1]
    assert marker.kind == "marker" and marker.data["by"] == "nia"
    qtbot.waitUntil(lambda: "Nia Nurse (medical staff)" in win.who_action.text(), timeout=1000)


def test_each_role_is_refused_through_the_services_not_only_the_buttons(clinic) -> None:
    rt, win = clinic
    rt.desk.sign_in("tess", PASSWORD)  # a therapist: no dose, no limits, no pause
    with pytest.raises(AccessDenied):
        rt.controller.give_dose("IM", 50, "L1")
    with pytest.raises(AccessDenied):
        rt.alarms.pause_audio()
    with pytest.raises(AccessDenied):
        rt.alarms.change_limit("spo2", rt.alarms.limits().rules[0].condition, Priority.MEDIUM, 90)
    rt.controller.note("calm, eyes closed")  # the therapy side is hers
    rt.desk.sign_in("nia", PASSWORD)  # medical staff: no journal review
    win.open_journal_review()
    assert not win.journal_windows and "therapist" in win.statusBar().currentMessage()
    assert rt.journal.patients(rt.desk.current()) == []  # no journal is hers to see
    with pytest.raises(AccessDenied):
        rt.journal.patient_name(rt.desk.current(), rt.controller.patient.id)
    rt.desk.sign_in("ada", PASSWORD)  # the admin: no patient records, no session acts
    with pytest.raises(AccessDenied):
        rt.patients.all()
    with pytest.raises(AccessDenied):
        rt.controller.note("admin notes")
    assert win.open_accounts() is not None and win.open_audit() is not None
    rt.desk.sign_in("tess", PASSWORD)
    assert win.open_accounts() is None  # a therapist: no accounts window


def test_locking_keeps_the_monitor_live_and_its_alarm_audible(qtbot: QtBot, clinic) -> None:
    rt, win = clinic
    name = rt.controller.patient.display_name
    win.shortcuts["lock"].activated.emit()  # Ctrl+L
    qtbot.waitUntil(lambda: rt.desk.state is DeskState.LOCKED, timeout=1000)
    qtbot.waitUntil(lambda: win.lock_bar.isVisible(), timeout=1000)
    assert win.monitor.isVisible() and not win.session_dock.isVisible()
    assert not win.tabs.isTabVisible(0)  # the timeline (intention, notes) is hidden
    qtbot.waitUntil(lambda: rt.controller.patient.pseudonym in win.patient_label.text())
    assert name not in win.patient_label.text()
    assert not win.journal_menu.isEnabled()
    with pytest.raises(AccessDenied):
        rt.controller.note("while locked")
    # an alarm while locked: banner, sound; acknowledged at the bedside
    rt.hub.publish(Reading("nibp_systolic", 207, "mm[Hg]", t=rt.clock.now(), device="cuff"))
    qtbot.waitUntil(lambda: "207" in win.monitor.banner.message.text(), timeout=2000)
    qtbot.waitUntil(lambda: win.sounder.sounding is Priority.HIGH, timeout=2000)
    qtbot.mouseClick(win.monitor.banner.ack, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.sounder.sounding is None, timeout=2000)
    acked = [
        t for t in load_alarm_transitions(rt.engine, rt.controller.session.id)
        if t.transition.value == "acknowledged" and t.channel == "nibp_systolic"
    ]  # fmt: skip
    assert acked and acked[-1].by == AT_THE_BEDSIDE
    qtbot.waitUntil(  # and in the audit log, queued from the alarm thread
        lambda: any(
            e.user == AT_THE_BEDSIDE
            for e in rt.audit.search(AuditFilter(action="alarm_acknowledged"))
        ),
        timeout=2000,
    )
    # unlock: a wrong password stays locked; the right one brings everything back
    win.lock_bar.password.setText("not it")
    assert not win.lock_bar.try_unlock() and "Wrong password" in win.lock_bar.message.text()
    win.lock_bar.password.setText(PASSWORD)
    assert win.lock_bar.try_unlock()
    qtbot.waitUntil(lambda: win.session_dock.isVisible(), timeout=1000)
    assert not win.lock_bar.isVisible() and win.patient_label.text() == name
    actions = [e.action for e in rt.audit.search(AuditFilter(user="dr.m"))]
    assert actions[:3] == ["unlock", "sign_in_failed", "lock"]


def test_idle_time_locks_by_itself(qtbot: QtBot, clinic) -> None:
    rt, win = clinic
    now = [1000.0]
    idle = IdleLock(rt.desk, win, clock=lambda: now[0], check_ms=60_000)
    now[0] += rt.desk.policy.idle_lock_s - 1
    assert not idle.check() and rt.desk.state is DeskState.SIGNED_IN
    now[0] += 2
    assert idle.check() and rt.desk.state is DeskState.LOCKED
    assert rt.desk.policy.idle_lock_s == 600  # clinic.toml's default: 10 min
    idle.stop()


def test_break_glass_is_loud_and_marks_every_act(qtbot: QtBot, clinic) -> None:
    rt, win = clinic
    rt.desk.lock()
    dialog = win.open_sign_in(emergency=True)
    assert dialog.emergency.isVisible()
    dialog.username.setText("tess")
    dialog.password.setText(PASSWORD)
    dialog.reason.setText("no")
    assert not dialog.try_break_glass() and "why" in dialog.message.text()
    dialog.reason.setText("patient desaturating, nurse out of the room")
    assert dialog.try_break_glass(), dialog.message.text()
    rt.controller.note("oxygen given")
    note = rt.controller.events[-1]
    assert note.data["by"] == "tess" and "desaturating" in note.data["emergency"]
    glass = rt.audit.search(AuditFilter(action="break_glass"))
    assert glass and glass[0].user == "tess" and "desaturating" in glass[0].detail["reason"]
    qtbot.waitUntil(lambda: "EMERGENCY" in win.who_action.text(), timeout=1000)


def test_the_admin_manages_accounts_and_reads_the_audit_log_in_the_app(qtbot, clinic) -> None:
    rt, win = clinic
    rt.desk.sign_in("ada", PASSWORD)
    accounts = win.open_accounts()
    accounts.add_username.setText("sam")
    accounts.add_name.setText("Sam Locum")
    accounts.add_roles.boxes[Role.MEDICAL_STAFF].setChecked(True)
    accounts.add_password.setText("short")
    assert not accounts.add_account() and "at least" in accounts.message.text()
    accounts.add_password.setText("temporary pass 1")
    assert accounts.add_account(), accounts.message.text()
    accounts.select("sam")
    assert accounts.toggle_disabled()
    assert rt.accounts.get("sam").disabled
    audit = win.open_audit()
    audit.refresh()
    shown = [audit.table.item(r, 3).text() for r in range(audit.table.rowCount())]
    assert "account disabled" in shown and "account created" in shown
    assert audit.verify() and "holds" in audit.status.text()
    # locking closes the admin's windows
    rt.desk.lock()
    qtbot.waitUntil(lambda: not accounts.isVisible() and not audit.isVisible(), timeout=1000)


def test_a_temporary_password_must_be_replaced_at_the_first_sign_in(clinic) -> None:
    rt, _ = clinic
    rt.desk.sign_in("ada", PASSWORD)
    rt.accounts.reset_password(rt.desk.current(), "tess", "temporary pass 1")
    dialog = SignInDialog(rt.desk)
    dialog.username.setText("tess")
    dialog.password.setText("temporary pass 1")
    assert not dialog.try_sign_in() and dialog.change.isVisibleTo(dialog)
    dialog.new_password.setText("tess own password")
    dialog.new_again.setText("tess own passwort")
    assert not dialog.try_change_password() and "differ" in dialog.message.text()
    dialog.new_again.setText("tess own password")
    assert dialog.try_change_password()
    assert not rt.accounts.get("tess").must_change_password
    assert rt.desk.sign_in("tess", "tess own password").username == "tess"
