"""The session dialogs on a 1280x720 clinic laptop (issue 10): every dialog fits, routes
are spelled out, a dose is confirmed before it is recorded, a stale error clears once the
entry is fixed, and a new session starts with the clinic's protocol (or the last used)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox
from session_test_support import SteppedClock, make_patient

from kapdesk.config.paths import RESOURCES_ENV, resources_dir
from kapdesk.config.protocols import default_protocol
from kapdesk.domain.checklist import GateAnswer, GateKind
from kapdesk.domain.dosing import ROUTE_LABELS, route_label, route_phrase
from kapdesk.live.runtime import Runtime
from kapdesk.ui.session.dialogs import (
    CheckDialog,
    ChecklistDialog,
    DischargeDialog,
    DoseDialog,
    IntentionDialog,
    NewSessionDialog,
    NoteDialog,
    set_scale_answers,
)

#: The clinic laptop's screen.
SCREEN_W, SCREEN_H = 1280, 720


pytestmark = pytest.mark.usefixtures("app_theme")


@pytest.fixture
def answer(monkeypatch):
    """QMessageBox.question answered by the test; the questions asked are kept."""
    asked: list[str] = []
    reply = {"button": QMessageBox.StandardButton.Yes}

    def question(parent, title, text, *args):
        asked.append(text)
        return reply["button"]

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked, reply


def cleared_session(runtime: Runtime, protocol: str = "esketamine-nasal") -> None:
    """A started session whose pre-dose checklist passed (every gate ticked, BP 120/80)."""
    c = runtime.controller
    c.open(make_patient(), protocol)
    c.start()
    answers = {
        g.id: GateAnswer(g.id, confirmed=True)
        if g.kind is GateKind.CONFIRM
        else GateAnswer(g.id, systolic=120, diastolic=80)
        for g in c.protocol.checklist
    }
    outcome = c.record_checklist(answers, [])
    assert outcome.cleared, outcome


def assert_fits(qtbot, dialog: QDialog) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for what, size in (
        ("minimumSizeHint", dialog.minimumSizeHint()),
        ("minimumSize", dialog.minimumSize()),
    ):
        # room for the window's title bar and a task bar below 720
        assert size.width() <= SCREEN_W and size.height() <= SCREEN_H - 80, (
            type(dialog).__name__,
            what,
            size,
        )
    # the buttons are inside the smallest dialog, not below it
    dialog.resize(dialog.minimumSize())
    qtbot.wait(10)
    buttons = dialog.buttons.geometry()
    assert buttons.bottom() <= dialog.height() and buttons.height() > 0


def test_every_dialog_fits_a_1280x720_screen(
    qtbot, runtime: Runtime, clock: SteppedClock, answer
) -> None:
    assert_fits(qtbot, NewSessionDialog(runtime))
    for protocol in ("esketamine-nasal", "im-ketamine", "iv-ketamine-infusion"):
        runtime.controller.open(make_patient(), protocol)
        runtime.controller.start()
        assert_fits(qtbot, ChecklistDialog(runtime))
        assert_fits(qtbot, IntentionDialog(runtime))
        assert_fits(qtbot, DoseDialog(runtime))
        for check in runtime.controller.protocol.checks:
            assert_fits(qtbot, CheckDialog(runtime, check.id))
        assert_fits(qtbot, NoteDialog(runtime))
        discharge = DischargeDialog(runtime)
        assert_fits(qtbot, discharge)
        assert discharge.minimumSize().height() < 600  # was 760: its buttons fell off
        runtime.controller.session = None


def test_discharge_dialog_scrolls_its_form_and_keeps_its_buttons(
    qtbot, runtime: Runtime, clock: SteppedClock
) -> None:
    cleared_session(runtime)
    dialog = DischargeDialog(runtime)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.resize(1200, 600)  # what a 1280x720 screen leaves for it
    qtbot.wait(10)
    assert dialog.buttons.geometry().bottom() <= dialog.height()
    assert dialog.form_scroll.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    set_scale_answers(dialog.score_form, {i.id: 2 for i in dialog.score_form.scale.items})
    dialog.refresh()
    score = next(iter(dialog.criterion_labels.values()))
    assert score.property("role") in ("ok", "warn")  # theme roles, not colours


def test_routes_are_spelled_out_and_the_code_is_recorded(
    qtbot, runtime: Runtime, clock: SteppedClock, answer
) -> None:
    assert route_label("IN") == "Intranasal (nasal spray)"
    assert route_label("IM") == "Intramuscular (IM)"
    assert route_label("IV") == "Intravenous (IV)"
    assert route_label("SL") == "Sublingual lozenge"
    assert route_label("XY") == "XY"  # a clinic's own code, as written
    assert route_phrase("IN") == "intranasal (nasal spray)"
    assert len(set(ROUTE_LABELS.values())) == len(ROUTE_LABELS)
    cleared_session(runtime)
    dose = DoseDialog(runtime)
    qtbot.addWidget(dose)
    items = [dose.route.itemText(i) for i in range(dose.route.count())]
    assert items == ["Intranasal (nasal spray)"]
    assert dose.route_code() == "IN"
    dose.amount.setValue(56)
    dose.lot.setText("K-7731")
    dose.accept()
    assert dose.result() == QDialog.DialogCode.Accepted, dose.error.text()
    assert runtime.controller.doses[0].data["route"] == "IN"  # the stored code stays
    assert dose.dose.route == "IN"


def test_a_dose_is_confirmed_before_it_is_recorded(
    qtbot, runtime: Runtime, clock: SteppedClock, answer
) -> None:
    asked, reply = answer
    cleared_session(runtime)
    c = runtime.controller
    dose = DoseDialog(runtime)
    qtbot.addWidget(dose)
    dose.amount.setValue(60)
    dose.lot.setText("K-7731")

    reply["button"] = QMessageBox.StandardButton.No
    dose.accept()
    assert len(asked) == 1
    assert "60 mg" in asked[0] and "intranasal (nasal spray)" in asked[0]
    assert "lot K-7731" in asked[0]
    assert asked[0].startswith("Record 60 mg intranasal (nasal spray), lot K-7731?")
    assert c.doses == [] and dose.result() != QDialog.DialogCode.Accepted  # No: nothing

    reply["button"] = QMessageBox.StandardButton.Yes
    dose.accept()
    assert len(asked) == 2 and dose.result() == QDialog.DialogCode.Accepted
    recorded = [(e.data["amount_mg"], e.data["route"], e.data["lot"]) for e in c.doses]
    assert recorded == [(60.0, "IN", "K-7731")]


def test_an_entry_that_would_be_refused_is_not_asked_about(
    qtbot, runtime: Runtime, clock: SteppedClock, answer
) -> None:
    asked, _ = answer
    c = runtime.controller
    c.open(make_patient(), "esketamine-nasal")
    c.start()
    dose = DoseDialog(runtime)
    qtbot.addWidget(dose)
    dose.amount.setValue(56)
    dose.lot.setText("K-1")
    dose.accept()  # the checklist is not done
    assert "checklist" in dose.error.text() and asked == [] and c.doses == []


def test_a_stale_error_clears_as_soon_as_the_entry_is_fixed(
    qtbot, runtime: Runtime, clock: SteppedClock, answer
) -> None:
    asked, _ = answer
    cleared_session(runtime)
    dose = DoseDialog(runtime)
    qtbot.addWidget(dose)
    dose.amount.setValue(56)
    dose.accept()  # no lot
    assert "lot" in dose.error.text() and asked == []
    dose.note.setText("left nostril first")  # still no lot: the error stays true
    assert "lot" in dose.error.text()
    dose.amount.setValue(0)  # now a different problem: the error says so
    assert "amount" in dose.error.text()
    dose.amount.setValue(56)
    assert "lot" in dose.error.text()
    dose.lot.setText("K")  # fixed: the error goes at once, before Record is pressed
    assert dose.error.text() == ""


def test_new_session_defaults_to_the_clinics_protocol(
    qtbot, runtime: Runtime, tmp_path: Path, monkeypatch
) -> None:
    clinic = copy_resources(tmp_path, monkeypatch)
    set_default(clinic, "iv-ketamine-infusion")
    assert default_protocol() == "iv-ketamine-infusion"
    dialog = NewSessionDialog(runtime)
    qtbot.addWidget(dialog)
    assert dialog.protocol.currentData() == "iv-ketamine-infusion"
    assert "clinic's default" in dialog.default_note.text()
    assert "Intravenous (IV)" in dialog.about.text()

    # the setting wins over the last used protocol
    runtime.controller.open(make_patient(), "sublingual-ketamine")
    dialog = NewSessionDialog(runtime)
    qtbot.addWidget(dialog)
    assert dialog.protocol.currentData() == "iv-ketamine-infusion"

    # a default that is no protocol file is said, and the last used is taken instead
    set_default(clinic, "no-such-protocol")
    dialog = NewSessionDialog(runtime)
    qtbot.addWidget(dialog)
    assert dialog.protocol.currentData() == "sublingual-ketamine"
    assert "no-such-protocol" in dialog.default_note.text()
    assert dialog.default_note.property("role") == "warn"


def test_without_a_clinic_default_a_new_session_takes_the_last_used(
    qtbot, runtime: Runtime, tmp_path: Path, monkeypatch
) -> None:
    clinic = copy_resources(tmp_path, monkeypatch)
    set_default(clinic, "")
    assert default_protocol() is None
    dialog = NewSessionDialog(runtime)
    qtbot.addWidget(dialog)
    assert dialog.protocol.currentIndex() == 0  # nothing used yet: the first
    for protocol in ("im-ketamine", "sublingual-ketamine"):
        runtime.controller.open(make_patient(), protocol)
        dialog = NewSessionDialog(runtime)
        qtbot.addWidget(dialog)
        assert dialog.protocol.currentData() == protocol
        assert "last session" in dialog.default_note.text()


def test_the_shipped_clinic_file_names_a_protocol_that_loads() -> None:
    from kapdesk.config.protocols import available_protocols

    configured = default_protocol()
    assert configured is None or configured in dict(available_protocols())


def copy_resources(tmp_path: Path, monkeypatch) -> Path:
    """A clinic copy of resources/ (protocols and scales as shipped, own clinic.toml)."""
    import shutil

    root = tmp_path / "resources"
    source = resources_dir()
    for sub in ("protocols", "scales"):
        shutil.copytree(source / sub, root / sub)
    shutil.copy(source / "clinic.toml", root / "clinic.toml")
    monkeypatch.setenv(RESOURCES_ENV, str(root))
    return root / "clinic.toml"


def set_default(clinic: Path, protocol: str) -> None:
    text = clinic.read_text(encoding="utf-8")
    lines = [
        f'default_protocol = "{protocol}"' if line.startswith("default_protocol") else line
        for line in text.splitlines()
    ]
    clinic.write_text("\n".join(lines) + "\n", encoding="utf-8")
