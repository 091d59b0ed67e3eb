"""A complete dosing session driven through the session panel and its dialogs, at
accelerated speed: checklist (a failed gate, then a medical override), intention, dose
and booster, eye mask with check-in reminders, the scheduled checks as they fall due,
a note, discharge, the summary. Asserts the recorded timeline and grabs a screenshot of
each phase (written to $KAPDESK_SCREENSHOTS when set, for a person to look at)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from access_support import CLINICIAN, THERAPIST
from PySide6.QtWidgets import QDialog, QMessageBox
from session_test_support import SteppedClock, make_patient

from kapdesk.domain.event_text import marker_label
from kapdesk.domain.session import SessionState
from kapdesk.live.runtime import Runtime
from kapdesk.storage.records import load_events
from kapdesk.ui.common.theme import DARK
from kapdesk.ui.monitor.trend_plots import TrendPlots
from kapdesk.ui.session.dialogs import ChecklistDialog, set_scale_answers
from kapdesk.ui.session.panel import SessionPanel

pytestmark = pytest.mark.usefixtures("app_theme")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("KAPDESK_SCREENSHOTS", tmp_path / "shots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def grab(widget, shots: Path, name: str) -> None:
    if isinstance(widget, QDialog):
        widget.adjustSize()  # as a dialog opens: at its own preferred size
    image = widget.grab()
    assert not image.isNull() and image.width() > 300 and image.height() > 200
    assert image.save(str(shots / f"{name}.png"))


def test_a_complete_session_through_the_panel(
    qtbot, runtime: Runtime, clock: SteppedClock, shots: Path, monkeypatch
) -> None:
    c = runtime.controller
    asked: list[str] = []

    def confirm_yes(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", confirm_yes)
    panel = SessionPanel(runtime)
    qtbot.addWidget(panel)
    panel.resize(470, 940)
    panel.show()
    grab(panel, shots, "00-no-session")

    # -- a new patient and a new session from a protocol
    new = panel.open_new_session()
    patient_dialog = new.create_patient()
    p = make_patient()
    patient_dialog.name.setText(p.display_name)
    patient_dialog.dob.setText("1984-03-09")
    patient_dialog.weight.setValue(72.0)
    for channel, value in p.baseline.items():
        patient_dialog.baseline[channel].setValue(int(value))
    patient_dialog.allergies.setText("penicillin")
    grab(patient_dialog, shots, "01-patient")
    patient_dialog.accept()
    assert patient_dialog.saved is not None and patient_dialog.saved.id is not None
    assert new.patient.currentData().id == patient_dialog.saved.id
    new.protocol.setCurrentIndex(new.protocol.findData("im-ketamine"))
    grab(new, shots, "02-new-session")
    new.accept()
    assert new.result() == new.DialogCode.Accepted
    assert c.session.state is SessionState.IN_PROGRESS
    assert c.patient.allergies == "penicillin"
    panel.refresh()
    assert panel.phase.text() == "Preparation and screening"
    assert "Next: Intention setting" in panel.next.text()
    grab(panel, shots, "03-preparation")

    # -- pre-dose checklist: BP above 140 fails; dosing is blocked until overridden
    checklist = panel.open_checklist()
    assert isinstance(checklist, ChecklistDialog)
    for box in checklist.confirm.values():
        box.setChecked(True)
    systolic, diastolic = checklist.bp["predose_bp"]
    systolic.setValue(146)
    diastolic.setValue(84)
    assert checklist.overrides["predose_bp"].isVisibleTo(checklist)
    assert not checklist.overrides["consent"].isVisibleTo(checklist)
    grab(checklist, shots, "04-checklist-failed-gate")
    row = checklist.overrides["predose_bp"]
    row.enabled.setChecked(True)
    row.reason.setText("Anxious on arrival; repeat after 5 min rest 138/84")
    assert "Test Clinician (therapist, medical staff)" in checklist.staff.name.text()
    checklist.accept()
    assert checklist.result() == checklist.DialogCode.Accepted, checklist.error.text()
    assert c.checklist_outcome["cleared"] is True

    # -- intention, in the patient's own words
    panel.advance()
    intention = panel.open_intention()
    intention.text.setPlainText("To be gentle with myself and listen to what comes.")
    grab(intention, shots, "05-intention")
    intention.accept()
    panel.refresh()
    assert "gentle with myself" in panel.intention.text()
    grab(panel, shots, "06-intention-phase")

    # -- dosing: pre-dose sedation score, then the dose (amount entered, mg/kg computed)
    panel.advance()
    moaas = panel.open_check("sedation")
    set_scale_answers(moaas.scale_form, {"responsiveness": 5})
    grab(moaas, shots, "07-moaas")
    moaas.accept()
    dose = panel.open_dose()
    assert dose.amount.value() == 0.0  # nothing is proposed
    assert dose.weight.value() == 72.0
    dose.amount.setValue(50.0)
    dose.lot.setText("K-2291")
    assert dose.per_kg.text() == "0.694 mg/kg"
    grab(dose, shots, "08-dose")
    dose.accept()
    assert dose.result() == dose.DialogCode.Accepted, dose.error.text()
    assert asked[-1].startswith("Record 50 mg intramuscular (IM), lot K-2291?")
    assert c.dose_t is not None
    panel.refresh()
    assert panel.buttons["dose"].text() == "Booster\u2026"
    assert panel.buttons["checklist"].isEnabled() is False

    # -- eye mask and music; the checks fall due on the session clock
    panel.advance()
    panel.toggle_mask()
    assert c.eye_mask_on and panel.buttons["mask"].text() == "Eye mask off"
    clock.minutes(15)
    panel.refresh()
    assert panel.due_labels() == ["Blood pressure at 15 min", "Sedation (MOAA/S) at 15 min"]
    assert "check-in is due" in panel.reminder.text()
    grab(panel, shots, "09-experience-checks-due")
    bp = panel.open_check("bp")
    bp.systolic.setValue(150)
    bp.diastolic.setValue(90)
    grab(bp, shots, "10-bp-check")
    bp.accept()
    moaas = panel.open_check("sedation")
    set_scale_answers(moaas.scale_form, {"responsiveness": 4})
    moaas.accept()
    panel.check_in()
    panel.refresh()
    assert panel.due_labels() == []
    assert re.search(r"next check-in in 1[45]:\d\d", panel.reminder.text())

    clock.minutes(5)  # 20 min: dissociation
    assert panel.due_labels() == ["Dissociation at 20 min"]
    diss = panel.open_check("dissociation")
    set_scale_answers(diss.scale_form, {"global": 2})
    grab(diss, shots, "11-dissociation")
    diss.accept()

    clock.minutes(5)  # 25 min: a booster, as prescribed and entered by staff
    booster = panel.open_dose()
    assert booster.windowTitle() == "Booster (dose 2)"
    booster.amount.setValue(20.0)
    booster.lot.setText("K-2291")
    booster.accept()
    assert booster.result() == booster.DialogCode.Accepted, booster.error.text()

    note = panel.open_note()
    note.text.setPlainText("Tearful for a few minutes, then settled; hand on chest.")
    note.accept()

    clock.minutes(5)  # 30 min
    for check, values in (("bp", (152, 92)), ("sedation", {"responsiveness": 4})):
        dialog = panel.open_check(check)
        if check == "bp":
            dialog.systolic.setValue(values[0])
            dialog.diastolic.setValue(values[1])
        else:
            set_scale_answers(dialog.scale_form, values)
        dialog.accept()
    panel.check_in()
    clock.minutes(10)  # 40 min: BP back near the pre-dose value, and dissociation
    dialog = panel.open_check("bp")
    dialog.systolic.setValue(140)
    dialog.diastolic.setValue(86)
    dialog.accept()
    dialog = panel.open_check("dissociation")
    set_scale_answers(dialog.scale_form, {"global": 1})
    dialog.accept()
    assert c.schedule().stable_at is not None  # two readings within the band: no more BP
    clock.minutes(5)  # 45 min
    dialog = panel.open_check("sedation")
    set_scale_answers(dialog.scale_form, {"responsiveness": 5})
    dialog.accept()

    # -- recovery
    clock.minutes(5)
    panel.toggle_mask()
    panel.advance()
    clock.minutes(10)  # 60 min
    dialog = panel.open_check("sedation")
    set_scale_answers(dialog.scale_form, {"responsiveness": 5})
    dialog.accept()
    panel.refresh()
    assert panel.phase.text() == "Recovery" and panel.due_labels() == []
    assert not panel.reminder.isVisible()
    grab(panel, shots, "12-recovery")

    # -- discharge, once the minimum observation time has passed
    clock.minutes(5)
    panel.advance()
    discharge = panel.open_discharge()
    discharge.vitals_override = {
        "nibp_systolic": 128, "nibp_diastolic": 80, "heart_rate": 74, "spo2": 97,
    }  # fmt: skip
    scale = discharge.score_form.scale
    set_scale_answers(discharge.score_form, {i.id: 2 for i in scale.items})
    discharge.ride_home.setChecked(True)
    discharge.refresh()
    assert discharge.assessment().ready
    grab(discharge, shots, "13-discharge")
    discharge.accept()
    assert discharge.result() == discharge.DialogCode.Accepted, discharge.error.text()
    assert c.session.state is SessionState.COMPLETED
    panel.refresh()
    assert panel.phase.text() == "Discharged"
    assert panel.buttons["new"].isEnabled() and not panel.buttons["dose"].isEnabled()
    grab(panel, shots, "14-discharged")
    summary = panel.summary
    assert summary is not None
    text = summary.toPlainText()
    for expected in (
        "R. K. (test)",
        "overridden by clinician",  # the signed-in user's username
        "To be gentle with myself",
        "Dose: 50 mg intramuscular (IM), 0.694 mg/kg at 72 kg, lot K-2291",
        "Booster 2: 20 mg intramuscular (IM)",
        "scheduled check(s) done",
        "Blood pressure at 15 min: 150/90 mmHg",
        "sedated (below pre-dose)",
        "2 check-in(s)",
        "Tearful for a few minutes",
        "Discharged: score 10/10",
    ):
        assert expected in text, expected
    grab(summary, shots, "15-summary")

    # -- the recorded timeline, as read back from the database
    events = load_events(runtime.engine, c.session.id)
    phases = [e.phase for e in events if e.kind == "phase_entered"]
    assert phases == ["preparation", "intention", "dosing", "experience", "recovery", "discharge"]
    kinds = [e.kind for e in events if e.kind not in ("phase_entered", "phase_ended", "baseline")]
    assert kinds == [
        "session_started", "checklist", "intention", "check", "dose", "eye_mask_on",
        "check", "check", "check_in", "check", "dose", "note", "check", "check", "check_in",
        "check", "check", "check", "eye_mask_off", "check", "discharge", "session_completed",
    ]  # fmt: skip
    times = [e.t for e in events]
    assert times == sorted(times)
    dose_t = c.dose_t
    checks = [(round((e.t - dose_t) / 60), e.data["check"]) for e in events if e.kind == "check"]
    assert checks[1:] == [
        (15, "bp"), (15, "sedation"), (20, "dissociation"), (30, "bp"), (30, "sedation"),
        (40, "bp"), (40, "dissociation"), (45, "sedation"), (60, "sedation"),
    ]  # fmt: skip
    assert [e.data["number"] for e in events if e.kind == "dose"] == [1, 2]
    discharge_event = next(e for e in events if e.kind == "discharge")
    assert discharge_event.data["early"] is False and discharge_event.data["observed_min"] >= 60

    # -- every action is a marker on the vitals plots
    plots = TrendPlots(DARK)
    qtbot.addWidget(plots)
    labelled = [(e, marker_label(e)) for e in events]
    for event, label in labelled:
        if label:
            plots.add_event_marker(event, label)
    assert plots.marker_count == len(kinds) - 2 + len(phases)  # not session start and end
    assert {label for _, label in labelled} >= {"Dose", "Booster 2", "BP 150/90", "MOAA/S 4"}


def test_a_refused_action_keeps_the_dialog_open_with_the_reason(
    qtbot, runtime: Runtime, clock: SteppedClock
) -> None:
    c = runtime.controller
    c.open(make_patient(), "esketamine-nasal")
    c.start()
    panel = SessionPanel(runtime)
    qtbot.addWidget(panel)
    dose = panel.open_dose()
    dose.amount.setValue(28)
    dose.lot.setText("E-1")
    dose.accept()
    assert dose.isVisible() and "checklist" in dose.error.text()
    assert c.doses == []
    checklist = panel.open_checklist()
    checklist.accept()  # nothing ticked: recorded as not cleared, every gate blocking
    assert c.checklist_outcome["cleared"] is False
    assert len(c.checklist_outcome["blocking"]) == len(c.protocol.checklist)
    checklist = panel.open_checklist()
    row = checklist.overrides["consent"]
    row.enabled.setChecked(True)
    row.reason.setText("x")
    runtime.desk.enter(THERAPIST, "test")  # a therapist may not override
    checklist.accept()
    assert checklist.isVisible() and "only medical staff" in checklist.error.text()
    runtime.desk.enter(CLINICIAN, "test")
    intention = panel.open_intention()
    intention.accept()
    assert intention.isVisible() and "empty" in intention.error.text()
