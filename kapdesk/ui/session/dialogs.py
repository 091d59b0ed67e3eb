"""Dialogs for the session's actions: new session, checklist, intention, dose, checks,
note, discharge.

Each dialog validates through the session controller (which records) and shows the
controller's message in the dialog when something is refused, so nothing is lost and the
staff see why. ``accept()`` records and closes only on success; tests set the fields and
call ``accept()`` instead of ``exec()``. No dialog ever proposes a dose amount.

Every dialog fits a 1280x720 clinic laptop: the form sits in a scroll area that scrolls
only when the screen is too small for it, so the buttons always stay on screen. Colours
come from the theme (``set_role``), never from a widget's own style sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapdesk.config.errors import ConfigFileError
from kapdesk.domain import time_text
from kapdesk.domain.access import AT_THE_BEDSIDE, Actor
from kapdesk.domain.checklist import GateAnswer, GateKind, Override, StaffRole, staff_role_of
from kapdesk.domain.discharge import DischargeAssessment
from kapdesk.domain.dosing import Dose, mg_per_kg, route_label, route_phrase
from kapdesk.domain.scales import Scale
from kapdesk.domain.schedule import CheckKind
from kapdesk.live.runtime import Runtime
from kapdesk.ui.common.screen_fit import FitScroll, fitted_size
from kapdesk.ui.common.theme import set_role
from kapdesk.ui.session.patient_dialog import PatientDialog


def _status_role(ok: bool) -> str:
    """A gate or criterion that passes reads as "ok", one that does not as "warn"."""
    return "ok" if ok else "warn"


class ActionDialog(QDialog):
    """A form with an error line and OK/Cancel; subclasses implement ``apply``."""

    ok_text = "Record"

    def __init__(self, runtime: Runtime, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.controller = runtime.controller
        self.setWindowTitle(title)
        self.root = QVBoxLayout(self)
        self.root.setSpacing(12)
        heading = QLabel(title)
        set_role(heading, "heading")
        self.root.addWidget(heading)
        inner = QWidget()
        # a minimum on the body, not the dialog: the dialog's minimum stays its layout's,
        # so it can never be made narrower than its widest row
        inner.setMinimumWidth(540)
        self.body = QVBoxLayout(inner)
        self.body.setContentsMargins(0, 0, 8, 0)
        self.body.setSpacing(12)
        self.form_scroll = FitScroll(inner)
        self.root.addWidget(self.form_scroll, 1)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        set_role(self.error, "error")
        self.root.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.ok_text)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.root.addWidget(self.buttons)
        self._sized = False

    def showEvent(self, event: QShowEvent) -> None:
        """Open at the preferred size where the screen has room for it (Qt alone would
        cap a new window at 2/3 of the screen), unless the caller chose a size."""
        if not self._sized and not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            self.resize(fitted_size(self))
        self._sized = True
        super().showEvent(event)

    def apply(self) -> None:
        raise NotImplementedError

    def accept(self) -> None:
        try:
            self.apply()
        except (ValueError, RuntimeError, KeyError) as e:
            self.error.setText(str(e).strip("'\""))
            return
        super().accept()


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    set_role(label, "muted")
    label.setWordWrap(True)
    return label


def _spin(maximum: int, suffix: str, value: float | None = None) -> QSpinBox:
    box = QSpinBox(maximum=maximum)
    box.setSuffix(f" {suffix}")
    box.setSpecialValueText("\u2014")
    box.setMinimumWidth(120)
    if value is not None:
        box.setValue(round(value))
    return box


class StaffFields(QWidget):
    """Who overrides: the signed-in user, never a typed name. An override is only valid
    from medical staff; the controller records it as the signed-in user's, whatever a
    screen says."""

    def __init__(self, actor: Actor | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.actor = actor
        who = f"{actor.name} ({actor.role_names})" if actor else "nobody signed in"
        self.name = QLabel(who)
        set_role(self.name, "emphasis")
        lay.addWidget(QLabel("Overriding clinician"))
        lay.addWidget(self.name, 1)

    def override(self, item_id: str, reason: str) -> Override:
        actor = self.actor
        if actor is None:
            return Override(item_id, AT_THE_BEDSIDE, StaffRole.OTHER, reason)
        return Override(item_id, actor.who, staff_role_of(actor), reason)


class OverrideRow(QWidget):
    """'Override' tick box plus the reason, for one failed gate or criterion."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(24, 0, 0, 0)
        self.enabled = QCheckBox("Override")
        self.reason = QLineEdit(placeholderText="Reason (required)")
        lay.addWidget(self.enabled)
        lay.addWidget(self.reason, 1)


