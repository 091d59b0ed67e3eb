"""The patient record: name or pseudonym, date of birth, weight, baseline vitals, notes,
and the care team (the therapists who read the patient's shared journal entries).

Kept to what a dosing session needs. Empty numbers mean "not recorded" (0 in a spin box
shows as a dash), never a value of zero. Saving goes through the recorder's writer
thread, like every other write.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain.access import Role
from kapdesk.domain.patients import Patient
from kapdesk.storage.patients import PatientDirectory
from kapdesk.ui.common.theme import set_role, styled_label

#: Baseline channels asked for, with their label, unit and plausible range.
BASELINE_FIELDS = (
    ("heart_rate", "Resting heart rate", "/min", (20, 250)),
    ("nibp_systolic", "Resting systolic BP", "mmHg", (50, 260)),
    ("nibp_diastolic", "Resting diastolic BP", "mmHg", (20, 160)),
    ("spo2", "Resting SpO2", "%", (50, 100)),
)


def _unset_spin(box: QSpinBox | QDoubleSpinBox, suffix: str) -> None:
    box.setSpecialValueText("\u2014")  # shown at the minimum (0): not recorded
    box.setSuffix(f" {suffix}")
    box.setMinimumWidth(140)


class PatientDialog(QDialog):
    """Create a patient, or edit one (``patient`` given); ``saved`` holds the result."""

    def __init__(
        self,
        patients: PatientDirectory,
        patient: Patient | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.patients = patients
        self.original = patient
        self.saved: Patient | None = None
        self.setWindowTitle("Edit patient" if patient else "New patient")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        form.setVerticalSpacing(10)
        lay.addLayout(form)
        self.name = QLineEdit(placeholderText="Name or pseudonym")
        self.dob = QLineEdit(placeholderText="YYYY-MM-DD (optional)")
        self.weight = QDoubleSpinBox(decimals=1, maximum=500.0)
        _unset_spin(self.weight, "kg")
        form.addRow("Name or pseudonym", self.name)
        form.addRow("Date of birth", self.dob)
        form.addRow("Body weight", self.weight)
        self.baseline: dict[str, QSpinBox] = {}
        for channel, label, unit, (_low, high) in BASELINE_FIELDS:
            box = QSpinBox(maximum=high)
            _unset_spin(box, unit)
            self.baseline[channel] = box
            form.addRow(label, box)
        self.allergies = QLineEdit(placeholderText="None known")
        self.medications = QPlainTextEdit(placeholderText="Concomitant medications")
        self.medications.setFixedHeight(64)
        self.notes = QPlainTextEdit(placeholderText="Notes")
        self.notes.setFixedHeight(64)
        form.addRow("Allergies", self.allergies)
        form.addRow("Medications", self.medications)
        form.addRow("Notes", self.notes)
        self.care_team = self._care_team_list(patient)
        form.addRow("Care team", self.care_team)
        hint = styled_label("Ticked therapists read the entries the patient shares.", "muted")
        hint.setWordWrap(True)
        form.addRow("", hint)
        self.error = styled_label("", "error")
        set_role(self.error, "error")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        if patient is not None:
            self._fill(patient)

    def _care_team_list(self, patient: Patient | None) -> QListWidget:
        """A tick per therapist account: ticked ones read the shared journal entries. A
        new patient starts with the signed-in therapist ticked (they join anyway)."""
        box = QListWidget()
        box.setToolTip("Therapists in the care team read the patient's shared journal entries")
        members = set(self.patients.care_team(patient.id)) if patient and patient.id else set()
        if patient is None:
            actor = self.patients.who() if self.patients.who else None
            if actor is not None and actor.has(Role.THERAPIST):
                members.add(actor.who)
        for username, name in self.patients.therapists():
            item = QListWidgetItem(f"{name} ({username})")
            item.setData(Qt.ItemDataRole.UserRole, username)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = username in members
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            box.addItem(item)
        rows = min(max(box.count(), 1), 3)  # three at most; more scroll
        row_h = box.sizeHintForRow(0) if box.count() else box.fontMetrics().height() + 12
        box.setFixedHeight(rows * row_h + 2 * box.frameWidth() + 4)
        return box

    def care_team_members(self) -> list[str]:
        """The ticked usernames."""
        out = []
        for i in range(self.care_team.count()):
            item = self.care_team.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def _fill(self, p: Patient) -> None:
        self.name.setText(p.display_name)
        self.dob.setText(p.date_of_birth.isoformat() if p.date_of_birth else "")
        self.weight.setValue(p.weight_kg or 0.0)
        for channel, box in self.baseline.items():
            box.setValue(round(p.baseline.get(channel, 0)))
        self.allergies.setText(p.allergies)
        self.medications.setPlainText(p.medications)
        self.notes.setPlainText(p.notes)

    def patient(self) -> Patient:
        """The record as entered; ValueError says what is wrong."""
        dob_text = self.dob.text().strip()
        try:
            dob = date.fromisoformat(dob_text) if dob_text else None
        except ValueError:
            raise ValueError(f"date of birth {dob_text!r} is not YYYY-MM-DD") from None
        if dob is not None and dob > date.today():
            raise ValueError("the date of birth is in the future")
        baseline = {ch: float(b.value()) for ch, b in self.baseline.items() if b.value() > 0}
        for channel, label, _unit, (low, high) in BASELINE_FIELDS:
            if channel in baseline and not low <= baseline[channel] <= high:
                raise ValueError(f"{label} must be {low}-{high}")
        return Patient(
            display_name=self.name.text().strip(),
            date_of_birth=dob,
            weight_kg=self.weight.value() or None,
            allergies=self.allergies.text().strip(),
            medications=self.medications.toPlainText().strip(),
            notes=self.notes.toPlainText().strip(),
            baseline=baseline,
            id=self.original.id if self.original else None,
            uid=self.original.uid if self.original else "",
        )

    def accept(self) -> None:
        try:
            patient = self.patient()
            if patient.id is None:
                self.patients.add(patient)
            else:
                self.patients.update(patient)
            if patient.id is not None and self.care_team.count():
                self.patients.set_care_team(patient.id, self.care_team_members())
        except ValueError as e:
            self.error.setText(str(e))
            return
        self.saved = patient
        super().accept()
