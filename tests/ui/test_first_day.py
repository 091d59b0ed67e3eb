"""Issue 10, a clinic's first day, with the real main window built as the app builds it
(``build_main_window``) and its real theme switcher: sizes on a 1280x720 laptop, colours
and contrast in every theme, patient mode's lock-down, a clean second session, missed
checks on the record, the item-9 flag in the staff window, the keys staff use."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from access_support import CLINICIAN
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from kapdesk.app import build_main_window
from kapdesk.demo.mode import start_demo
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.alarms import AlarmKind, AlarmState, AudioState, Condition, Priority
from kapdesk.domain.checklist import GateAnswer, Override, StaffRole
from kapdesk.domain.patients import Patient
from kapdesk.domain.readings import Reading
from kapdesk.domain.staff_pin import hash_pin
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.common import theme
from kapdesk.ui.journal.patient_mode import PatientJournalWindow
from kapdesk.ui.journal.widgets import SetPinDialog
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.session.summary import SessionSummaryView

ALDRETE_FULL = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2, "spo2": 2}
CALM = {"nibp_systolic": 126.0, "nibp_diastolic": 80.0, "heart_rate": 72.0, "spo2": 97.0}

#: What a 1280x720 laptop leaves a window inside its title bar and a panel.
LAPTOP_W, LAPTOP_H = 1280, 680


@dataclass
class SteppedClock:
    """The session clock's monotonic source under the test's control."""

    mono: float
    speed: float

    def __call__(self) -> float:
        self.mono += 1e-6
        return self.mono

    def minutes(self, n: float) -> None:
        self.mono += n * 60 / self.speed


@pytest.fixture
def demo(qtbot: QtBot, qapp: QApplication, db_url: str) -> Iterator[tuple[Runtime, MainWindow]]:
    rt = Runtime.build(open_database(db_url), speed=20.0, actor=CLINICIAN)
    start_demo(rt)
    win = build_main_window(qapp, rt, demo=True)
    qtbot.addWidget(win)
    win.show()
    yield rt, win
    win.close()
    rt.shutdown()
    theme.apply(qapp, theme.DARK)


@pytest.fixture
def clinic(qtbot: QtBot, qapp: QApplication, db_url: str):
    """A clinic workstation (not demo): one patient's session opened by hand, the
    session clock stepped by the test."""
    rt = Runtime.build(open_database(db_url), speed=60.0, actor=CLINICIAN)
    clock = SteppedClock(time.monotonic(), rt.clock.speed)
    rt.clock.monotonic = clock
    rt.desk.enter(
        Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, "Dr Osei", username="dr.osei"), "test"
    )
    patient = Patient(
        display_name="R. K. (test)",
        weight_kg=72.0,
        baseline={"heart_rate": 70, "nibp_systolic": 122, "nibp_diastolic": 78, "spo2": 98},
    )
    rt.controller.open(patient, "im-ketamine")
    rt.controller.start()
    win = build_main_window(qapp, rt)
    qtbot.addWidget(win)
    win.show()
    yield rt, win, clock
    win.close()
    rt.shutdown()
    theme.apply(qapp, theme.DARK)


def fits(widget: QWidget) -> bool:
    hint, minimum = widget.minimumSizeHint(), widget.minimumSize()
    return (
        max(hint.width(), minimum.width()) <= LAPTOP_W
        and max(hint.height(), minimum.height()) <= LAPTOP_H
    )


def test_the_main_window_fits_a_laptop_and_its_numerals_fill_their_tiles(
    qtbot: QtBot, demo
) -> None:
    _rt, win = demo
    for name in theme.THEMES:
        win.themes.set_theme(name)
        qtbot.wait(50)
        assert fits(win), (name, win.minimumSizeHint())
    win.resize(1280, 720)
    qtbot.wait(200)
    small = win.monitor.numerics.hr.value.pixel_size()
    assert win.size().width() == 1280 and win.size().height() == 720
    for tile in win.monitor.numerics.tiles():  # every tile on screen, right edge inside
        right = tile.mapTo(win, tile.rect().topRight()).x()
        assert right <= win.width(), tile.title.text()
    win.resize(1920, 1080)
    qtbot.wait(200)
    large = win.monitor.numerics.hr.value.pixel_size()
    assert small >= 48 and large >= 1.8 * small, (small, large)


def test_every_theme_passes_wcag_aa_and_widgets_follow_a_switch(qtbot: QtBot, demo) -> None:
    _rt, win = demo
    for name, t in theme.THEMES.items():
        failures = [
            f"{what}: {theme.contrast_ratio(fg, bg):.2f} < {minimum}"
            for what, fg, bg, minimum in theme.contrast_pairs(t)
            if theme.contrast_ratio(fg, bg) < minimum
        ]
        assert not failures, (name, failures)
        win.themes.set_theme(name)
        qtbot.wait(60)
        hr = win.monitor.numerics.hr
        assert hr.value.colour.name() == t.channel["heart_rate"].lower()
        banner_text = win.monitor.banner.message.colour.name()
        assert banner_text in {
            t.banner_calm_text.lower(),
            theme.ALARM_ON_TEXT.lower(),
            *(c.lower() for c in t.alarm_text.values()),
        }
    # No widget of the window carries a colour of its own.
    coloured = [
        type(w).__name__
        for w in win.findChildren(QWidget)
        if "#" in w.styleSheet() or "color" in w.styleSheet()
    ]
    assert not coloured, coloured


def test_a_three_line_alarm_is_shown_whole_and_tones_down_once_acknowledged(
    qtbot: QtBot, demo
) -> None:
    rt, win = demo
    win.resize(1280, 720)
    win._timer.stop()  # the banner shows this state alone, not the live one
    banner = win.monitor.banner
    long = (
        "*** NIBP systolic 212 > 180 mmHg: repeat the cuff reading and tell the medical "
        "lead; second reading pending, patient resting with the eye mask on"
    )
    state = AlarmState(
        channel="nibp_systolic", priority=Priority.HIGH, kind=AlarmKind.PHYSIOLOGICAL,
        condition=Condition.ABOVE_HIGH_LIMIT, message=long, value=212.0, limit=180.0,
        started=rt.clock.now(),
        acknowledged_by=None, acknowledged_at=None, latched=True, audible=True,
    )  # fmt: skip
    banner.show_state((state,), AudioState(Priority.HIGH, None), rt.clock.now(), 120)
    qtbot.wait(50)
    drawn = banner.message.drawn_font()
    box = banner.message.contentsRect()
    need = QFontMetrics(drawn).boundingRect(
        QRect(0, 0, box.width(), 10000), int(Qt.TextFlag.TextWordWrap.value), banner.message.text()
    )
    assert need.height() <= box.height() and "[latched]" in banner.message.text()
    assert banner.message.text().startswith("*** NIBP")


def test_patient_mode_is_a_lock_down_left_only_with_the_staff_pin(qtbot: QtBot, clinic) -> None:
    rt, win, _clock = clinic
    store = rt.journal
    assert store.staff_pin_hash() is None
    win.open_patient_journal()  # no PIN yet: staff are asked to set one, and told why
    dialog = win.pin_setup
    assert isinstance(dialog, SetPinDialog) and dialog.isVisible() and fits(dialog)
    dialog.pin.setText("4821")
    dialog.again.setText("4812")
    assert not dialog.try_set() and "differ" in dialog.message.text()
    dialog.again.setText("4821")
    assert dialog.try_set()
    qtbot.waitUntil(lambda: win.patient_mode is not None, timeout=3000)
    patient = win.patient_mode
    assert isinstance(patient, PatientJournalWindow) and fits(patient)
    qtbot.waitUntil(patient.isFullScreen, timeout=2000)
    others = [
        w for w in QApplication.topLevelWidgets()
        if w.isVisible() and w is not patient and w.window() is not patient
    ]  # fmt: skip
    assert not others, [type(w).__name__ for w in others]
    assert not win.isVisible()
    assert patient.windowModality().name == "ApplicationModal"
    assert patient.menuBar().actions() == []
    patient.close()  # closing asks for the PIN instead
    assert patient.isVisible() and patient.pin_dialog is not None
    patient.pin_dialog.pin.setText("0000")
    assert not patient.pin_dialog.try_pin()
    assert patient.isVisible() and not win.isVisible()
    patient.pin_dialog.pin.setText("4821")
    assert patient.pin_dialog.try_pin()
    qtbot.waitUntil(win.isVisible, timeout=2000)
    assert win.patient_mode is None and not patient.isVisible()


def test_an_item_9_answer_reaches_the_staff_window_until_marked_seen(qtbot: QtBot, clinic) -> None:
    rt, win, _clock = clinic
    store = rt.journal
    store.set_staff_pin_hash(hash_pin("4821"))
    patient_id = rt.controller.patient.id
    assert not win.safety_flags.isVisible()
    store.submit_questionnaire(
        Actor.patient(patient_id), patient_id, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1]
    )
    win.safety_flags.refresh()
    assert win.safety_flags.isVisible()
    assert "R. K. (test)" in win.safety_flags.text.text()
    win.safety_flags.mark_seen()
    assert not win.safety_flags.isVisible()
    [seen] = store.safety_flags(Actor.therapist("dr.osei"), open_only=False)
    assert seen.acknowledged_by == "dr.osei" and seen.acknowledged_at is not None


def test_a_missed_check_stays_missed_and_reaches_discharge_and_the_summary(
    qtbot: QtBot, clinic
) -> None:
    rt, win, clock = clinic
    c = rt.controller
    answers = {g.id: GateAnswer(g.id, confirmed=True) for g in c.protocol.checklist}
    answers["predose_bp"] = GateAnswer("predose_bp", systolic=128, diastolic=82)
    c.record_checklist(answers)
    c.give_dose("IM", 50, "K-1")
    c.eye_mask(True)
    clock.minutes(50)  # the 15-, 30- and 40-min blood pressures came and went
    win.session_panel.refresh()
    missed = win.session_panel.missed_labels()
    assert "Blood pressure at 15 min" in missed
    shown = _check_rows(win)
    assert any("Blood pressure at 15 min" in t and "missed" in t for t in shown)
    clock.minutes(30)
    a = c.assess_discharge(ALDRETE_FULL, True, CALM)
    checks = next(x for x in a.criteria if x.id == "checks")
    assert not checks.met and "Blood pressure at 15 min" in checks.detail
    reason = Override("checks", "Dr. Osei", StaffRole.MEDICAL, "monitored on the cuff")
    c.discharge(ALDRETE_FULL, True, CALM, [reason])
    clock.minutes(20)  # after discharge nothing prompts any more
    assert c.schedule().pending() == [] and c.check_in_due() is None
    win.session_panel.refresh()
    assert not win.session_panel.reminder.isVisible()
    assert not any("late" in t or "due" in t for t in _check_rows(win))
    view = SessionSummaryView.for_controller(c)
    assert fits(view)
    text = view.toPlainText()
    assert "Missed: Blood pressure at 15 min" in text
    assert "monitored on the cuff" in text
    for name, t in theme.THEMES.items():  # the summary follows the theme (day at discharge)
        theme.apply(QApplication.instance(), t)
        assert t.text in view.document().defaultStyleSheet(), name
    view.close()


def _check_rows(win: MainWindow) -> list[str]:
    rows = win.session_panel.checks
    return [rows.item(i).text() for i in range(rows.count())]


def test_a_second_session_starts_clean(qtbot: QtBot, clinic) -> None:
    rt, win, _clock = clinic
    rt.hub.publish(Reading("nibp_systolic", 210, "mm[Hg]", t=rt.clock.now(), device="cuff"))
    qtbot.waitUntil(lambda: "210" in win.monitor.banner.message.text(), timeout=3000)
    qtbot.waitUntil(lambda: win.monitor.numerics.nibp._alarm is not None, timeout=2000)
    rt.controller.note("first patient's note")
    qtbot.waitUntil(lambda: win.timeline.count() >= 3, timeout=2000)
    rt.controller.abort("test: next patient")
    rt.controller.open(Patient(display_name="Next Patient", weight_kg=60.0), "im-ketamine")
    rt.controller.start()
    qtbot.waitUntil(
        lambda: not any("210" in a.message for a in rt.alarms.active_alarms()), timeout=3000
    )
    qtbot.waitUntil(lambda: "210" not in win.monitor.banner.message.text(), timeout=3000)
    qtbot.waitUntil(lambda: win.monitor.numerics.nibp._alarm is None, timeout=2000)

    def texts() -> list[str]:
        return [win.timeline.item(i).text() for i in range(win.timeline.count())]

    def only_the_new_session() -> bool:
        # the first session's own "Session started" line is there until the new one clears it
        lines = texts()
        return any("Session started (Intramuscular ketamine)" in t for t in lines) and not any(
            "first patient's note" in t for t in lines
        )

    qtbot.waitUntil(only_the_new_session, timeout=3000)
    assert win.monitor.plots.marker_count <= 2, win.monitor.plots.marker_labels()


def test_keys_for_what_staff_do_most_and_next_phase_asks_first(qtbot: QtBot, clinic) -> None:
    rt, win, _clock = clinic
    assert set(win.shortcuts) == {
        "acknowledge", "pause_audio", "note", "marker", "next_phase", "lock"
    }  # fmt: skip
    before = rt.controller.session.phase.id
    win.shortcuts["next_phase"].activated.emit()
    box = win.confirm_box
    assert isinstance(box, QMessageBox) and "cannot be undone" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert rt.controller.session.phase.id == before
    win.shortcuts["next_phase"].activated.emit()
    win.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert rt.controller.session.phase.id != before
    win.shortcuts["marker"].activated.emit()
    assert rt.controller.events[-1].kind == "marker"
    assert "(F5)" in win.monitor.banner.ack.text()


def test_alarm_changes_are_announced_and_numerals_carry_their_value(qtbot: QtBot, clinic) -> None:
    from kapdesk.ui.common.announce import announced

    rt, win, _clock = clinic
    announced.clear()
    rt.hub.publish(Reading("nibp_systolic", 204, "mm[Hg]", t=rt.clock.now(), device="cuff"))
    rt.hub.publish(Reading("nibp_diastolic", 96, "mm[Hg]", t=rt.clock.now(), device="cuff"))
    qtbot.waitUntil(lambda: any("204" in text for text, _loud in announced), timeout=3000)
    [(text, loud)] = [(x, a) for x, a in announced if "204" in x]
    assert text.startswith("raised") and loud  # high priority: assertive
    qtbot.waitUntil(lambda: "204" in win.monitor.numerics.nibp.value.text(), timeout=3000)
    assert "NIBP" in win.monitor.numerics.nibp.value.accessibleName()
    assert "204" in win.monitor.numerics.nibp.value.accessibleName()
    assert "204" in win.monitor.banner.message.accessibleName()


def test_the_banner_count_of_more_alarms_is_never_cut(qtbot: QtBot, demo) -> None:
    rt, win = demo
    win.resize(1280, 720)
    for ch, value in (("nibp_systolic", 206), ("nibp_diastolic", 125)):
        rt.hub.publish(Reading(ch, value, "mm[Hg]", t=rt.clock.now(), device="cuff"))
    qtbot.waitUntil(lambda: "more" in win.monitor.banner.more.text(), timeout=3000)
    qtbot.wait(100)
    more = win.monitor.banner.more
    need = QFontMetrics(more.drawn_font()).horizontalAdvance(more.text())
    assert more.contentsRect().width() >= need, (more.width(), need)