class NewSessionDialog(ActionDialog):
    """Pick (or create) a patient and a protocol; accepting opens and starts the session."""

    ok_text = "Start session"

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(runtime, "New session", parent)
        form = QFormLayout()
        self.body.addLayout(form)
        self.patient = QComboBox()
        self.patient.setMinimumWidth(320)
        new_patient = QPushButton("New patient\u2026")
        new_patient.clicked.connect(self.create_patient)
        self.edit_patient_button = QPushButton("Edit\u2026")
        self.edit_patient_button.setToolTip("The patient's record and care team")
        self.edit_patient_button.clicked.connect(self.edit_patient)
        row = QHBoxLayout()
        row.addWidget(self.patient, 1)
        row.addWidget(self.edit_patient_button)
        row.addWidget(new_patient)
        form.addRow("Patient", row)
        self.protocol = QComboBox()
        for pid, name in self.runtime.clinic.protocols():
            self.protocol.addItem(name, pid)
        form.addRow("Protocol", self.protocol)
        self.about = _muted("")
        self.body.addWidget(self.about)
        #: why this protocol was preselected (the clinic's default, or the last used)
        self.default_note = _muted("")
        self.body.addWidget(self.default_note)
        self.select_default_protocol()
        self.protocol.currentIndexChanged.connect(self._describe)
        self.reload_patients()
        self._describe()

    def select_default_protocol(self) -> str | None:
        """Preselect the clinic's default protocol (clinic.toml ``[sessions]
        default_protocol``), else the one the last session used, else the first."""
        notes: list[str] = []
        role = "muted"
        try:
            configured = self.runtime.clinic.default_protocol()
        except ConfigFileError as e:
            configured, role = None, "warn"
            notes.append(f"The clinic default cannot be read: {e}")
        choice, why = None, ""
        if configured is not None:
            if self.protocol.findData(configured) >= 0:
                choice, why = configured, "the clinic's default protocol"
            else:
                role = "warn"
                notes.append(
                    f"The clinic default {configured!r} (clinic.toml, [sessions]"
                    " default_protocol) is not a protocol that loads here."
                )
        if choice is None:
            last = self.runtime.patients.last_used_protocol()
            if last is not None and self.protocol.findData(last) >= 0:
                choice, why = last, "the protocol of the last session"
        if choice is not None:
            self.protocol.setCurrentIndex(self.protocol.findData(choice))
            notes.append(f"Preselected: {why}.")
        self.default_note.setText(" ".join(notes))
        self.default_note.setVisible(bool(notes))
        set_role(self.default_note, role)
        return choice

    def reload_patients(self, select_id: int | None = None) -> None:
        self.patient.clear()
        for p in self.runtime.patients.all():
            weight = f", {p.weight_kg:g} kg" if p.weight_kg else ""
            self.patient.addItem(f"{p.display_name}{weight}", p)
            if p.id == select_id:
                self.patient.setCurrentIndex(self.patient.count() - 1)

    def create_patient(self) -> PatientDialog:
        dialog = PatientDialog(self.runtime.patients, parent=self)
        dialog.accepted.connect(lambda: self._created(dialog))
        dialog.open()
        return dialog

    def edit_patient(self) -> PatientDialog | None:
        """The selected patient's record (opening it is audited) and care team."""
        chosen = self.patient.currentData()
        if chosen is None or chosen.id is None:
            return None
        dialog = PatientDialog(
            self.runtime.patients, self.runtime.patients.get(chosen.id), parent=self
        )
        dialog.accepted.connect(lambda: self._created(dialog))
        dialog.open()
        return dialog

    def _created(self, dialog: PatientDialog) -> None:
        if dialog.saved is not None:
            self.reload_patients(dialog.saved.id)

    def _describe(self) -> None:
        pid = self.protocol.currentData()
        if pid:
            p = self.runtime.clinic.protocol(pid).protocol
            routes = ", ".join(route_label(r) for r in p.dosing.routes)
            self.about.setText(
                f"{p.description}\nRoute: {routes}. About {p.expected_total_min:.0f} min in "
                f"{len(p.phases)} phases; minimum observation {p.observation_min:g} min "
                "after the dose."
            )

    def apply(self) -> None:
        patient = self.patient.currentData()
        if patient is None:
            raise ValueError("choose or create a patient")
        if not self.protocol.currentData():
            raise ValueError("no protocol file loads; see resources/protocols")
        current = self.controller.session
        if current is not None and current.state.value == "in_progress":
            raise RuntimeError("a session is in progress; discharge or end it first")
        self.controller.open(patient, self.protocol.currentData())
        self.controller.start()


