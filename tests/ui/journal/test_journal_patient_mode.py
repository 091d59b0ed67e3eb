"""pytest-qt: patient mode is locked to one patient, saves as the patient types, and is
left only with the staff PIN."""

from __future__ import annotations

import pytest
from journal_support import TEST_PIN, World, make_world
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.journal import JournalSettings, load_journal_settings
from kapdesk.domain.access import AccessDenied, Actor
from kapdesk.ui.journal.patient_mode import PatientJournalWindow, suggest_prompt_set
from kapdesk.ui.journal.questionnaire_panel import patient_result_text


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


@pytest.fixture
def window(qtbot: QtBot, world: World):
    settings = JournalSettings(autosave_delay_ms=100, pin_max_attempts=3, pin_lockout_s=60)
    win = PatientJournalWindow(world.store, world.alice, settings=settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.force_close()


def test_patient_mode_cannot_reach_other_patients(qtbot: QtBot, world: World, window) -> None:
    bob = Actor.patient(world.bob)
    bobs = world.store.create_entry(bob, world.bob)
    world.store.autosave(bob, bobs.id, "bob's private life")
    world.store.save(bob, bobs.id)
    window.refresh_entries()
    assert window.entry_list.count() == 0  # alice has none yet; bob's is not listed
    sessions = [window.session_box.itemData(i) for i in range(window.session_box.count())]
    assert sessions == [None, world.alice_session]
    with pytest.raises(AccessDenied):
        window.open_entry(bobs.id)
    assert window.editor.toPlainText() == ""
    assert window.actor == Actor.patient(world.alice)
    shown = [w.text() for w in window.findChildren(QLabel)]
    shown += [window.entry_list.item(i).text() for i in range(window.entry_list.count())]
    assert not [t for t in shown if "Carol" in t or "bob's" in t]  # no other patient shows
    assert window.windowTitle().endswith(window.patient_name)


def test_closing_needs_the_staff_pin(qtbot: QtBot, window) -> None:
    left = []
    window.left_patient_mode.connect(lambda: left.append(True))
    window.close()
    assert window.isVisible() and not window.unlocked  # close was refused
    dialog = window.pin_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.pin.setText("0000")
    assert not dialog.try_pin()
    assert "Wrong PIN" in dialog.message.text() and window.isVisible()
    dialog.pin.setText(TEST_PIN)
    assert dialog.try_pin()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)
    assert left == [True] and window.unlocked


def test_a_few_wrong_pins_lock_out_even_the_right_one(qtbot: QtBot, window) -> None:
    dialog = window.request_leave()
    for guess in ("1111", "2222", "3333"):
        dialog.pin.setText(guess)
        assert not dialog.try_pin()
    assert "Locked" in dialog.message.text()
    dialog.pin.setText(TEST_PIN)
    assert not dialog.try_pin()
    assert "Too many" in dialog.message.text()
    assert window.isVisible() and not window.unlocked


def test_typing_is_saved_after_a_pause_and_save_adds_revisions(qtbot: QtBot, world, window):
    window.editor.setFocus()
    qtbot.keyClicks(window.editor, "The music carried me")
    assert window.entry is None or window.dirty
    qtbot.waitUntil(lambda: window.saves_committed >= 1, timeout=3000)
    me = Actor.patient(world.alice)
    assert window.entry is not None and window.entry.id is not None
    eid = window.entry.id
    assert world.store.working_entry(me, eid).body == "The music carried me"
    assert window.entry.session_id == world.alice_session  # linked to the latest session
    window.save_entry()
    qtbot.waitUntil(lambda: window.entry_list.count() == 1, timeout=3000)
    qtbot.keyClicks(window.editor, " home.")
    window.sliders["mood"].setValue(8)
    window.save_entry()
    qtbot.waitUntil(lambda: len(world.store.revisions(me, eid)) == 2, timeout=3000)
    revs = world.store.revisions(me, eid)
    assert [r.body for r in revs] == ["The music carried me", "The music carried me home."]
    assert world.store.working_entry(me, eid).checkin.mood == 8


def test_unshared_entry_and_questionnaire_flag(qtbot: QtBot, world: World, window) -> None:
    raised = []
    window.safety_flag_raised.connect(lambda pid, rid: raised.append((pid, rid)))
    window.share.setChecked(False)
    window.editor.setPlainText("only for me")
    window.flush()
    dr = Actor.therapist("dr")
    [view] = world.store.entries(dr, world.alice)
    assert view.redacted
    window.tabs.setCurrentIndex(1)
    window.questionnaire.select("phq9")
    assert not window.questionnaire.submit_button.isEnabled()
    window.questionnaire.set_answers([0, 0, 0, 0, 0, 0, 0, 0, 2])
    assert window.questionnaire.submit_button.isEnabled()
    window.questionnaire.submit_button.click()
    assert raised and raised[0][0] == world.alice
    assert window.questionnaire.flag_message.isVisible()
    # Alone, the patient reads no score and no severity band (the clinic's default).
    assert "27" not in window.questionnaire.result.text()
    assert "therapist" in window.questionnaire.result.text()
    [flag] = world.store.safety_flags(dr)
    assert flag.response_id == raised[0][1]


def test_prompts_follow_the_time_since_the_session() -> None:
    assert suggest_prompt_set(1000.0, 0.0) == "after-session"
    assert suggest_prompt_set(30 * 3600.0, 0.0) == "24-48h"
    assert suggest_prompt_set(5 * 86400.0, 0.0) == "weekly"
    assert suggest_prompt_set(5.0, None) == "weekly"


def test_without_a_staff_pin_patient_mode_does_not_open(qtbot: QtBot, db_url: str) -> None:
    world = make_world(db_url, pin=None)
    with pytest.raises(RuntimeError, match="set-pin"):
        PatientJournalWindow(world.store, world.alice)
    win = PatientJournalWindow(world.store, world.alice, demo=True)  # demo sets 0000
    qtbot.addWidget(win)
    dialog = win.request_leave()
    dialog.pin.setText("0000")
    assert dialog.try_pin()


def test_the_clinic_chooses_what_a_patient_alone_sees_of_a_score() -> None:
    assert patient_result_text("band", "PHQ-9", 12, 27, "moderate").endswith("(moderate).")
    assert "moderate" not in patient_result_text("total", "PHQ-9", 12, 27, "moderate")
    calm = patient_result_text("calm", "PHQ-9", 12, 27, "moderate")
    assert "12" not in calm and "moderate" not in calm


def test_a_wrong_score_setting_names_file_and_field(tmp_path) -> None:
    bad = tmp_path / "clinic.toml"
    bad.write_text('[journal]\npatient_sees_scores = "everything"\n')
    with pytest.raises(ConfigFileError, match=r"journal\.patient_sees_scores"):
        load_journal_settings(bad)
