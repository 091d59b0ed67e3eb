"""Care teams through the real MainWindow built as the app builds it: the patient dialog
ticks the signed-in therapist for a new patient, edits the care team of an existing one,
and the journal review of a therapist outside it shows nothing of the patient, in every
theme at 1280x720 with nothing cut."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapdesk.app import build_main_window
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.patients import Patient
from kapdesk.live.runtime import Runtime
from kapdesk.storage.audit import AuditFilter
from kapdesk.storage.database import open_database
from kapdesk.ui.common import theme
from kapdesk.ui.session.patient_dialog import PatientDialog

PASSWORD = "long enough 1"


@pytest.fixture
def clinic(qtbot: QtBot, qapp, db_url: str):
    rt = Runtime.build(open_database(db_url), speed=1.0)
    rt.accounts.create(None, "ada", "Ada Admin", {Role.ADMIN}, PASSWORD)
    admin = rt.accounts.sign_in("ada", PASSWORD)
    rt.accounts.create(admin, "tess", "Tess Therapist", {Role.THERAPIST}, PASSWORD)
    rt.accounts.create(admin, "theo", "Theo Therapist", {Role.THERAPIST}, PASSWORD)
    rt.accounts.create(admin, "nia", "Nia Nurse", {Role.MEDICAL_STAFF}, PASSWORD)
    rt.desk.sign_in("tess", PASSWORD)
    win = build_main_window(qapp, rt)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    yield rt, win
    win.close()
    rt.shutdown()


def _ticked(dialog: PatientDialog) -> dict[str, bool]:
    box = dialog.care_team
    return {
        str(box.item(i).data(Qt.ItemDataRole.UserRole)): box.item(i).checkState()
        == Qt.CheckState.Checked
        for i in range(box.count())
    }


def _tick(dialog: PatientDialog, username: str, on: bool) -> None:
    box = dialog.care_team
    for i in range(box.count()):
        item = box.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == username:
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


def test_the_patient_dialog_keeps_the_care_team_and_the_review_follows_it(
    qtbot: QtBot, clinic, tmp_path: Path
) -> None:
    rt, win = clinic
    new = win.session_panel.open_new_session()
    dialog = new.create_patient()
    # the therapists only (the nurse reads no journal), the signed-in one ticked
    assert _ticked(dialog) == {"tess": True, "theo": False}
    dialog.name.setText("Robin Example")
    _tick(dialog, "theo", True)
    dialog.accept()
    assert dialog.saved is not None and dialog.saved.id is not None
    pid = dialog.saved.id
    assert rt.care_teams.members(pid) == ["tess", "theo"]
    # the patient writes a shared entry
    me = Actor.patient(pid)
    entry = rt.journal.create_entry(me, pid, shared=True)
    rt.journal.autosave(me, entry.id, "the lake and the light")
    rt.journal.save(me, entry.id)

    edit = new.edit_patient()
    assert edit is not None and _ticked(edit) == {"tess": True, "theo": True}
    for name in theme.THEMES:
        win.themes.set_theme(name)
        edit.adjustSize()
        assert edit.sizeHint().height() <= 720 - 60, "the dialog must fit a 1280x720 screen"
        pal = edit.care_team.palette()
        text, base = pal.color(pal.ColorRole.Text).name(), pal.color(pal.ColorRole.Base).name()
        assert theme.contrast_ratio(text, base) >= 4.5, (name, text, base)
        image = edit.grab()
        assert image.save(str(tmp_path / f"patient-care-team-{name}.png"))
    _tick(edit, "theo", False)
    edit.accept()
    assert rt.care_teams.members(pid) == ["tess"]
    left = rt.audit.search(AuditFilter(subject=f"patient:{pid}", action=AuditAction.CARE_TEAM_LEFT))
    assert [(e.user, e.detail["member"]) for e in left] == [("tess", "theo")]
    new.reject()

    win.open_journal_review()
    tess_review = win.journal_windows[-1]
    assert tess_review.isVisible()
    rt.desk.sign_in("theo", PASSWORD)  # another person: tess's window must not stay open
    qtbot.waitUntil(lambda: not tess_review.isVisible(), timeout=2000)
    win.open_journal_review()
    review = win.journal_windows[-1]
    review.refresh()
    assert review.patient_list.count() == 0 and review.new_list.count() == 0
    review.search_box.setText("lake")
    review.run_search()
    assert review.results.count() == 0
    review.close()

    rt.desk.sign_in("tess", PASSWORD)
    win.open_journal_review()
    review = win.journal_windows[-1]
    review.refresh()
    assert review.patient_list.count() == 1 and review.new_list.count() == 1
    review.close()


def test_an_open_review_drops_a_patient_the_moment_its_reader_leaves_the_care_team(
    qtbot: QtBot, clinic
) -> None:
    rt, win = clinic
    tess = rt.desk.current()
    patient = rt.patients.add(Patient("Sam"))
    me = Actor.patient(patient.id)
    entry = rt.journal.create_entry(me, patient.id, shared=True)
    rt.journal.autosave(me, entry.id, "words only the care team reads")
    rt.journal.save(me, entry.id)
    win.open_journal_review()
    review = win.journal_windows[-1]
    review.show_patient(patient.id)
    review.open_entry(entry.id)
    assert "care team reads" in review.reader.toPlainText()
    admin = rt.accounts.sign_in("ada", PASSWORD)
    rt.care_teams.leave(admin, patient.id, tess.username)
    qtbot.waitUntil(lambda: review.reader.toPlainText() == "", timeout=2000)
    assert review.isVisible() and review.patient_list.count() == 0
    assert review.entry_list.count() == 0 and review.actor.care_of == frozenset()