class ChecklistDialog(ActionDialog):
    """The pre-dose checklist; a failed gate needs a medical override with a reason."""

    ok_text = "Record checklist"

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(runtime, "Pre-dose checklist", parent)
        protocol = self.controller._require_protocol()
        self.gates = protocol.checklist
        grid = QGridLayout()
        grid.setVerticalSpacing(8)
        self.body.addLayout(grid)
        self.confirm: dict[str, QCheckBox] = {}
        self.bp: dict[str, tuple[QSpinBox, QSpinBox]] = {}
        self.status: dict[str, QLabel] = {}
        self.overrides: dict[str, OverrideRow] = {}
        last_sys = runtime.trends.last("nibp_systolic")
        last_dia = runtime.trends.last("nibp_diastolic")
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        row = 0
        for gate in self.gates:
            if gate.kind is GateKind.CONFIRM:
                box = QCheckBox(gate.label)
                box.toggled.connect(self.refresh)
                self.confirm[gate.id] = box
                grid.addWidget(box, row, 0)
            else:
                holder = QWidget()
                hl = QHBoxLayout(holder)
                hl.setContentsMargins(0, 0, 0, 0)
                sys_box = _spin(300, "mmHg", last_sys[1] if last_sys else None)
                dia_box = _spin(200, "mmHg", last_dia[1] if last_dia else None)
                for b in (sys_box, dia_box):
                    b.valueChanged.connect(self.refresh)
                grid.addWidget(QLabel(gate.label), row, 0)
                row += 1
                hl.addWidget(sys_box)
                hl.addWidget(QLabel("/"))
                hl.addWidget(dia_box)
                hl.addStretch(1)
                self.bp[gate.id] = (sys_box, dia_box)
                grid.addWidget(holder, row, 0)
            status = QLabel("")
            status.setWordWrap(True)
            self.status[gate.id] = status
            grid.addWidget(status, row, 1)
            row += 1
            if gate.help:
                grid.addWidget(_muted(gate.help), row, 0, 1, 2)
                row += 1
            ov = OverrideRow()
            self.overrides[gate.id] = ov
            grid.addWidget(ov, row, 0, 1, 2)
            row += 1
        self.staff = StaffFields(runtime.controller.actor())
        self.body.addWidget(self.staff)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.body.addWidget(self.summary)
        self.setMinimumWidth(900)
        self.refresh()

    def answers(self) -> dict[str, GateAnswer]:
        out = {gid: GateAnswer(gid, confirmed=b.isChecked()) for gid, b in self.confirm.items()}
        for gid, (s, d) in self.bp.items():
            sv, dv = s.value(), d.value()
            out[gid] = GateAnswer(gid, systolic=sv or None, diastolic=dv or None)
        return out

    def chosen_overrides(self) -> list[Override]:
        return [
            self.staff.override(gid, row.reason.text().strip())
            for gid, row in self.overrides.items()
            if row.enabled.isChecked() and row.isVisibleTo(self)
        ]

    def refresh(self) -> None:
        from kapdesk.domain.checklist import check_gate

        answers = self.answers()
        failing = 0
        for gate in self.gates:
            passed, detail = check_gate(gate, answers.get(gate.id))
            mark = "\u2713" if passed else "\u25cb"
            status = self.status[gate.id]
            status.setTextFormat(Qt.TextFormat.PlainText)
            status.setText(f"{mark} {detail}")
            set_role(status, _status_role(passed))
            self.overrides[gate.id].setVisible(not passed)
            failing += not passed
        self.summary.setText(
            "All gates pass."
            if not failing
            else f"{failing} gate(s) not passed: dosing "
            "stays blocked unless medical staff override each with a reason."
        )

    def apply(self) -> None:
        self.outcome = self.controller.record_checklist(self.answers(), self.chosen_overrides())


class IntentionDialog(ActionDialog):
    ok_text = "Record intention"

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(runtime, "Intention", parent)
        self.body.addWidget(_muted("The patient's intention, in their own words."))
        self.text = QPlainTextEdit()
        self.text.setMinimumHeight(120)
        set_role(self.text, "large")
        self.body.addWidget(self.text)

    def apply(self) -> None:
        self.controller.set_intention(self.text.toPlainText())


class DoseDialog(ActionDialog):
    """Route, amount, weight, lot (and infusion time): mg/kg is computed from what is
    entered. The amount starts empty: kapdesk never proposes a dose.

    Routes are spelled out ("Intranasal (nasal spray)"); the protocol's code ("IN") is
    what is recorded. Recording asks first ("Record 60 mg intranasal (nasal spray), lot
    K-7731?"), after the entry has been checked, so staff never confirm a dose that is
    then refused. An error shown after a refused entry is checked again on every edit and
    clears once the entry is fixed.
    """

    ok_text = "Record dose"

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        number = len(runtime.controller.doses) + 1
        title = "Dose" if number == 1 else f"Booster (dose {number})"
        super().__init__(runtime, title, parent)
        self.number = number
        protocol = self.controller._require_protocol()
        self.protocol = protocol
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.body.addLayout(form)
        self.route = QComboBox()
        for code in protocol.dosing.routes:
            self.route.addItem(route_label(code), code)
        self.amount = QDoubleSpinBox(decimals=1, maximum=10000.0)
        self.amount.setSuffix(" mg")
        self.amount.setSpecialValueText("enter amount")
        self.amount.setMinimumWidth(160)
        weight = runtime.controller.patient.weight_kg if runtime.controller.patient else None
        self.weight = QDoubleSpinBox(decimals=1, maximum=500.0)
        self.weight.setSuffix(" kg")
        self.weight.setSpecialValueText("\u2014")
        self.weight.setValue(weight or 0.0)
        self.per_kg = QLabel("\u2014")
        set_role(self.per_kg, "emphasis")
        self.lot = QLineEdit(placeholderText="Lot number")
        form.addRow("Route", self.route)
        form.addRow("Amount", self.amount)
        form.addRow("Body weight", self.weight)
        form.addRow("mg/kg", self.per_kg)
        form.addRow("Lot", self.lot)
        self.infusion: QDoubleSpinBox | None = None
        if protocol.dosing.infusion:
            self.infusion = QDoubleSpinBox(decimals=0, maximum=600.0)
            self.infusion.setSuffix(" min")
            form.addRow("Infusion over", self.infusion)
        self.note = QLineEdit(placeholderText="Optional note")
        form.addRow("Note", self.note)
        self.body.addWidget(
            _muted(
                "Amount as prescribed and entered by staff; kapdesk only computes mg/kg "
                "from it. You confirm before it is recorded."
            )
        )
        self.amount.valueChanged.connect(self._per_kg)
        self.weight.valueChanged.connect(self._per_kg)
        for signal in (
            self.route.currentIndexChanged,
            self.amount.valueChanged,
            self.weight.valueChanged,
            self.lot.textChanged,
            self.note.textChanged,
        ):
            signal.connect(self._recheck)
        if self.infusion is not None:
            self.infusion.valueChanged.connect(self._recheck)

    def _per_kg(self) -> None:
        a, w = self.amount.value(), self.weight.value()
        self.per_kg.setText(f"{mg_per_kg(a, w):.3f} mg/kg" if a > 0 and w > 0 else "\u2014")

    def route_code(self) -> str:
        """The recorded code of the chosen route ("IN")."""
        return str(self.route.currentData())

    def entry(self) -> Dose:
        """The dose as entered, checked as the controller will check it (the checklist
        for a first dose, then every field); raises with the reason when it would be
        refused."""
        return self.controller.check_dose(
            self.route_code(),
            self.amount.value(),
            self.lot.text(),
            self.weight.value() or None,
            (self.infusion.value() or None) if self.infusion else None,
            self.note.text(),
        )

    def _recheck(self) -> None:
        """Once an error is shown, keep it true: update it on every edit, and clear it
        as soon as the entry is fixed."""
        if not self.error.text():
            return
        try:
            self.entry()
        except (ValueError, RuntimeError, KeyError) as e:
            self.error.setText(str(e).strip("'\""))
        else:
            self.error.setText("")

    def confirmation_text(self, dose: Dose) -> str:
        what = "booster" if dose.booster else "dose"
        lot = f"lot {dose.lot}" if dose.lot else "no lot number"
        over = f" over {dose.infusion_min:g} min" if dose.infusion_min else ""
        return (
            f"Record {dose.amount_mg:g} mg {route_phrase(dose.route)}{over}, {lot}?\n\n"
            f"{dose.mg_per_kg:.3f} mg/kg at {dose.weight_kg:g} kg; {what} {dose.number} "
            "of this session. It is recorded with the time and cannot be undone."
        )

    def confirm(self, dose: Dose) -> bool:
        """Ask before recording (Yes/No, No by default: a second Enter does not record)."""
        answer = QMessageBox.question(
            self,
            "Record this dose?",
            self.confirmation_text(dose),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def accept(self) -> None:
        try:
            dose = self.entry()
        except (ValueError, RuntimeError, KeyError) as e:
            self.error.setText(str(e).strip("'\""))
            return
        if not self.confirm(dose):
            self.error.setText("")
            return
        super().accept()

    def apply(self) -> None:
        self.dose = self.controller.give_dose(
            self.route_code(),
            self.amount.value(),
            lot=self.lot.text(),
            weight_kg=self.weight.value() or None,
            infusion_min=(self.infusion.value() or None) if self.infusion else None,
            note=self.note.text(),
        )


class ScaleForm(QWidget):
    """One radio-button group per item of a scale."""

    def __init__(self, scale: Scale, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = scale
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.groups: dict[str, QButtonGroup] = {}
        for item in scale.items:
            box = QGroupBox(item.label)
            bl = QVBoxLayout(box)
            bl.setSpacing(2)
            group = QButtonGroup(self)
            for opt in item.options:
                rb = QRadioButton(f"{opt.score}  \u2014  {opt.text}")
                group.addButton(rb, opt.score)
                bl.addWidget(rb)
            self.groups[item.id] = group
            lay.addWidget(box)

    def set_answer(self, item_id: str, score: int) -> None:
        button = self.groups[item_id].button(score)
        if button is None:
            raise KeyError(f"{item_id} has no option {score}")
        button.setChecked(True)

    def answers(self) -> dict[str, int]:
        return {k: g.checkedId() for k, g in self.groups.items() if g.checkedId() >= 0}


class CheckDialog(ActionDialog):
    """The result of a scheduled check: a blood pressure, or a rating on a scale."""

    def __init__(self, runtime: Runtime, check_id: str, parent: QWidget | None = None) -> None:
        protocol = runtime.controller._require_protocol()
        self.check = protocol.check(check_id)
        super().__init__(runtime, self.check.label, parent)
        self.scale_form: ScaleForm | None = None
        if self.check.kind is CheckKind.BP:
            last_sys = runtime.trends.last("nibp_systolic")
            last_dia = runtime.trends.last("nibp_diastolic")
            self.systolic = _spin(300, "mmHg", last_sys[1] if last_sys else None)
            self.diastolic = _spin(200, "mmHg", last_dia[1] if last_dia else None)
            form = QFormLayout()
            form.addRow("Systolic", self.systolic)
            form.addRow("Diastolic", self.diastolic)
            self.body.addLayout(form)
            if last_sys is not None:
                when = time_text.clock_time_s(last_sys[0])
                self.body.addWidget(_muted(f"Filled in from the monitor's reading at {when}."))
        else:
            scale = runtime.controller.scales[str(self.check.scale)]
            if scale.description:
                self.body.addWidget(_muted(scale.description))
            self.scale_form = ScaleForm(scale)
            self.body.addWidget(self.scale_form)
        self.note = QLineEdit(placeholderText="Optional note")
        self.body.addWidget(self.note)

    def apply(self) -> None:
        if self.scale_form is None:
            self.controller.record_check(
                self.check.id,
                systolic=self.systolic.value() or None,
                diastolic=self.diastolic.value() or None,
                note=self.note.text(),
            )
        else:
            self.controller.record_check(
                self.check.id, answers=self.scale_form.answers(), note=self.note.text()
            )


class NoteDialog(ActionDialog):
    ok_text = "Record note"

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(runtime, "Note", parent)
        self.text = QPlainTextEdit()
        self.text.setMinimumHeight(100)
        self.body.addWidget(self.text)
        self.body.addWidget(_muted("Recorded with the time and the current phase."))

    def apply(self) -> None:
        self.controller.note(self.text.toPlainText())


class DischargeDialog(ActionDialog):
    """Recovery score, vitals against the pre-dose values, minimum observation, ride home;
    every unmet criterion needs a medical override with a reason."""

    ok_text = "Discharge"

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(runtime, "Discharge", parent)
        protocol = self.controller._require_protocol()
        columns = QHBoxLayout()
        columns.setSpacing(18)
        self.body.addLayout(columns, 1)
        left = QVBoxLayout()
        columns.addLayout(left, 1)
        scale = self.controller.scales[protocol.discharge.score_scale]
        title = QLabel(f"{scale.name} — discharge at ≥ {protocol.discharge.score_min}")
        title.setWordWrap(True)
        set_role(title, "emphasis")
        left.addWidget(title)
        self.score_form = ScaleForm(scale)
        left.addWidget(self.score_form)
        left.addStretch(1)
        for group in self.score_form.groups.values():
            group.idToggled.connect(lambda *_: self.refresh())
        right = QVBoxLayout()
        columns.addLayout(right, 1)
        self.ride_home = QCheckBox(
            "Ride home confirmed (adult escort; no driving until the next day)"
        )
        self.ride_home.toggled.connect(self.refresh)
        right.addWidget(self.ride_home)
        self.criteria_box = QGroupBox("Criteria")
        self.criteria_layout = QGridLayout(self.criteria_box)
        right.addWidget(self.criteria_box)
        self.criterion_labels: dict[str, QLabel] = {}
        self.overrides: dict[str, OverrideRow] = {}
        self.staff = StaffFields(runtime.controller.actor())
        right.addWidget(self.staff)
        self.note = QLineEdit(placeholderText="Optional discharge note")
        right.addWidget(self.note)
        right.addStretch(1)
        self.vitals_override: dict[str, float] | None = None
        self.refresh()

    def current_vitals(self) -> dict[str, float]:
        """Latest values from the monitors (tests may set ``vitals_override``)."""
        if self.vitals_override is not None:
            return dict(self.vitals_override)
        return self.runtime.current_vitals()

    def _answers(self) -> dict[str, int] | None:
        answers = self.score_form.answers()
        return answers if len(answers) == len(self.score_form.scale.items) else None

    def assessment(self) -> DischargeAssessment:
        return self.controller.assess_discharge(
            self._answers(), self.ride_home.isChecked(), self.current_vitals()
        )

    def refresh(self) -> None:
        assessment = self.assessment()
        for c in assessment.criteria:
            if c.id not in self.criterion_labels:
                row = self.criteria_layout.rowCount()
                label = QLabel()
                label.setWordWrap(True)
                label.setTextFormat(Qt.TextFormat.RichText)
                self.criterion_labels[c.id] = label
                self.criteria_layout.addWidget(label, row, 0)
                ov = OverrideRow()
                self.overrides[c.id] = ov
                self.criteria_layout.addWidget(ov, row + 1, 0)
            mark = "\u2713" if c.met else "\u25cb"
            label = self.criterion_labels[c.id]
            label.setText(f"{mark} <b>{escape(c.label)}</b>: {escape(c.detail)}")
            set_role(label, _status_role(c.met))
            self.overrides[c.id].setVisible(not c.met)

    def chosen_overrides(self) -> list[Override]:
        return [
            self.staff.override(cid, row.reason.text().strip())
            for cid, row in self.overrides.items()
            if row.enabled.isChecked() and row.isVisibleTo(self)
        ]

    def apply(self) -> None:
        answers = self._answers()
        if answers is None:
            raise ValueError(f"score every item of the {self.score_form.scale.name}")
        self.assessed = self.controller.discharge(
            answers,
            self.ride_home.isChecked(),
            self.current_vitals(),
            self.chosen_overrides(),
            note=self.note.text(),
        )


def set_scale_answers(form: ScaleForm, answers: Mapping[str, int]) -> None:
    """Tick the given options (tests and keyboard shortcuts)."""
    for item_id, score in answers.items():
        form.set_answer(item_id, score)
